"""How downloads are written: csv, txt (caret-delimited) and xml, safely.

- **Formula injection**: a spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``
  (or a tab or carriage return) as a formula. Every cell of every csv and txt download that
  starts so, and is not a plain number (``-1`` and ``+5`` stay as they are, so EDFacts' ``-1``
  survives a round trip), is written with a leading apostrophe (OWASP's advice), which a
  spreadsheet shows as text. The apostrophe then stays in a value uploaded again: such a value
  was not a valid code or id to begin with.
- **File names**: ``Content-Disposition`` carries an ASCII ``filename`` (anything else, and
  quotes and backslashes, become ``_``) and the exact name as ``filename*`` (RFC 6266 and
  RFC 5987/8187), so ``unié中.csv`` and ``a"b.csv`` download under their own names.
- **XML**: element names are the layout's field names; text is escaped.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import quote
from xml.sax.saxutils import escape

FORMATS = ("csv", "txt", "xml")
DELIMITERS = {"csv": ",", "txt": "^"}
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "txt": "text/plain; charset=utf-8",
               "xml": "application/xml; charset=utf-8"}
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_RISKY = ("=", "+", "-", "@", "\t", "\r")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell(value: object) -> str:
    """A value as a csv/txt cell a spreadsheet will not run."""
    text = "" if value is None else str(value)
    if text.startswith(_RISKY) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def content_disposition(filename: str, kind: str = "attachment") -> str:
    """The header that names a download, for every browser and every name."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback or 'download'}\"; filename*=UTF-8''" + quote(
        filename, safe="")


def delimited(rows: Iterable[Sequence[object]], fmt: str,
              header: Sequence[str] | None = None, chunk: int = 2000) -> Iterator[str]:
    """Rows as CRLF-ended csv or caret lines, a chunk of rows at a time, every cell safe."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITERS[fmt], lineterminator="\r\n")
    if header is not None:
        writer.writerow([cell(h) for h in header])
    for count, row in enumerate(rows, 1):
        writer.writerow([cell(v) for v in row])
        if count % chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue()


def xml_text(value: object) -> str:
    """Text that XML can hold, escaped."""
    return escape(_XML_BAD.sub("", "" if value is None else str(value)))


def xml_document(root: str, item: str, names: Sequence[str],
                 rows: Iterable[Sequence[object]], attributes: dict[str, str] | None = None,
                 chunk: int = 500) -> Iterator[str]:
    """Rows as ``<root><item><name>value</name>…</item>…</root>``, a chunk at a time."""
    attrs = "".join(f' {k}="{xml_text(v)}"' for k, v in (attributes or {}).items())
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}{attrs}>\n']
    for count, row in enumerate(rows, 1):
        parts.append(f"  <{item}>" + "".join(
            f"<{n}>{xml_text(v)}</{n}>" for n, v in zip(names, row, strict=True))
            + f"</{item}>\n")
        if count % chunk == 0:
            yield "".join(parts)
            parts = []
    parts.append(f"</{root}>\n")
    yield "".join(parts)


def xml_name(name: str) -> str:
    """A field name as an XML element name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"_{cleaned}"
