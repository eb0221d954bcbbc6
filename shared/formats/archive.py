"""``.zip`` uploads: one data file inside, streamed out with a bound on its size.

Refused, each with its own code: an archive that cannot be read (``archive-unreadable``), that
holds no file or more than one (``archive-members``; folders and the ``__MACOSX/`` entries a Mac
adds are not files), an archive inside the archive (``archive-nested``), an encrypted member
(``archive-encrypted``), and a member that unpacks to more than the bound
(``archive-too-large``), whether the archive declares it or it only shows while unpacking (a
zip bomb lies about its sizes): the bound is counted as the member is read, never trusted.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import BinaryIO

from shared.catalog.models import Severity
from shared.issues import Issue

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!",
                 b"BZh", b"\xfd7zXZ")
ARCHIVE_EXTENSIONS = (".zip", ".gz", ".tgz", ".7z", ".rar", ".bz2", ".xz", ".tar", ".jar",
                      ".xlsx", ".xlsm", ".docx")


def issue(code: str, message: str) -> Issue:
    """An issue about the archive as a whole."""
    return Issue(row=None, field=None, field_name=None, code=code, severity=Severity.FATAL,
                 message=message)


def is_zip(head: bytes) -> bool:
    """Whether the bytes start like a zip archive."""
    return head.startswith(ZIP_MAGIC)


def data_member(archive: zipfile.ZipFile, max_bytes: int) -> tuple[zipfile.ZipInfo | None,
                                                                  list[Issue]]:
    """The one data file of the archive, or why there is none edcs will read."""
    files = [i for i in archive.infolist()
             if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    if len(files) != 1:
        return None, [issue("archive-members",
                            f"The .zip file holds {len(files)} files; it must hold exactly one "
                            "data file.")]
    info = files[0]
    if info.flag_bits & 0x1:
        return None, [issue("archive-encrypted",
                            "The file inside the .zip is encrypted (password protected); "
                            "upload it without a password.")]
    if info.filename.lower().endswith(ARCHIVE_EXTENSIONS):
        return None, [issue("archive-nested",
                            "The .zip holds another archive or workbook; it must hold the data "
                            "file itself.")]
    if info.file_size > max_bytes:
        return None, [too_large(max_bytes)]
    try:
        with archive.open(info) as member:
            head = member.read(8)
    except (zipfile.BadZipFile, NotImplementedError, zlib.error, EOFError, OSError):
        return None, [unreadable()]
    if head.startswith(ARCHIVE_MAGIC):
        return None, [issue("archive-nested",
                            "The .zip holds another archive; it must hold the data file "
                            "itself.")]
    return info, []


def too_large(max_bytes: int) -> Issue:
    """The member unpacks to more than the bound."""
    return issue("archive-too-large",
                 f"The file inside the .zip unpacks to more than {max_bytes:,} bytes, the "
                 "limit edcs unpacks; it was not read.")


def unreadable() -> Issue:
    """The archive is damaged or uses something edcs cannot unpack."""
    return issue("archive-unreadable",
                 "The .zip file cannot be unpacked (it is damaged, or uses a compression "
                 "method edcs does not read); zip it again with the standard method.")


class Bounded(io.RawIOBase):
    """A member's stream that ends (and says why) when it passes ``limit`` bytes or breaks."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        super().__init__()
        self._raw = raw
        self._left = limit
        self._limit = limit
        self.problem: Issue | None = None

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()
        super().close()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.problem is not None:
            return 0
        try:
            chunk = self._raw.read(min(len(buffer), self._left + 1))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
            self.problem = unreadable()
            return 0
        if len(chunk) > self._left:
            self.problem = too_large(self._limit)
            return 0
        self._left -= len(chunk)
        buffer[:len(chunk)] = chunk
        return len(chunk)


def open_member(stream: BinaryIO, max_bytes: int) -> tuple[Bounded | None, str | None,
                                                           list[Issue]]:
    """The archive's data file as a bounded stream, and its name."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        return None, None, [unreadable()]
    info, problems = data_member(archive, max_bytes)
    if info is None:
        return None, None, problems
    return Bounded(archive.open(info), max_bytes), info.filename, []  # type: ignore[arg-type]
