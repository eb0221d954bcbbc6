"""Writing records in a collection's own upload formats (``edcs sample``).

Each format is what the reader takes back: delimited (with the header row or the EDFacts header
record where the layout has one), fixed width (fields blank-padded to their widths), XML (one
element per field, named as ``shared.formats.xmlrec.element_name``) and .xlsx (a row of column
names, then one row per record, written in openpyxl's streaming mode).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from shared.catalog.models import Layout
from shared.formats.xmlrec import element_name

FORMATS = ("csv", "caret", "tab", "fixed", "xml", "xlsx")
DELIMITERS = {"csv": ",", "caret": "^", "tab": "\t"}


def formats_of(layout: Layout) -> tuple[str, ...]:
    """The formats a layout's files may be written in."""
    framing = layout.framing
    found = [name for name, d in DELIMITERS.items() if d in framing.delimiters]
    found += ["fixed"] * (framing.fixed_width is not None)
    found += ["xml"] * framing.xml + ["xlsx"] * framing.xlsx
    return tuple(found)


def _header_record(layout: Layout, count: int, filename: str, fmt: str) -> str:
    header = layout.framing.header_record
    if header is None:
        raise ValueError(f"layout {layout.record_type} has no header record")
    values = {header.count_field: str(count), header.file_name_field: filename,
              header.period_field: "2025-2026"}
    cells = [header.file_type if i == 0 else values.get(f.name, "")
             for i, f in enumerate(header.fields)]
    cells[3] = cells[3] or "edcs sample"
    if fmt == "fixed":
        return "".join(v.ljust(f.max_length) for v, f in zip(cells, header.fields, strict=True))
    return DELIMITERS[fmt].join(cells)


def write_text(out: TextIO, layout: Layout, records: list[list[str]], fmt: str,
               filename: str) -> None:
    """Delimited, fixed-width or XML records to a text stream (CRLF line endings)."""
    if fmt == "xml":
        root = "CALPADSRecords" if layout.source.startswith("CALPADS") else "Records"
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\r\n<{root} FileType='
                  f"{quoteattr(layout.record_type)}>\r\n")
        for fields in records:
            cells = "".join(f"<{element_name(f.name)}>{escape(v)}</{element_name(f.name)}>"
                            for f, v in zip(layout.fields, fields, strict=True))
            out.write(f"  <Record>{cells}</Record>\r\n")
        out.write(f"</{root}>\r\n")
        return
    if layout.framing.header_record is not None:
        out.write(_header_record(layout, len(records), filename, fmt) + "\r\n")
    if fmt == "fixed":
        for fields in records:
            out.write("".join(v.ljust(f.max_length)
                              for v, f in zip(fields, layout.fields, strict=True)) + "\r\n")
        return
    writer = csv.writer(out, delimiter=DELIMITERS[fmt], lineterminator="\r\n")
    if layout.framing.header:
        writer.writerow([f.title for f in layout.fields])
    writer.writerows(records)


def write_xlsx(path: Path | io.BytesIO, layout: Layout, records: Iterable[list[str]]) -> None:
    """An .xlsx workbook: a row of the fields' titles, then the records (text cells)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(layout.record_type)
    sheet.append([f.title for f in layout.fields])
    for fields in records:
        sheet.append(fields)
    book.save(path)
