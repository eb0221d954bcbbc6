"""What a file is, from its bytes (and its name, where the seed makes the name a rule).

One answer for the web upload, ``edcs validate`` and the ingest worker, so all three read a
file the same way: a ``.zip`` (its one data file is looked at instead), an Excel workbook, XML,
or text in UTF-8 or UTF-16, then fixed width or delimited (which delimiter), after an Oregon
Type A header if the file has one. The file name is checked only where it is known (intake and
offline; ingest re-detects from the stored bytes alone).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import BinaryIO, Literal

from shared.catalog.models import Collection, Layout
from shared.formats import archive, typea
from shared.formats.text import UTF8, UTF8_BOM, decode_head, detect_encoding
from shared.issues import Issue
from shared.reader import BOM, SNIFF_BYTES, file_issue, first_line, sniff

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, or an encrypted workbook
Kind = Literal["delimited", "fixed", "xml", "xlsx"]


@dataclass(frozen=True)
class Format:
    """How to read a file: its kind, encoding, delimiter, container and lines before the data."""

    kind: Kind
    encoding: str = UTF8
    delimiter: str | None = None
    zipped: bool = False
    skip_lines: int = 0  # an Oregon Type A header

    def describe(self) -> str:
        """In words, for the job's history ("fixed width, UTF-16-LE, from a .zip")."""
        shown = {",": "comma", "^": "caret", "\t": "tab"}
        words = {"delimited": f"{shown.get(self.delimiter or '', self.delimiter)}-delimited",
                 "fixed": "fixed width", "xml": "XML", "xlsx": "Excel workbook"}[self.kind]
        if self.encoding != UTF8:
            words += f", {self.encoding.upper()}"
        if self.skip_lines:
            words += ", Type A header"
        return words + (", from a .zip" if self.zipped else "")


def allowed_extensions(layout: Layout) -> tuple[str, ...]:
    """Every upload extension the layout's seed allows."""
    framing = layout.framing
    extra = (".xml",) * framing.xml + (".xlsx",) * framing.xlsx
    return tuple(dict.fromkeys((*framing.extensions, *extra)))


def framing_words(layout: Layout) -> str:
    """The formats a collection's files may have, in words."""
    framing = layout.framing
    shown = {",": "comma", "^": "caret", "\t": "tab"}
    words = ["/".join(shown.get(d, d) for d in framing.delimiters) + "-delimited"]
    if framing.header_record is not None:
        words[0] += " with the header record"
    else:
        words[0] += ", header row" if framing.header else ", no header"
    if framing.fixed_width is not None:
        words.append(f"fixed width {framing.fixed_width}")
    words += ["XML"] * framing.xml + ["xlsx"] * framing.xlsx
    words += [".zip of one file"] * (".zip" in framing.extensions)
    words += ["Type A header"] * framing.type_a
    return "; ".join(words)


def _extension(filename: str | None) -> str:
    return PurePosixPath(filename or "").suffix.lower()


@dataclass(frozen=True)
class Detected:
    """The outcome of detection: the format (None when unreadable), why not, and the file's
    first bytes as UTF-8 text after any Type A header (for the intake's header checks)."""

    format: Format | None
    issues: list[Issue]
    head: bytes = b""
    head_row: int = 1  # the physical row of the first line of ``head``
    data_name: str | None = None  # the file's name, or its member's inside a .zip
    complete: bool = False  # ``head`` is the whole file (or the whole member of a .zip)


def detect(stream: BinaryIO, layout: Layout, collection: Collection, *,
           filename: str | None = None, institution_id: str | None = None,
           max_unpacked: int = 2_000_000_000) -> Detected:
    """How to read the file, or every reason it cannot be read as this collection."""
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    if archive.is_zip(head):
        from shared.formats import xlsx  # imported only for workbooks

        if xlsx.is_workbook(stream):
            return _workbook(stream, layout, filename, max_unpacked)
        if not zipfile.is_zipfile(stream):
            return Detected(None, [archive.unreadable()])
        if ".zip" not in layout.framing.extensions:
            return Detected(None, [file_issue(
                "unsupported-format", f"{collection.code} files cannot be sent as a .zip; "
                                      f"upload the {_listed(layout)} file itself.")])
        member, name, problems = archive.open_member(stream, max_unpacked)
        if member is None:
            return Detected(None, problems)
        with member:
            head = member.read(SNIFF_BYTES)
        found = _detect_plain(head, layout, collection, name, institution_id)
        if found.format is None:
            return found
        return replace(found, format=replace(found.format, zipped=True), data_name=name)
    return _detect_plain(head, layout, collection, filename, institution_id)


def _listed(layout: Layout) -> str:
    return ", ".join(e for e in allowed_extensions(layout) if e != ".zip")


def _workbook(stream: BinaryIO, layout: Layout, filename: str | None,
              max_unpacked: int) -> Detected:
    from shared.formats import xlsx

    ext = _extension(filename)
    if not layout.framing.xlsx or (ext and ext != ".xlsx"):
        return Detected(None, [file_issue(
            "unsupported-format", f"This is an Excel workbook ({ext or 'no extension'}); "
                                  f"this collection takes {_listed(layout)} files.")])
    problems = xlsx.check_workbook(stream, max_unpacked)
    return Detected(None if problems else Format(kind="xlsx"), problems, data_name=filename)


def _detect_plain(head: bytes, layout: Layout, collection: Collection, filename: str | None,
                  institution_id: str | None) -> Detected:
    """A file that is not an archive: XML or text, and how its text is framed."""
    if not head.removeprefix(BOM).strip():
        return Detected(None, [file_issue("empty-file", "The file has no records.")])
    if head.startswith(OLE_MAGIC):
        return Detected(None, [file_issue(
            "unsupported-format", "This is an old-style Excel (.xls) or a password-protected "
                                  f"workbook; this collection takes {_listed(layout)} files.")])
    ext = _extension(filename)
    if ext and ext not in allowed_extensions(layout):
        return Detected(None, [file_issue(
            "unsupported-extension", f"Files with the extension {ext} are not accepted for "
                                     f"{collection.code}; use {_listed(layout)}.")])
    encoding = detect_encoding(head)
    text = decode_head(head, encoding).removeprefix(UTF8_BOM)
    if text.lstrip().startswith(b"<"):
        if not layout.framing.xml:
            return Detected(None, [file_issue(
                "unsupported-format", f"This is an XML file; {collection.code} takes "
                                      f"{_listed(layout)} files.")])
        return Detected(Format(kind="xml", encoding=encoding), [], data_name=filename)
    lines = text.splitlines()
    first = first_line(lines)[1]
    skip = 0
    if typea.starts_type_a(first):
        header, problems = typea.parse(lines)
        if header is None:
            return Detected(None, problems)
        problems = typea.check(header, layout, collection, institution_id)
        if problems:
            return Detected(None, problems)
        skip = header.lines
        text = b"\n".join(lines[skip:])
    delimiter, problems = sniff(text, layout)
    if problems:
        return Detected(None, problems)
    first = first_line(text.splitlines())[1]
    fixed = _is_fixed(layout, first.decode("utf-8", "replace"))
    fmt = Format(kind="fixed" if fixed else "delimited", encoding=encoding,
                 delimiter=None if fixed else _delimiter(layout, first, delimiter),
                 skip_lines=skip)
    return Detected(fmt, [], text, skip + 1, filename, complete=len(head) < SNIFF_BYTES)


def _is_fixed(layout: Layout, first: str) -> bool:
    """A layout with a fixed-width variant: fixed when the first line is not delimited (the
    EDFacts header record: its File Type is followed by blanks, not a delimiter)."""
    if layout.framing.fixed_width is None:
        return False
    header = layout.framing.header_record
    if header is not None and first.upper().startswith(header.file_type):
        rest = first[len(header.file_type):]
        return not rest[:1] or rest[:1] not in layout.framing.delimiters
    return not any(d in first for d in layout.framing.delimiters)


def _delimiter(layout: Layout, first: bytes, sniffed: str | None) -> str | None:
    header = layout.framing.header_record
    if header is None:
        return sniffed
    rest = first.decode("utf-8", "replace")[len(header.file_type):]
    return rest[:1] if rest[:1] in layout.framing.delimiters else sniffed
