"""services/ingest/parser.py: a file becomes record batches of its submission bounded by records
and bytes (whatever the schools), then end-of-file; every record keeps its physical row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from services.ingest.parser import BatchBuffer, parse_file
from shared.events.models import EndOfFile, FileReceived, RecordBatch, decode_record_stream
from shared.events.topics import Topic
from shared.messaging.runner import Outgoing
from shared.settings import PipelineSettings
from tests.unit.senr_rows import INDEX, LAYOUT, generate, line, senr_row

SCHOOL = INDEX["school_of_attendance"]
LOCAL_ID = INDEX["local_record_id"]
SUBMISSION = 42
EVENT = FileReceived(submission_id=SUBMISSION, collection="SENR", institution_id="1964733",
                     submitted_on=dt.date(2025, 9, 1), sha256="0" * 64, delimiter=",")
LIMITS = PipelineSettings(batch_max_records=7)


def mixed_file() -> tuple[bytes, list[int], list[int]]:
    """60 physical lines: three schools interleaved, blank lines, and unparseable rows.

    Returns the bytes, the physical rows of the records, and those of the unparseable ones.
    """
    schools = ["6000001", "6000002", "6000003"]
    out: list[bytes] = []
    rows: list[int] = []
    bad: list[int] = []
    for n in range(1, 61):
        if n % 11 == 0:
            out.append(b"\r\n")  # blank: not a record
            continue
        rows.append(n)
        if n % 17 == 0:
            out.append(line(senr_row()[:30]))  # wrong field count
            bad.append(n)
        elif n == 23:
            out.append(",".join(senr_row(student_legal_first_name="José")).encode("latin-1")
                       + b"\r\n")  # not UTF-8
            bad.append(n)
        else:
            school = schools[(n * 7) % 3]
            out.append(line(senr_row(school_of_attendance=school, local_record_id=str(n))))
    return b"".join(out), rows, bad


def run(data: bytes, limits: PipelineSettings = LIMITS) -> list[Outgoing]:
    return list(parse_file(EVENT, io.BytesIO(data), LAYOUT, limits))


def batches_of(messages: list[Outgoing]) -> list[tuple[bytes, RecordBatch]]:
    out = []
    for m in messages[:-1]:
        batch = decode_record_stream(m.value)
        assert isinstance(batch, RecordBatch)
        out.append((m.key, batch))
    return out


def test_every_batch_decodes_and_carries_the_submission() -> None:
    data, _, _ = mixed_file()
    messages = run(data)
    assert all(m.topic == Topic.RECORDS_PARSED for m in messages)
    for _key, batch in batches_of(messages):
        assert (batch.submission_id, batch.collection, batch.institution_id,
                batch.submitted_on) == (SUBMISSION, "SENR", "1964733", dt.date(2025, 9, 1))
        assert 1 <= len(batch.records) <= LIMITS.batch_max_records
    assert isinstance(decode_record_stream(messages[-1].value), EndOfFile)


def test_batches_mix_schools_and_are_keyed_by_submission_and_number() -> None:
    data, _, _ = mixed_file()
    batches = batches_of(run(data))
    assert [key for key, _ in batches] == [f"{SUBMISSION}:{n}".encode()
                                           for n in range(1, len(batches) + 1)]
    schools = {r.fields[SCHOOL] for _, b in batches[:1] for r in b.records if r.fields}
    assert len(schools) > 1  # one batch, several schools: a many-school file sends few


def test_records_arrive_in_file_order_with_their_rows() -> None:
    data, rows, _ = mixed_file()
    got = [r.row for _, batch in batches_of(run(data)) for r in batch.records]
    assert got == rows
    assert len(rows) > LIMITS.batch_max_records  # so order across several batches was checked


def test_record_fields_survive_the_encoding() -> None:
    # quotes, backslashes, a delimiter inside a quoted field, non-ASCII, a Unicode line separator
    fields = senr_row(student_legal_last_name='Nguyễn "Jr", O\'Brien\\x',
                      local_record_id="\u2028\t}]")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(fields)
    [batch_message, eof] = run(buf.getvalue().encode())
    batch = decode_record_stream(batch_message.value)
    assert isinstance(batch, RecordBatch) and batch.records[0].fields == fields
    end = decode_record_stream(eof.value)
    assert isinstance(end, EndOfFile) and end.records == 1


def test_last_message_is_end_of_file_with_the_record_count() -> None:
    data, rows, _ = mixed_file()
    messages = run(data)
    eof = decode_record_stream(messages[-1].value)
    assert isinstance(eof, EndOfFile)
    non_blank = sum(1 for ln in data.split(b"\r\n") if ln.strip())
    assert eof.records == len(rows) == non_blank
    assert (eof.submission_id, eof.collection) == (SUBMISSION, "SENR")
    assert sum(len(b.records) for _, b in batches_of(messages)) == len(rows)
    assert messages[-1].key == f"{SUBMISSION}:eof".encode()
    assert not any(m.value and json.loads(m.value)["type"] == "end-of-file"
                   for m in messages[:-1])


def test_unparseable_rows_travel_with_their_issue() -> None:
    data, _, bad = mixed_file()
    unknown = [(r.row, [(i.row, i.code) for i in r.issues])
               for _, b in batches_of(run(data)) for r in b.records if r.fields is None]
    assert [row for row, _ in unknown] == bad
    for row, issues in unknown:
        assert issues == [(row, "encoding" if row == 23 else "field-count")]


def test_empty_stream_gives_only_end_of_file() -> None:
    [eof] = run(b"\r\n\r\n")
    end = decode_record_stream(eof.value)
    assert isinstance(end, EndOfFile) and end.records == 0


def test_generated_file_with_the_default_limits(tmp_path: Path) -> None:
    path = generate(tmp_path / "senr.csv", 400)
    with path.open("rb") as fh:
        messages = list(parse_file(EVENT, fh, LAYOUT, PipelineSettings()))
    end = decode_record_stream(messages[-1].value)
    assert isinstance(end, EndOfFile) and end.records == 400
    rows = [r.row for _, b in batches_of(messages) for r in b.records]
    assert rows == list(range(1, 401))


# --- memory bound ------------------------------------------------------------------------------


def test_a_batch_is_bounded_by_bytes_as_well_as_records(tmp_path: Path) -> None:
    limits = PipelineSettings(batch_max_records=10_000, batch_max_bytes=3000)
    path = generate(tmp_path / "senr.csv", 300, seed=5)
    with path.open("rb") as fh:
        messages = list(parse_file(EVENT, fh, LAYOUT, limits))
    largest = max(len(m.value) for m in messages)
    assert len(messages) > 10 and largest < 3000 + 1000  # the bound plus one record and head
    rows = [r.row for _, b in batches_of(messages) for r in b.records]
    assert rows == list(range(1, 301))


def test_the_buffer_holds_one_batch_at_most() -> None:
    buffer = BatchBuffer(EVENT, PipelineSettings(batch_max_records=3))
    sent = [buffer.add(b"[%d,null,[]]" % n) for n in range(1, 8)]
    assert [m is not None for m in sent] == [False, False, True] * 2 + [False]
    assert len(buffer.records) == 1
