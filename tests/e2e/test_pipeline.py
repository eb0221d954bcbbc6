"""A district coordinator's day, end to end on the real stack (Tansu, workers, SMTP sink), once
on SQLite and once on PostgreSQL: submit, get the email, find the records in the store."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db.models import OdsRecord, RecordHistory
from tests.fixtures.stack import RunningStack, gen_senr

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
STACKS = ["sqlite_stack", "postgres_stack"]


def ods_count(stack: RunningStack) -> int:
    with Session(stack.engine()) as session:
        return session.scalar(select(func.count()).select_from(OdsRecord)) or 0


def job_of(stack: RunningStack, job_id: int) -> dict[str, object]:
    return dict(json.loads(stack.edcs("job", str(job_id), "--format", "json").stdout))


def wait_final(stack: RunningStack, job_id: int, timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while not (job := job_of(stack, job_id))["final"]:
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    return job


def body(message: object) -> str:
    return str(message.get_content())  # type: ignore[attr-defined]


@pytest.mark.parametrize("stack_name", STACKS)
def test_good_file_is_posted_and_emailed(stack_name: str, request: pytest.FixtureRequest,
                                         tmp_path: Path) -> None:
    stack: RunningStack = request.getfixturevalue(stack_name)
    before = ods_count(stack)
    path = gen_senr(tmp_path / "senr.csv", 1500, errors=0.0, seed=stack_name.__len__())
    job = stack.submit(path)
    assert job["status"] == "posted"
    assert (job["records"], job["posted"], job["rejected"]) == (1500, 1500, 0)
    assert ods_count(stack) == before + 1500
    mail = stack.wait_for_email(f"submission {job['id']} posted")
    text = body(mail)
    assert "Posted: 1500" in text and f"/jobs/{job['id']}" in text
    assert mail["To"] == "coordinator@demo-usd.example"
    # No student data in the email: none of the file's names, SSIDs or birth dates.
    rows = [line.split(",") for line in path.read_text().splitlines()[:200]]
    for fields in rows:
        for private in (fields[7], fields[9], fields[11], fields[16]):
            assert private not in text
    received = stack.wait_for_email(f"submission {job['id']} received")
    assert "received" in body(received)


@pytest.mark.parametrize("stack_name", STACKS)
def test_file_with_bad_rows_is_rejected_whole_with_located_errors(
        stack_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    stack: RunningStack = request.getfixturevalue(stack_name)
    path = gen_senr(tmp_path / "senr.csv", 800, errors=0.0, seed=11)
    lines = path.read_bytes().split(b"\r\n")
    bad = lines[41].split(b",")
    bad[22] = b"77"  # Enrollment Status Code not in the code set
    lines[41] = b",".join(bad)
    lines[99] = lines[99] + b",extra"  # one field too many
    lines[500] = lines[500].replace(b"SENR", b"SENR", 1)[:40] + b"\xe9" + lines[500][40:]
    path.write_bytes(b"\r\n".join(lines))
    before = ods_count(stack)
    job = stack.submit(path)
    assert job["status"] == "rejected"
    assert job["posted"] == 0 and job["rejected"] == 3
    assert ods_count(stack) == before  # all-or-nothing: nothing posted
    issues = json.loads(stack.edcs("job", str(job["id"]), "--format", "json").stdout)["errors"]
    located = {(i["row"], i["code"]) for i in issues}
    assert {(42, "invalid-code"), (100, "field-count"), (501, "encoding")} <= located
    assert next(i for i in issues if i["row"] == 42)["field_name"] == "Enrollment Status Code"
    mail = stack.wait_for_email(f"submission {job['id']} rejected")
    assert "Records with errors: 3" in body(mail)
    assert "invalid-code: 1" in body(mail)


@pytest.mark.parametrize(("content", "code"), [
    (b"", "empty-file"),
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4, "archive-unreadable"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary-file"),
    (b"SINF,,1,1964733,6000001,,2025-2026\r\n", "wrong-collection"),
])
def test_unusable_files_are_rejected_at_upload_with_a_reason(
        sqlite_stack: RunningStack, tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    job = sqlite_stack.submit(path)
    assert job["status"] == "rejected" and job["posted"] == 0
    issues = json.loads(sqlite_stack.edcs("job", str(job["id"]), "--format", "json").stdout)
    assert [i["code"] for i in issues["errors"]] == [code]
    mail = sqlite_stack.wait_for_email(f"submission {job['id']} rejected")
    assert issues["errors"][0]["message"] in body(mail)


def test_deletes_and_updates_post_in_order(sqlite_stack: RunningStack, tmp_path: Path) -> None:
    first = gen_senr(tmp_path / "first.csv", 50, errors=0.0, seed=3)
    assert sqlite_stack.submit(first)["status"] == "posted"
    rows = [line.split(",") for line in first.read_text().splitlines()]
    delete = [*rows[0]]
    delete[1] = "D"
    update = [*rows[1]]
    update[24] = "20260115"  # exit date ...
    update[25] = "T160"  # ... with an exit reason (E155 is for March 31 - August 15, CFS 1.26)
    missing = [*rows[2]]
    missing[1], missing[21] = "D", "20250801"  # a start date that was never posted
    second = tmp_path / "second.csv"
    second.write_text("\r\n".join(",".join(r) for r in (update, delete, missing)) + "\r\n")
    job = sqlite_stack.submit(second)
    assert job["status"] == "posted", job
    assert job["warnings"] == 1  # deleting a record the store does not hold
    with Session(sqlite_stack.engine()) as session:
        key = "|".join((rows[0][4], rows[0][7], rows[0][21]))
        assert session.scalar(select(OdsRecord).where(OdsRecord.op_key == key)) is None
        key = "|".join((rows[1][4], rows[1][7], rows[1][21]))
        stored = session.scalar(select(OdsRecord).where(OdsRecord.op_key == key))
        assert stored is not None and stored.fields[25] == "T160"
        actions = session.scalars(select(RecordHistory.action).where(
            RecordHistory.submission_id == job["id"])).all()
        assert sorted(actions) == ["delete", "update"]


def test_workers_serve_metrics_and_health(sqlite_stack: RunningStack) -> None:
    for name in ("ingest", "validate", "post", "notify"):
        url = sqlite_stack.stack.endpoints[f"{name} metrics"]
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            assert b"edcs_stage_messages_in_total" in response.read()
        with urllib.request.urlopen(url.replace("/metrics", "/health"), timeout=5) as r:  # noqa: S310
            assert json.load(r)["ready"] is True


def test_undecodable_event_goes_to_the_dead_letter_topic_and_work_goes_on(
        sqlite_stack: RunningStack, tmp_path: Path) -> None:
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    bootstrap = sqlite_stack.stack.env["EDCS_KAFKA__BOOTSTRAP_SERVERS"]
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    secret = b"Garcia 1234567890 20100101"  # looks like student data: must not be in the reason
    producer.send("records.parsed", b'{"type": "record-batch", "oops": "' + secret + b'"}',
                  key=b"1:x").get(timeout=10)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=20000)
    consumer.assign([TopicPartition("records.parsed.dlq", 0)])
    consumer.seek_to_beginning()
    message = next(iter(consumer))
    consumer.close()
    dead = json.loads(message.value)
    assert dead["topic"] == "records.parsed"
    assert dead["reason"].startswith("schema:")
    assert "Garcia" not in dead["reason"]
    assert "1234567890" not in dead["reason"]
    # The validate worker is still alive: a file still posts.
    job = sqlite_stack.submit(gen_senr(tmp_path / "after.csv", 100, errors=0.0, seed=5))
    assert job["status"] == "posted"


def test_upload_answers_before_processing_and_the_queue_shows_the_backlog(
        sqlite_stack: RunningStack, tmp_path: Path) -> None:
    path = gen_senr(tmp_path / "big.csv", 60_000, errors=0.0, seed=9)
    done = sqlite_stack.edcs("submit", str(path), "--collection", "SENR", "--institution",
                             "1964733", "--format", "json")
    job = json.loads(done.stdout)
    assert job["status"] == "received"  # answered at once, not after posting
    with urllib.request.urlopen(f"{sqlite_stack.api}/metrics", timeout=5) as response:  # noqa: S310
        text = response.read().decode()
    waiting = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith("edcs_store_files{")
                  and any(f'status="{s}"' in line for s in ("received", "processing", "posting")))
    assert waiting >= 1
    queue = json.loads(sqlite_stack.edcs("jobs", "--format", "json").stdout)
    assert any(j["id"] == job["id"] and not j["final"] for j in queue)
    # A small file of the same district sent next finishes validating first, but posts after
    # the large one: files of one district post in the order they were received.
    small = sqlite_stack.edcs("submit", str(gen_senr(tmp_path / "small.csv", 10)),
                              "--collection", "SENR", "--institution", "1964733", "--format",
                              "json")
    small_id = json.loads(small.stdout)["id"]
    big_before = job_of(sqlite_stack, job["id"])
    shown = job_of(sqlite_stack, small_id)
    big_after = job_of(sqlite_stack, job["id"])
    # While the large file is in flight the small one names it; once it is final, nobody. (Read
    # between two looks at the large file, so a file finishing meanwhile cannot mislead.)
    if big_before["final"]:
        assert shown["waiting_for"] is None
    elif not big_after["final"]:
        assert shown["waiting_for"] == job["id"]
    else:
        assert shown["waiting_for"] in (None, job["id"])
    small_final = wait_final(sqlite_stack, small_id)
    big_final = wait_final(sqlite_stack, job["id"])
    assert (big_final["status"], small_final["status"]) == ("posted", "posted")
    assert big_final["finished_at"] <= small_final["finished_at"]


def test_export_is_the_upload_layout_and_round_trips_with_history(
        sqlite_stack: RunningStack, tmp_path: Path) -> None:
    lea = "0000000"  # the state: its own district here, so the export holds only this test's data
    lines = gen_senr(tmp_path / "mine.csv", 30, errors=0.0, seed=21).read_text().splitlines()
    rows = [line.replace("1964733", lea).split(",") for line in lines]
    original = tmp_path / "original.csv"
    original.write_text("".join(",".join(r) + "\r\n" for r in rows))
    first = sqlite_stack.submit(original, institution=lea)
    assert first["status"] == "posted"
    export = sqlite_stack.edcs("export", "SENR", "--institution", lea)
    assert export.returncode == 0, export.stderr
    exported = export.stdout.splitlines()
    # Same records, same fields in the same order, no header: the file that was uploaded.
    assert sorted(exported) == sorted(",".join(r) for r in rows)
    # A coordinator fixes one record in the export and uploads the export again.
    fixed = [line.split(",") for line in exported]
    fixed[0][22] = "30"
    again = tmp_path / "again.csv"
    again.write_text("".join(",".join(r) + "\r\n" for r in fixed))
    second = sqlite_stack.submit(again, institution=lea)
    assert (second["status"], second["posted"]) == ("posted", 30)
    key = "|".join((fixed[0][4], fixed[0][7], fixed[0][21]))
    changes = json.loads(sqlite_stack.edcs("history", "SENR", "--institution", lea, "--key", key,
                                           "--format", "json").stdout)
    assert [c["action"] for c in changes] == ["add", "update"]
    assert changes[1]["submission"] == second["id"]
    assert changes[1]["by"] == "operator@state.example"
    assert changes[1]["before"][22] != "30"
    assert changes[1]["after"][22] == "30"
    assert changes[0]["after"] == changes[1]["before"]  # what the add left, as the update found it
    caret = sqlite_stack.edcs("export", "SENR", "--institution", lea, "--format", "txt")
    assert caret.stdout.splitlines()[0].count("^") == 33
