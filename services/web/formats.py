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
- **Speed**: an export reads records as the store holds them, JSON arrays of strings, a page at
  a time; ``delimited_json`` rewrites a page whose values need no care at all (no escapes,
  quotes, delimiters, line breaks or risky first characters: nearly every page) as text, in a
  few passes over the whole page, and sends any other page through ``delimited``, value by
  value. Both give the same bytes (tests/unit/test_web_formats.py). ``xml_json`` does the same
  for xml: a page of plain strings goes through one template a row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import quote
from xml.sax.saxutils import escape

import msgspec

FORMATS = ("csv", "txt", "xml")
DELIMITERS = {"csv": ",", "txt": "^"}
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "txt": "text/plain; charset=utf-8",
               "xml": "application/xml; charset=utf-8"}
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_RISKY = ("=", "+", "-", "@", "\t", "\r")
_RISKY_BYTES = tuple(r.encode() for r in _RISKY if r != "\r")  # no \r in a plain page
_DECODER = msgspec.json.Decoder()
_TEXT_ROWS = msgspec.json.Decoder(list[list[str]])
# What a download hands on at a time, in characters. Every copy on the way to the socket (the
# encoding, the HTTP framing, the event loop's buffer) then runs within the CPU's cache: a
# 1,000,000-record csv export sent in pages of 1.2 MB took 6.2 / 7.1 s, in parts of 256 KiB
# 5.0 / 5.4 s (web app 4.8-5.8 -> 3.8-4.3 CPU s; docs/decisions.md "The web app maps the store").
PART = 256 * 1024
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


def json_rows(page: Sequence[str]) -> list[list[object]]:
    """A page of records held as JSON arrays, decoded (one decode for the page)."""
    rows: list[list[object]] = _DECODER.decode("[" + ",".join(page) + "]")
    return rows


def delimited_json(pages: Iterable[Sequence[str]], fmt: str,
                   header: Sequence[str] | None = None) -> Iterator[str]:
    """``delimited`` of rows held as JSON arrays of strings, a page of rows at a time (the
    same text, much faster for a page of plain values)."""
    if header is not None:
        yield from delimited([], fmt, header)
    for page in pages:
        if page:
            text = _plain_page(page, DELIMITERS[fmt]) or "".join(
                delimited(json_rows(page), fmt, chunk=len(page) + 1))
            for start in range(0, len(text), PART):
                yield text[start:start + PART]


def _plain_page(page: Sequence[str], delimiter: str) -> str | None:
    """The page as delimited lines, or None when a value needs care (``cell``, quoting,
    escapes) or a row is not a flat array of strings written as ``json`` or ``msgspec`` do.

    The rows are joined as they are, and three replacements make the lines: the first row's
    ``["`` and the last one's ``"]`` are cut, every ``"]["`` (one row's end, the next one's
    start) becomes a line break, and every separator (``", "``, or ``","``) the delimiter.
    Without a backslash every ``"`` delimits a string, so the quotes of a page of valid JSON
    rows run open, close, open, close ...; each replacement takes two quotes that are next to
    each other (none takes quotes across another's line break or delimiter), so when no quote
    is left they took every closing quote with the opening one after it: every row is exactly
    ``["v", "v", ...]`` (between two rows lies ``"]["``, and only there), and each value is
    what lies between. In csv, no value holds a comma when the commas are as many as the
    separators replaced.
    """
    text, mark = "".join(page).encode(), delimiter.encode()
    if (b"\\" in text or b"\r" in text or b"\n" in text or b'[""]' in text
            or (delimiter != "," and mark in text)
            or not (text.startswith(b'["') and text.endswith(b'"]'))):
        return None
    body = text[2:-2].replace(b'"]["', b"\r\n")
    separator = b'", "' if b'", "' in body else b'","'
    joined = body.replace(separator, mark)
    separators = (len(body) - len(joined)) // (len(separator) - 1)
    if b'"' in joined or (delimiter == "," and joined.count(b",") != separators):
        return None
    for risky in _RISKY_BYTES:
        if risky in joined and (joined.startswith(risky) or mark + risky in joined
                                or b"\n" + risky in joined):
            return None
    return joined.decode() + "\r\n"


def xml_text(value: object) -> str:
    """Text that XML can hold, escaped."""
    return escape(_XML_BAD.sub("", "" if value is None else str(value)))


def xml_document(root: str, item: str, names: Sequence[str],
                 rows: Iterable[Sequence[object]], attributes: dict[str, str] | None = None,
                 chunk: int = 500) -> Iterator[str]:
    """Rows as ``<root><item><name>value</name>…</item>…</root>``, a chunk at a time."""
    parts = [_xml_start(root, attributes)]
    for count, row in enumerate(rows, 1):
        parts.append(_xml_item(item, names, row))
        if count % chunk == 0:
            yield "".join(parts)
            parts = []
    parts.append(f"</{root}>\n")
    yield "".join(parts)


def xml_json(root: str, item: str, names: Sequence[str], pages: Iterable[Sequence[str]],
             attributes: dict[str, str] | None = None, chunk: int = 500) -> Iterator[str]:
    """``xml_document`` of rows held as JSON arrays of strings, a page at a time (the same
    text). A page with no value to escape (no ``&``, ``<``, ``>``, and no backslash, so no
    character XML cannot hold and no quote) whose rows are all as many strings as ``names``
    is written through one template a row, without looking at each value."""
    yield _xml_start(root, attributes)
    # one %s a value (NUL marks the places first: no element name holds one; a % is doubled)
    template = "".join([f"  <{item}>", *(f"<{n}>\0</{n}>" for n in names), f"</{item}>\n"]
                       ).replace("%", "%%").replace("\0", "%s")
    for page in pages:
        if not page:
            continue
        plain = _plain_rows(page, len(names))
        rows = json_rows(page) if plain is None else plain
        # ~2 KB of xml a record: 500 records (1 MB) at a time was faster end to end than whole
        # pages (10 MB) and than parts of 128 records (1,000,000 records: 18.2 s against
        # 15.5 s, one pair; each part is a hand-over from the thread to the event loop)
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            yield ("".join([template % tuple(row) for row in part]) if plain is not None
                   else "".join([_xml_item(item, names, row) for row in part]))
    yield f"</{root}>\n"


def _xml_start(root: str, attributes: dict[str, str] | None) -> str:
    attrs = "".join(f' {k}="{xml_text(v)}"' for k, v in (attributes or {}).items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}{attrs}>\n'


def _xml_item(item: str, names: Sequence[str], row: Sequence[object]) -> str:
    return (f"  <{item}>" + "".join(f"<{n}>{xml_text(v)}</{n}>"
                                    for n, v in zip(names, row, strict=True)) + f"</{item}>\n")


def _plain_rows(page: Sequence[str], width: int) -> list[list[str]] | None:
    """The page's rows when every value is a string XML takes as it is and every row has
    ``width`` of them; else None."""
    text = "[" + ",".join(page) + "]"
    if "\\" in text or "&" in text or "<" in text or ">" in text:
        return None
    try:
        rows = _TEXT_ROWS.decode(text)
    except msgspec.ValidationError:
        return None
    return rows if all(len(row) == width for row in rows) else None


def xml_name(name: str) -> str:
    """A field name as an XML element name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"_{cleaned}"
