"""shared/reader.py: framing of header-less SENR files (design.md §4b)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.reader import BOM, RawRecord, read_records, sniff
from tests.unit.senr_rows import INDEX, LAYOUT, line, senr_row

FIRST = INDEX["student_legal_first_name"]
LAST = INDEX["student_legal_last_name"]


def read(data: bytes) -> list[RawRecord]:
    """Sniff the head, then read every record, as ingest and `edcs validate` do."""
    delimiter, issues = sniff(data[:8192], LAYOUT)
    assert issues == []
    assert delimiter is not None
    return list(read_records(io.BytesIO(data), LAYOUT, delimiter))


def located(records: list[RawRecord]) -> list[tuple[int | None, str | None, str]]:
    return [(i.row, i.field, i.code) for r in records for i in r.issues]


def three_rows(end: str) -> bytes:
    return b"".join(line(senr_row(local_record_id=str(n)), end=end) for n in (1, 2, 3))


def test_crlf_and_lf_give_the_same_records() -> None:
    crlf, lf = read(three_rows("\r\n")), read(three_rows("\n"))
    assert [(r.row, r.fields) for r in crlf] == [(r.row, r.fields) for r in lf]
    assert [r.row for r in crlf] == [1, 2, 3]
    assert crlf[0].fields == senr_row(local_record_id="1")
    assert located(crlf) == []


def test_last_line_without_line_ending_is_read() -> None:
    data = three_rows("\r\n").removesuffix(b"\r\n")
    records = read(data)
    assert [r.row for r in records] == [1, 2, 3]
    assert records[2].fields == senr_row(local_record_id="3")


def test_utf8_bom_is_accepted() -> None:
    records = read(BOM + three_rows("\r\n"))
    assert records[0].fields == senr_row(local_record_id="1")
    assert records[0].fields[0] == "SENR"
    assert located(records) == []


def test_blank_lines_are_skipped_and_rows_stay_physical() -> None:
    data = b"".join([
        line(senr_row(local_record_id="a")),  # 1
        b"\r\n",  # 2 blank
        line(senr_row(local_record_id="b")),  # 3
        b"   \t \r\n",  # 4 whitespace only
        b"\n",  # 5 bare LF
        line(senr_row(local_record_id="c")),  # 6
        b"\r\n\r\n\r\n",  # 7-9 trailing blank lines
    ])
    records = read(data)
    assert [(r.row, r.fields[INDEX["local_record_id"]] if r.fields else None)
            for r in records] == [(1, "a"), (3, "b"), (6, "c")]
    assert located(records) == []


def test_error_after_blank_lines_is_located_at_its_physical_row() -> None:
    data = b"\r\n\r\n" + line(senr_row()) + b"\r\n" + line(senr_row()[:33])
    records = read(data)
    assert [r.row for r in records] == [3, 5]
    assert located(records) == [(5, None, "field-count")]


def test_caret_delimiter_is_detected() -> None:
    fields = senr_row(student_legal_last_name="Smith, Jr")  # a comma is data in a caret file
    data = line(fields, "^") + line(senr_row(), "^")
    delimiter, issues = sniff(data, LAYOUT)
    assert (delimiter, issues) == ("^", [])
    records = read(data)
    assert records[0].fields == fields
    assert records[1].fields == senr_row()
    assert located(records) == []


def test_comma_delimiter_is_detected() -> None:
    assert sniff(three_rows("\r\n"), LAYOUT) == (",", [])


def test_non_utf8_byte_is_an_error_at_its_row_and_character_column() -> None:
    # Row 2 was saved as Latin-1: "José" with é as the single byte 0xE9. Its Local Record ID
    # holds a two-byte UTF-8 character, so the byte offset and the character column differ.
    bad = senr_row(local_record_id="Nguyễn-7", student_legal_first_name="Jos\u00e9")
    text = ",".join(bad)
    raw = text.encode("utf-8").replace("é".encode(), b"\xe9")
    column = text.index("é") + 1  # 1-based character position of é in the row
    assert raw.index(b"\xe9") + 1 != column
    data = line(senr_row(local_record_id="1")) + raw + b"\r\n" + line(senr_row(local_record_id="3"))
    records = read(data)
    assert located(records) == [(2, None, "encoding")]
    assert records[1].fields is None
    assert f"character {column}" in records[1].issues[0].message
    assert records[1].issues[0].fatal
    # the rows after it are still read
    assert records[2].row == 3
    assert records[2].fields == senr_row(local_record_id="3")


@pytest.mark.parametrize("count", [33, 35])
def test_wrong_field_count_is_an_error_at_its_row_never_a_shifted_parse(count: int) -> None:
    fields = senr_row()
    wrong = fields[:33] if count == 33 else [*fields[:5], "EXTRA", *fields[5:]]
    assert len(wrong) == count
    data = line(senr_row(local_record_id="1")) + line(wrong) + line(senr_row(local_record_id="3"))
    records = read(data)
    assert located(records) == [(2, None, "field-count")]
    assert records[1].fields is None
    assert str(count) in records[1].issues[0].message
    assert [r.fields is not None for r in records] == [True, False, True]


def test_nul_byte_in_a_row_is_an_error_at_that_row() -> None:
    data = line(senr_row(local_record_id="1")) + line(senr_row(student_birth_city="Los\x00Angeles"))
    records = list(read_records(io.BytesIO(data), LAYOUT, ","))
    assert located(records) == [(2, None, "binary-content")]
    assert records[1].fields is None
    assert records[0].fields == senr_row(local_record_id="1")


@pytest.mark.parametrize("head", [b"", b"   ", b"\r\n\r\n", b" \t\r\n \n", BOM, BOM + b"\r\n"])
def test_empty_or_whitespace_only_file_is_empty_file(head: bytes) -> None:
    delimiter, issues = sniff(head, LAYOUT)
    assert delimiter is None
    assert [(i.row, i.field, i.code) for i in issues] == [(None, None, "empty-file")]


@pytest.mark.parametrize("head", [
    b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",  # xlsx / zip
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00",  # legacy .xls (OLE2)
    "SENR,,1,1964733".encode("utf-16-le"),  # text, but not UTF-8
])
def test_binary_head_is_binary_file(head: bytes) -> None:
    delimiter, issues = sniff(head, LAYOUT)
    assert delimiter is None
    assert [(i.row, i.field, i.code) for i in issues] == [(None, None, "binary-file")]


def test_quoted_field_with_the_delimiter_is_one_field() -> None:
    fields = senr_row(student_legal_last_name="Smith, Jr")
    quoted = [f'"{v}"' if "," in v else v for v in fields]
    data = line(quoted) + line(senr_row())
    records = read(data)
    assert located(records) == []
    assert records[0].fields is not None
    assert len(records[0].fields) == 34
    assert records[0].fields[LAST] == "Smith, Jr"
    assert records[0].fields[LAST + 1:] == fields[LAST + 1:]  # nothing after it shifted


def test_doubled_quotes_inside_a_quoted_field() -> None:
    fields = senr_row(student_legal_last_name='O"Brien, Sr')
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(fields)
    records = read(buf.getvalue().encode())
    assert records[0].fields == fields


# Any field text a CSV writer can put on one line survives writing and reading back (control
# characters are an error of their own: test_formats_text.py).
field_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Cc"]),
    max_size=12)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(field_text, min_size=33, max_size=33), caret=st.booleans())
def test_round_trip_of_written_records(values: list[str], caret: bool) -> None:
    delimiter = "^" if caret else ","
    fields = ["SENR", *values]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerow(fields)
    buf.write("\r\n")  # a trailing blank line
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerow(fields)
    records = list(read_records(io.BytesIO(buf.getvalue().encode()), LAYOUT, delimiter))
    assert [(r.row, r.fields, r.issues) for r in records] == [(1, fields, []), (3, fields, [])]


def test_encoding_column_on_the_first_row_does_not_count_the_bom() -> None:
    text = ",".join(senr_row(student_legal_first_name="Jos\u00e9"))
    raw = BOM + text.encode("utf-8").replace("é".encode(), b"\xe9") + b"\r\n"
    records = list(read_records(io.BytesIO(raw), LAYOUT, ","))
    assert located(records) == [(1, None, "encoding")]
    assert f"character {text.index('é') + 1}" in records[0].issues[0].message


def test_cr_only_line_endings_give_the_same_records() -> None:
    cr, crlf = read(three_rows("\r")), read(three_rows("\r\n"))
    assert [(r.row, r.fields) for r in cr] == [(r.row, r.fields) for r in crlf]
    assert len(cr) == 3 and located(cr) == []


def test_a_row_longer_than_the_limit_is_an_error_and_is_not_held() -> None:
    rows = [line(senr_row(local_record_id=str(n))) for n in (1, 2, 3)]
    huge = senr_row(local_record_id="2")
    huge[LAST] = "X" * 300_000
    data = rows[0] + line(huge) + rows[2]
    records = list(read_records(io.BytesIO(data), LAYOUT, ",", max_row_bytes=65_536))
    assert [r.row for r in records] == [1, 2, 3]
    assert records[1].fields is None
    assert located(records) == [(2, None, "row-too-long")]
    assert f"{len(line(huge)) - 2:,} bytes" in records[1].issues[0].message
    assert records[2].fields == senr_row(local_record_id="3")


def test_a_file_without_line_breaks_is_one_row_too_long() -> None:
    data = b"SENR," * 400_000  # 2 MB, no line ending at all
    records = list(read_records(io.BytesIO(data), LAYOUT, ",", max_row_bytes=65_536))
    assert located(records) == [(1, None, "row-too-long")]


@given(st.integers(min_value=1, max_value=5), st.sampled_from(["\r\n", "\n", "\r"]))
@settings(max_examples=20, deadline=None)
def test_rows_across_chunk_boundaries_are_read_whole(width: int, end: str) -> None:
    # Rows long enough that many of them straddle the reader's 1 MB chunks.
    rows = [senr_row(local_record_id=str(n), student_legal_first_name="A" * (10 * width))
            for n in range(30_000 // width)]
    data = b"".join(line(r, end=end) for r in rows)
    assert [r.fields for r in read(data)] == rows


def test_an_unbalanced_quote_is_named_in_the_field_count_error() -> None:
    row = senr_row()
    row[FIRST] = '"Ann'
    records = read(line(row))
    assert located(records) == [(1, None, "field-count")]
    assert "unbalanced double quote" in records[0].issues[0].message
