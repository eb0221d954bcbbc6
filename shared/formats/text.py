"""Text encodings of uploads: UTF-8 (with or without a BOM) and UTF-16 (LE or BE).

Every reader downstream works on UTF-8 bytes, so a UTF-16 file is transcoded as it is read, a
chunk at a time (never held whole). A UTF-16 file without a BOM is recognised by its NUL bytes:
text of Latin letters and digits in UTF-16 has a NUL in every other byte. Bytes that are not
valid in the file's encoding stay invalid after transcoding (a lone surrogate becomes bytes that
are not UTF-8), so the reader reports them at their row and column like any other bad byte.
"""

from __future__ import annotations

import codecs
import io
from typing import BinaryIO

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_LE_BOM = b"\xff\xfe"
UTF16_BE_BOM = b"\xfe\xff"
CHUNK = 1 << 20
UTF8 = "utf-8"
UTF16_LE = "utf-16-le"
UTF16_BE = "utf-16-be"


def detect_encoding(head: bytes) -> str:
    """The encoding of a file from its first bytes: its BOM, or the NUL pattern of UTF-16."""
    if head.startswith(UTF16_LE_BOM):
        return UTF16_LE
    if head.startswith(UTF16_BE_BOM):
        return UTF16_BE
    if head.startswith(UTF8_BOM):
        return UTF8
    sample = head[:4096]
    half = len(sample) // 2
    if half < 2:
        return UTF8
    even_nul = sample[0::2].count(0)
    odd_nul = sample[1::2].count(0)
    guess = (UTF16_LE if odd_nul >= 0.9 * half and even_nul <= 0.1 * half
             else UTF16_BE if even_nul >= 0.9 * half and odd_nul <= 0.1 * half else UTF8)
    if guess != UTF8:  # text, not a binary file that happens to alternate NULs
        text = sample[:half * 2].decode(guess, "replace")
        if sum(c.isprintable() or c in "\t\r\n" for c in text) < 0.9 * len(text):
            return UTF8
    return guess


def decode_head(head: bytes, encoding: str) -> bytes:
    """The first bytes of a file as UTF-8 (a cut character at the end dropped)."""
    if encoding == UTF8:
        return head
    text = codecs.getincrementaldecoder(encoding)("replace").decode(head, final=False)
    return text.encode(UTF8, "replace")


class _Transcoder(io.RawIOBase):
    """A UTF-16 stream read as UTF-8 bytes."""

    def __init__(self, raw: BinaryIO, encoding: str) -> None:
        super().__init__()
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)("surrogatepass")
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self._pending and not self._done:
            chunk = self._raw.read(CHUNK)
            if chunk:
                text = self._decoder.decode(chunk)
            else:
                self._done = True
                try:
                    text = self._decoder.decode(b"", final=True)
                except UnicodeDecodeError:  # an odd byte at the very end
                    self._pending = b"\xff"  # not UTF-8: reported at the last row
                    return
            self._pending = text.encode(UTF8, "surrogatepass")

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        self._fill()
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def as_utf8(raw: BinaryIO, encoding: str) -> BinaryIO:
    """The stream as UTF-8 bytes: itself when it is UTF-8, else transcoded as it is read."""
    if encoding == UTF8:
        return raw
    return io.BufferedReader(_Transcoder(raw, encoding), CHUNK)
