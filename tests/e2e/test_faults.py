"""Faults on the real embedded stack (Tansu, SQLite, aiosmtpd, every worker a process): each
file ends posted exactly once (its records all in the store, each written once), its email
arrives once, and the job says what happened; or it fails with a reason and blocks nobody.

The supervisor of the stack restarts what is killed, as ``edcs up`` does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.notify.outbox import LEASE
from shared.db.models import (
    DeadLetter,
    Email,
    OdsRecord,
    RecordHistory,
    Submission,
    SubmissionEvent,
    utcnow,
)
from tests.fixtures.stack import RunningStack, gen_senr, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

FAST = {
    # A worker killed with SIGKILL stays in its consumer group until its session times out
    # (~10 s, then a rejoin): the watchdog must not take that for a stuck file.
    "EDCS_WATCHDOG__IDLE_SECONDS": "20",
    "EDCS_WATCHDOG__STUCK_SECONDS": "120",
    "EDCS_NOTIFY__RETRY_FIRST_SECONDS": "1",
    "EDCS_NOTIFY__RETRY_MAX_SECONDS": "3",
    "EDCS_STACK__CHECK_SECONDS": "2",
    "EDCS_RUNNER__TICK_SECONDS": "1",
    "EDCS_KAFKA__SESSION_TIMEOUT_MS": "6000",
    "EDCS_KAFKA__HEARTBEAT_INTERVAL_MS": "2000",
}


def ssid(n: int) -> str:
    """A valid SSID (design.md §5 check digit), different for every n."""
    body = f"{n + 300_000_000:09d}"
    r = (int(body[0:3]) + int(body[3:6]) + int(body[6:9])) % 9
    return body + str(9 if r == int(body[8]) else r)


def senr_file(path: Path, n: int, file_no: int) -> Path:
    """A clean SENR file of n students no other file of the test has."""
    source = gen_senr(path.with_suffix(".src"), n, errors=0.0, seed=file_no)
    rows = []
    for i, line in enumerate(source.read_text().splitlines()):
        fields = line.split(",")
        fields[7] = ssid(file_no * 1_000_000 + i)
        rows.append(",".join(fields))
    path.write_text("\r\n".join(rows) + "\r\n")
    return path


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The stack of the lifecycle tests: small, so each export and watchdog round stays quick."""
    yield from start_stack(tmp_path_factory.mktemp("stack-faults"), env_extra=FAST)


@pytest.fixture(scope="module")
def killable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack of its own for the processes killed mid-file (its files are large; what a kill
    leaves, a consumer group rejoining, must not slow the timing of the other tests)."""
    yield from start_stack(tmp_path_factory.mktemp("stack-kills"), env_extra=FAST)


def assert_posted_once(stack: RunningStack, job_id: int, path: Path) -> None:
    """The job posted every record of the file, each once, and emailed it once."""
    stack.wait_for(job_id, lambda status, *_: status in ("posted", "rejected", "failed"),
                   "final")
    lines = [ln for ln in path.read_text().splitlines() if ln]
    status, _, posted = stack.status(job_id)
    assert (status, posted) == ("posted", len(lines))
    with Session(stack.engine()) as session:
        stored = session.scalar(select(func.count()).select_from(OdsRecord).where(
            OdsRecord.submission_id == job_id))
        twice = session.execute(select(RecordHistory.op_key).where(
            RecordHistory.submission_id == job_id).group_by(RecordHistory.op_key).having(
            func.count() > 1)).all()
    assert stored == len(lines)
    assert twice == []
    deadline = time.monotonic() + 30
    while (exported := stack.edcs("export", "SENR", "--institution", "1964733")).returncode:
        assert time.monotonic() < deadline, exported.stderr  # the web app may be restarting
        time.sleep(0.5)
    assert set(lines) <= set(exported.stdout.splitlines())
    # Both emails, each in its own time: after an SMTP outage each is retried on its own clock,
    # and one a killed notify worker was sending waits out its lease first (seen once in a
    # full run: the 'received' email went 122 s after the kill).
    deadline = time.monotonic() + LEASE.total_seconds() + 60
    while not (stack.emails_about(f"submission {job_id} posted")
               and stack.emails_about(f"submission {job_id} received")):
        assert time.monotonic() < deadline, "no posted or no received email"
        time.sleep(0.5)
    time.sleep(1)
    assert len(stack.emails_about(f"submission {job_id} posted")) == 1
    assert len(stack.emails_about(f"submission {job_id} received")) == 1


def history(stack: RunningStack, job_id: int) -> list[tuple[str, str]]:
    with Session(stack.engine()) as session:
        return [(e.kind, e.message) for e in session.scalars(
            select(SubmissionEvent).where(SubmissionEvent.submission_id == job_id)
            .order_by(SubmissionEvent.id))]


@pytest.mark.parametrize(("worker", "when"), [
    ("ingest", "uploaded"), ("validate", "staging"), ("post", "staging"),
    ("notify", "uploaded"), ("web", "staging")])
def test_a_worker_killed_mid_file_is_restarted_and_the_file_posts_once(
        killable: RunningStack, tmp_path: Path, worker: str, when: str) -> None:
    number = ["ingest", "validate", "post", "notify", "web"].index(worker) + 1
    path = senr_file(tmp_path / f"{worker}.csv", 60_000 if worker == "ingest" else 30_000,
                     number)
    restarts = killable.stack.children[worker].restarts
    job_id = killable.upload(path)
    if when == "staging":
        killable.wait_for(job_id, lambda _s, staged, _p: staged > 0, "staging started")
    killable.kill(worker)
    assert_posted_once(killable, job_id, path)
    deadline = time.monotonic() + 30
    while killable.stack.children[worker].restarts == restarts:
        assert time.monotonic() < deadline, killable.stack.events
        time.sleep(0.2)
    assert any(e.startswith(f"{worker} exited") for e in killable.stack.events)


def test_the_broker_killed_mid_file_is_replaced_and_the_file_posts_once(
        killable: RunningStack, tmp_path: Path) -> None:
    # More records than one fetch of the post stage (64 batches of 500), so the broker dies
    # with part of the file still to stage.
    path = senr_file(tmp_path / "broker.csv", 100_000, 10)
    job_id = killable.upload(path)
    killable.wait_for(job_id, lambda _s, staged, _p: staged > 0, "staging started")
    killable.kill("broker")
    assert_posted_once(killable, job_id, path)
    assert any("The broker exited" in e for e in killable.stack.events)
    assert "redriven" in [kind for kind, _ in history(killable, job_id)]


def lost_file_submission(stack: RunningStack, content: bytes, *, publish: bool = True) -> int:
    """A submission whose file the store no longer has, announced as the web app would (or,
    with ``publish=False``, whose announcement was lost after the job row was committed)."""
    from shared.db.lifecycle import owe_email
    from shared.db.models import utcnow
    from shared.messaging import outbox
    from shared.redrive import received_event

    with Session(stack.engine()) as session, session.begin():
        now = utcnow()
        submission = Submission(collection="SENR", institution_id="1964733",
                                filename="lost.csv", sha256=hashlib.sha256(content).hexdigest(),
                                size_bytes=len(content), submitted_by="lost@demo-usd.example",
                                status="received", received_at=now, progress_at=now)
        session.add(submission)
        session.flush()
        owe_email(session, submission.id, "received")
        if publish:
            outbox.put(session, [received_event(submission, ",")])
        return submission.id


def test_a_file_that_cannot_be_processed_fails_with_a_reason_and_blocks_nobody(
        faulty: RunningStack, tmp_path: Path) -> None:
    lost = senr_file(tmp_path / "lost.csv", 50, 11)
    lost_id = lost_file_submission(faulty, lost.read_bytes())
    behind = senr_file(tmp_path / "behind.csv", 200, 12)
    behind_id = faulty.upload(behind)  # the same institution and collection, received later
    faulty.wait_for(lost_id, lambda status, *_: status == "failed", "failed", timeout=60)
    job = json.loads(faulty.edcs("job", str(lost_id), "--format", "json").stdout)
    assert "ingest stage failed" in job["message"] and "missing from the file store" in (
        job["message"])
    assert_posted_once(faulty, behind_id, behind)
    mail = faulty.wait_for_email(f"submission {lost_id} could not be processed")
    assert "missing from the file store" in str(mail.get_content())  # type: ignore[attr-defined]
    listed = faulty.edcs("dlq", "list", "--format", "json")
    letters = [x for x in json.loads(listed.stdout) if x["submission"] == lost_id]
    assert len(letters) == 1 and letters[0]["stage"] == "ingest"
    shown = faulty.edcs("dlq", "show", str(letters[0]["id"]))
    assert "missing from the file store" in shown.stdout and "value:" not in shown.stdout
    again = faulty.edcs("dlq", "replay", str(letters[0]["id"]))
    assert again.returncode == 2 and "A later file" in again.stderr and "--force" in again.stderr
    forced = faulty.edcs("dlq", "replay", "--force", str(letters[0]["id"]))
    assert forced.returncode == 2 and "missing from the file store" in forced.stderr
    # Once the file is back in the store, the operator's replay posts it, once.
    from shared.filestore import FileStore

    with lost.open("rb") as fh:
        FileStore(faulty.data_dir / "files").put(fh)
    replayed = faulty.edcs("replay", "--submission", str(lost_id), "--force", "--wait")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    status, _, posted = faulty.status(lost_id)
    assert (status, posted) == ("posted", 50)
    # Under load the watchdog may also re-drive the replayed file (IDLE_SECONDS is short here):
    # that is allowed, as long as it posts once.
    kinds = [k for k, _ in history(faulty, lost_id) if k != "redriven"]
    assert kinds[-3:] == ["failed", "replayed", "posted"]
    faulty.wait_for_email(f"submission {lost_id} posted")
    refused = faulty.edcs("replay", "--submission", str(lost_id))
    assert refused.returncode == 2 and "is posted" in refused.stderr


def test_an_undecodable_event_fails_its_submission(faulty: RunningStack,
                                                   tmp_path: Path) -> None:
    target = lost_file_submission(faulty, b"never read", publish=False)  # never reaches ingest

    async def send() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=faulty.stack.env["EDCS_KAFKA__BOOTSTRAP_SERVERS"])
        await producer.start()
        await producer.send_and_wait("records.validated", b'{"type": "record-batch", "x"',
                                     key=f"{target}:6000001".encode())
        await producer.stop()

    asyncio.run(send())
    faulty.wait_for(target, lambda status, *_: status == "failed", "failed", timeout=60)
    with Session(faulty.engine()) as session:
        letter = session.scalars(select(DeadLetter).where(
            DeadLetter.submission_id == target)).one()
    assert letter.stage == "post" and letter.reason.startswith("schema: ")


def test_a_row_with_an_enormous_value_is_an_error_at_its_row(faulty: RunningStack,
                                                             tmp_path: Path) -> None:
    path = senr_file(tmp_path / "huge.csv", 20, 13)
    lines = path.read_text().splitlines()
    fields = lines[4].split(",")
    fields[11] = "X" * 5_000_000
    lines[4] = ",".join(fields)
    path.write_text("\r\n".join(lines) + "\r\n")
    job = faulty.submit(path)
    assert job["status"] == "rejected"
    issues = json.loads(faulty.edcs("job", str(job["id"]), "--format", "json").stdout)["errors"]
    assert [(i["row"], i["code"]) for i in issues] == [(5, "row-too-long")]
    assert faulty.submit(senr_file(tmp_path / "after.csv", 30, 14))["status"] == "posted"


def test_a_job_whose_event_was_lost_is_redriven_by_the_watchdog(faulty: RunningStack,
                                                                tmp_path: Path) -> None:
    path = senr_file(tmp_path / "quiet.csv", 500, 15)
    from shared.filestore import FileStore

    with path.open("rb") as fh:
        FileStore(faulty.data_dir / "files").put(fh)
    job_id = lost_file_submission(faulty, path.read_bytes(), publish=False)
    assert_posted_once(faulty, job_id, path)
    said = history(faulty, job_id)
    assert said[0][0] == "redriven" and "No progress for 20 s" in said[0][1]


def test_an_operator_fails_a_stuck_job_and_the_next_file_posts(faulty: RunningStack,
                                                               tmp_path: Path) -> None:
    behind = senr_file(tmp_path / "next.csv", 100, 16)  # made first: the watchdog fails a
    stuck = lost_file_submission(faulty, b"stuck", publish=False)
    with Session(faulty.engine()) as session, session.begin():
        # As far as the watchdog knows it is still moving (it would fail it by itself after 20 s,
        # sooner than a loaded machine gets to the operator's command): the operator acts.
        session.execute(update(Submission).where(Submission.id == stuck).values(
            progress_at=utcnow() + dt.timedelta(hours=1)))
    behind_id = faulty.upload(behind)
    assert faulty.status(behind_id)[0] != "posted"  # it waits for the stuck one
    done = faulty.edcs("job", str(stuck), "--fail", "the district sent it by mistake")
    assert done.returncode == 0, done.stderr
    assert "failed" in done.stdout and "sent it by mistake" in done.stdout
    assert_posted_once(faulty, behind_id, behind)


def test_a_topic_replay_changes_nothing_posted_and_a_future_time_replays_nothing(
        faulty: RunningStack) -> None:
    with Session(faulty.engine()) as session:
        before = session.scalar(select(func.count()).select_from(RecordHistory))
    replay = faulty.edcs("replay", "--topic", "records.validated", "--since", "30m",
                         "--format", "json")
    assert replay.returncode == 0, replay.stderr
    done = json.loads(replay.stdout)
    assert done["messages"] > 0 and done["submissions"]
    time.sleep(8)
    with Session(faulty.engine()) as session:
        after = session.scalar(select(func.count()).select_from(RecordHistory))
    assert after == before
    some = done["submissions"][-1]
    assert "replayed" in [k for k, _ in history(faulty, some)]
    future = faulty.edcs("replay", "--topic", "records.validated", "--since",
                         "2099-01-01T00:00:00+00:00", "--format", "json")
    assert json.loads(future.stdout)["messages"] == 0


@pytest.mark.parametrize("address", ["coordinator@demo.example\r\nBcc: all@demo.example",
                                     "not-an-email"])
def test_an_address_that_cannot_receive_mail_is_refused_at_upload(
        faulty: RunningStack, tmp_path: Path, address: str) -> None:
    path = senr_file(tmp_path / "mail.csv", 10, 17)
    done = faulty.edcs("submit", str(path), "--collection", "SENR", "--institution", "1964733",
                       "--email", address)
    assert done.returncode == 2
    assert "email address for results is not valid" in done.stderr


def test_nothing_private_in_logs_dead_letters_or_emails(faulty: RunningStack,
                                                        tmp_path: Path) -> None:
    private: set[str] = set()
    for source in tmp_path.parent.glob("*/*.csv"):
        for line in source.read_text(errors="replace").splitlines()[:2000]:
            f = line.split(",")
            if len(f) == 34:
                private |= {n for n in (f[7], f[16]) if n}  # a blank SSID is not a secret
                private |= {n for n in (f[9], f[11]) if len(n) >= 5}
    assert len(private) > 100
    texts = [p.read_text(errors="replace") for p in (faulty.data_dir / "logs").glob("*.log")]
    texts += [str(m) for m in faulty.emails()]
    with Session(faulty.engine()) as session:
        texts += [x.reason for x in session.scalars(select(DeadLetter))]
        texts += [e.body + e.subject + (e.error or "") for e in session.scalars(select(Email))]
        texts += [s.message or "" for s in session.scalars(select(Submission))]
    blob = "\n".join(texts)
    found = sorted(p for p in private if p in blob)
    assert found == []
