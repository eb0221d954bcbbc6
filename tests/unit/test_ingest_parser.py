"""services/ingest/parser.py: a file becomes per-school record batches, then end-of-file
(design.md §3: keyed by (submission, school), one school's records in order, bounded memory)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.ingest import parser
from services.ingest.parser import UNKNOWN_SCHOOL, BatchBuffer, parse_file
from shared.events.models import EndOfFile, FileReceived, RecordBatch, record_stream
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


def mixed_file() -> tuple[bytes, dict[str, list[int]], int]:
    """60 physical lines: three schools interleaved, blank lines, and unparseable rows.

    Returns the bytes, the expected physical rows of each school key, and the record count.
    """
    schools = ["6000001", "6000002", "6000003"]
    out: list[bytes] = []
    rows: dict[str, list[int]] = defaultdict(list)
    for n in range(1, 61):
        if n % 11 == 0:
            out.append(b"\r\n")  # blank: not a record
        elif n % 17 == 0:
            out.append(line(senr_row()[:30]))  # wrong field count: school unknown
            rows[UNKNOWN_SCHOOL].append(n)
        elif n == 23:
            out.append(",".join(senr_row(student_legal_first_name="José")).encode("latin-1")
                       + b"\r\n")  # not UTF-8: school unknown
            rows[UNKNOWN_SCHOOL].append(n)
        else:
            school = schools[(n * 7) % 3]
            out.append(line(senr_row(school_of_attendance=school, local_record_id=str(n))))
            rows[school].append(n)
    return b"".join(out), dict(rows), sum(len(r) for r in rows.values())


def run(data: bytes, limits: PipelineSettings = LIMITS) -> list[Outgoing]:
    return list(parse_file(EVENT, io.BytesIO(data), LAYOUT, limits))


def batches_of(messages: list[Outgoing]) -> list[tuple[bytes, RecordBatch]]:
    return [(m.key, RecordBatch.model_validate_json(m.value)) for m in messages[:-1]]


def test_every_batch_decodes_and_carries_the_submission() -> None:
    data, _, _ = mixed_file()
    messages = run(data)
    assert all(m.topic == Topic.RECORDS_PARSED for m in messages)
    for _key, batch in batches_of(messages):
        assert batch.type == "record-batch"
        assert (batch.submission_id, batch.collection, batch.institution_id,
                batch.submitted_on) == (SUBMISSION, "SENR", "1964733", dt.date(2025, 9, 1))
        assert 1 <= len(batch.records) <= LIMITS.batch_max_records
    # consumers decode the stream with the discriminated union, too
    for m in messages:
        assert record_stream.validate_json(m.value).type in {"record-batch", "end-of-file"}


def test_one_school_per_batch_keyed_by_submission_and_school() -> None:
    data, _, _ = mixed_file()
    for key, batch in batches_of(run(data)):
        assert key == f"{SUBMISSION}:{batch.school}".encode()
        for record in batch.records:
            if record.fields is None:
                assert batch.school == UNKNOWN_SCHOOL
            else:
                assert record.fields[SCHOOL] == batch.school


def test_each_schools_records_arrive_in_file_order() -> None:
    data, expected, _ = mixed_file()
    got: dict[str, list[int]] = defaultdict(list)
    for key, batch in batches_of(run(data)):
        got[key.decode().split(":", 1)[1]] += [r.row for r in batch.records]
    assert dict(got) == expected
    assert all(len(rows) > LIMITS.batch_max_records for s, rows in expected.items()
               if s != UNKNOWN_SCHOOL)  # so order across several batches was checked


def test_record_fields_survive_the_hand_built_json() -> None:
    # quotes, backslashes, a delimiter inside a quoted field, non-ASCII, a Unicode line separator
    fields = senr_row(student_legal_last_name='Nguyễn "Jr", O\'Brien\\x',
                      local_record_id="\u2028\t}]")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(fields)
    [batch_message, eof] = run(buf.getvalue().encode())
    batch = RecordBatch.model_validate_json(batch_message.value)
    assert batch.records[0].fields == fields
    assert EndOfFile.model_validate_json(eof.value).records == 1


def test_last_message_is_end_of_file_with_the_record_count() -> None:
    data, _, count = mixed_file()
    messages = run(data)
    eof = EndOfFile.model_validate_json(messages[-1].value)
    non_blank = sum(1 for ln in data.split(b"\r\n") if ln.strip())
    assert eof.records == count == non_blank
    assert (eof.submission_id, eof.collection) == (SUBMISSION, "SENR")
    assert sum(len(b.records) for _, b in batches_of(messages)) == count
    assert messages[-1].key.startswith(f"{SUBMISSION}:".encode())
    assert not any(m.value and json.loads(m.value)["type"] == "end-of-file"
                   for m in messages[:-1])


def test_unparseable_rows_go_to_the_unknown_school_with_their_issue() -> None:
    data, expected, _ = mixed_file()
    unknown = [(r.row, [(i.row, i.code) for i in r.issues], r.fields)
               for key, b in batches_of(run(data)) if b.school == UNKNOWN_SCHOOL
               for r in b.records]
    assert [row for row, _, _ in unknown] == expected[UNKNOWN_SCHOOL]
    for row, issues, fields in unknown:
        assert fields is None
        assert issues == [(row, "encoding" if row == 23 else "field-count")]


def test_blank_school_goes_to_the_unknown_school() -> None:
    data = line(senr_row(school_of_attendance="")) + line(senr_row())
    schools = [b.school for _, b in batches_of(run(data))]
    assert sorted(schools) == sorted([UNKNOWN_SCHOOL, senr_row()[SCHOOL]])


def test_empty_stream_gives_only_end_of_file() -> None:
    [eof] = run(b"\r\n\r\n")
    assert EndOfFile.model_validate_json(eof.value).records == 0


def test_generated_file_with_the_default_limits(tmp_path: Path) -> None:
    path = generate(tmp_path / "senr.csv", 400)
    with path.open("rb") as fh:
        messages = list(parse_file(EVENT, fh, LAYOUT, PipelineSettings()))
    assert EndOfFile.model_validate_json(messages[-1].value).records == 400
    rows = sorted(r.row for _, b in batches_of(messages) for r in b.records)
    assert rows == list(range(1, 401))


# --- memory bound ------------------------------------------------------------------------------


def record_bytes(n: int, school: str) -> bytes:
    return json.dumps({"row": n, "fields": senr_row(school_of_attendance=school,
                                                    local_record_id=str(n)),
                       "issues": []}).encode()


@pytest.mark.parametrize("total_bytes", [1, 1500, 5000])
def test_buffered_bytes_stay_within_the_bound_plus_one_record(total_bytes: int) -> None:
    limits = PipelineSettings(batch_max_records=10_000, batch_max_bytes=10**9)
    buffer = BatchBuffer(EVENT, limits, total_bytes=total_bytes)
    records = [(n, f"{6000000 + n % 13:07d}") for n in range(1, 400)]
    largest = max(len(record_bytes(n, s)) for n, s in records)
    high = 0
    sent: dict[str, list[int]] = defaultdict(list)

    def collect(message: Outgoing) -> None:
        nonlocal high
        high = max(high, buffer.buffered)
        batch = RecordBatch.model_validate_json(message.value)
        sent[batch.school] += [r.row for r in batch.records]

    for n, school in records:
        for message in buffer.add(school, record_bytes(n, school)):
            collect(message)
        high = max(high, buffer.buffered)
        assert buffer.buffered <= total_bytes  # after each add, back within the bound
        assert buffer.buffered == sum(buffer.sizes.values())
    for message in buffer.drain():
        collect(message)
    assert high <= total_bytes + largest
    assert buffer.buffered == 0
    assert dict(sent) == {s: [n for n, s2 in records if s2 == s] for s in sent}
    assert sum(len(v) for v in sent.values()) == len(records)


def test_parse_file_keeps_order_under_memory_pressure(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    """With a tiny total bound (many flushes of the largest school) order still holds."""
    highs: list[int] = []

    class Tiny(BatchBuffer):
        def __init__(self, event: FileReceived, limits: PipelineSettings) -> None:
            super().__init__(event, limits, total_bytes=3000)

        def add(self, school: str, record: bytes) -> Iterator[Outgoing]:
            yield from super().add(school, record)
            highs.append(self.buffered)

    monkeypatch.setattr(parser, "BatchBuffer", Tiny)
    path = generate(tmp_path / "senr.csv", 300, seed=5)
    with path.open("rb") as fh:
        messages = list(parse_file(EVENT, fh, LAYOUT, PipelineSettings()))
    assert highs
    assert max(highs) <= 3000
    by_school: dict[str, list[int]] = defaultdict(list)
    for key, batch in batches_of(messages):
        assert key == f"{SUBMISSION}:{batch.school}".encode()
        by_school[batch.school] += [r.row for r in batch.records]
    for rows in by_school.values():
        assert rows == sorted(rows)
    assert sorted(r for rows in by_school.values() for r in rows) == list(range(1, 301))
