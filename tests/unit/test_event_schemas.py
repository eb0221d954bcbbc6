"""Event contracts: checked-in schemas match the models; every example message decodes."""

from __future__ import annotations

import json

import msgspec
import pytest

from shared.errors import reason_of
from shared.events.models import EndOfFile, RecordBatch, decode_record_stream
from shared.events.schemas import EVENTS, EXAMPLE_DIR, round_trip, schema_path, schema_text


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_checked_in_schema_matches_the_model(name: str) -> None:
    assert schema_path(name).read_text(encoding="utf-8") == schema_text(EVENTS[name]), (
        "event model changed: run `python -m shared.events.schemas` and review the diff")


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_example_message_decodes_with_its_model(name: str) -> None:
    raw = (EXAMPLE_DIR / f"{name}.json").read_bytes()
    assert json.loads(round_trip(name, raw)) == json.loads(raw)


def test_an_unknown_key_is_rejected() -> None:
    raw = json.loads((EXAMPLE_DIR / "end-of-file.json").read_bytes())
    raw["student_name"] = "x"
    with pytest.raises(ValueError, match="student_name"):
        decode_record_stream(json.dumps(raw).encode())


def test_a_version_1_batch_still_decodes_for_replays_of_older_topics() -> None:
    old = json.loads((EXAMPLE_DIR / "record-batch.v1.json").read_bytes())
    new = decode_record_stream(json.dumps(old).encode())
    assert isinstance(new, RecordBatch)
    assert [(r.row, r.fields, [i.model_dump(mode="json") for i in r.issues])
            for r in new.records] == [(r["row"], r["fields"], r["issues"])
                                      for r in old["records"]]
    assert new.submission_id == old["submission_id"]


def test_a_schema_error_names_where_never_the_value() -> None:
    raw = json.loads((EXAMPLE_DIR / "record-batch.json").read_bytes())
    raw["records"][0][2] = [{**raw["records"][1][2][0], "severity": "Maria Lopez"}]
    with pytest.raises(msgspec.ValidationError) as caught:
        decode_record_stream(json.dumps(raw).encode())
    reason = reason_of(caught.value)
    assert "Maria" not in reason and "$.records[0]" in reason


def test_the_end_of_file_is_its_own_event() -> None:
    raw = (EXAMPLE_DIR / "end-of-file.json").read_bytes()
    assert isinstance(decode_record_stream(raw), EndOfFile)


def test_bytes_that_are_not_json_are_a_schema_reason() -> None:
    with pytest.raises(msgspec.DecodeError) as caught:
        decode_record_stream(b'{"type": "record-batch", "x"')
    assert reason_of(caught.value) == "schema: not valid JSON"
