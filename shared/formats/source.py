"""Read a file's records whatever its format: the one entry point of ingest and ``edcs validate``.

``detect`` (shared.formats.detect) says what the file is; ``read_file`` streams its records
(shared.reader.RawRecord, each with its physical row and issues) from the file, or from the one
data file of a ``.zip``, transcoding UTF-16 as it goes. Nothing here holds the file whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from shared.catalog.models import Layout
from shared.formats import archive, edfacts, xlsx, xmlrec
from shared.formats.detect import Format
from shared.formats.text import as_utf8
from shared.reader import MAX_ROW_BYTES, RawRecord, read_records


def read_file(stream: BinaryIO, layout: Layout, fmt: Format, *,
              max_row_bytes: int = MAX_ROW_BYTES,
              max_unpacked: int = 2_000_000_000) -> Iterator[RawRecord]:
    """Every record of the file, in file order."""
    stream.seek(0)
    if fmt.kind == "xlsx":
        yield from xlsx.read_workbook(stream, layout)
        return
    data: BinaryIO = stream
    member: archive.Bounded | None = None
    if fmt.zipped:
        member, _, problems = archive.open_member(stream, max_unpacked)
        if member is None:  # checked at intake; the stored bytes cannot have changed
            yield RawRecord(1, None, problems)
            return
        data = member  # type: ignore[assignment]
    last = 0
    for record in _records(data, layout, fmt, max_row_bytes):
        last = record.row
        yield record
    if member is not None:
        member.close()
        if member.problem is not None:
            yield RawRecord(last + 1, None, [member.problem])


def _records(data: BinaryIO, layout: Layout, fmt: Format,
             max_row_bytes: int) -> Iterator[RawRecord]:
    if fmt.kind == "xml":
        return xmlrec.read_xml(data, layout)
    text = as_utf8(data, fmt.encoding)
    if layout.framing.header_record is None:
        return read_records(text, layout, fmt.delimiter, max_row_bytes,
                            skip_lines=fmt.skip_lines)
    count = edfacts.RecordCount(layout, fmt.delimiter)
    return edfacts.counted(read_records(text, layout, fmt.delimiter, max_row_bytes,
                                        skip_lines=fmt.skip_lines, on_header=count), count)
