"""The worker loop on a real broker (Tansu): what a stage does when handling an event fails.

A poison event fails its own submission and nothing else; a transient failure is retried and
dead-letters nothing; a failure that outlasts the retry window stops the worker (to be
restarted); a run of dead letters from several submissions halts it before it drains a topic.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.db.migrate import upgrade
from shared.db.models import DeadLetter, Email, Institution, Submission, SubmissionEvent
from shared.db.session import make_engine, make_session_factory
from shared.errors import StageUnavailableError
from shared.events.topics import Topic
from shared.messaging.entrypoint import stored_dead_letters
from shared.messaging.kafka import topic_name
from shared.messaging.runner import Outgoing, Worker
from shared.observability import Health
from shared.settings import KafkaSettings, RunnerSettings, Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def store(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.add(Institution(id="1964733", name="Demo", contact_email="c@example.org"))
        for sid in (1, 2, 3, 4, 5, 6):
            session.add(Submission(id=sid, collection="SENR", institution_id="1964733",
                                   filename="f.csv", submitted_by="c@example.org",
                                   status="processing"))
    yield sessions
    engine.dispose()


def worker(kafka: KafkaSettings, handle: Callable[[Sequence[dict[str, Any]]], list[Outgoing]],
           sessions: sessionmaker[Session] | None = None, **runner: Any) -> Worker[Any]:
    settings = Settings(kafka=kafka, runner=RunnerSettings(**runner))
    return Worker(name="validate", topic=Topic.RECORDS_PARSED, decode=json.loads,
                  handle=handle, settings=settings, health=Health("validate"),
                  submission_of=lambda e: int(e["submission_id"]),
                  dead_letters=stored_dead_letters(sessions) if sessions else None)


async def publish(kafka: KafkaSettings, messages: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic_name(kafka, Topic.RECORDS_PARSED), value,
                                         key=key)
    finally:
        await producer.stop()


async def read(kafka: KafkaSettings, topic: str, at_least: int,
               timeout: float = 20) -> list[Any]:
    reader = AIOKafkaConsumer(topic_name(kafka, topic), bootstrap_servers=kafka.bootstrap_servers,
                              auto_offset_reset="earliest", group_id=None)
    await reader.start()
    found: list[Any] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found) < at_least and loop.time() < deadline:
            for batch in (await reader.getmany(timeout_ms=300)).values():
                found += batch
        await asyncio.sleep(1)  # and nothing more arrives
        for batch in (await reader.getmany(timeout_ms=300)).values():
            found += batch
    finally:
        await reader.stop()
    return found


async def run_until(w: Worker[Any], done: Callable[[], bool], timeout: float = 30) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(w.run(stop))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done() and not task.done() and loop.time() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, 30)


def event(sid: int, n: int) -> tuple[bytes, bytes]:
    return f"{sid}:school".encode(), json.dumps({"submission_id": sid, "n": n}).encode()


def forward(events: Sequence[dict[str, Any]]) -> list[Outgoing]:
    if any(e["submission_id"] == 2 for e in events):
        raise IndexError("list index out of range: 'Jane Doe'")  # a bug meeting bad data
    return [Outgoing(Topic.RECORDS_VALIDATED, b"k", json.dumps(e).encode()) for e in events]


def test_a_poison_event_fails_its_submission_and_nothing_else(
        kafka: KafkaSettings, store: sessionmaker[Session]) -> None:
    messages = [event(1, 1), event(2, 1), event(3, 1), event(2, 2), event(1, 2)]
    asyncio.run(publish(kafka, messages))
    w = worker(kafka, forward, store)
    asyncio.run(run_until(w, lambda: w.health.last_poll > 0 and not w._failed == {}))  # noqa: SIM201
    out = asyncio.run(read(kafka, Topic.RECORDS_VALIDATED, 3))
    assert sorted((json.loads(m.value)["submission_id"], json.loads(m.value)["n"])
                  for m in out) == [(1, 1), (1, 2), (3, 1)]
    dlq = asyncio.run(read(kafka, Topic.RECORDS_PARSED.dead_letters, 1))
    assert len(dlq) == 1  # the second event of submission 2 is skipped: its file has failed
    body = json.loads(dlq[0].value)
    assert body["submission_id"] == 2
    assert "Jane" not in body["reason"] and "IndexError at" in body["reason"]
    with store() as session:
        statuses = {s.id: s.status for s in session.scalars(select(Submission))}
        letter = session.scalars(select(DeadLetter)).one()
        history = session.scalars(select(SubmissionEvent).where(
            SubmissionEvent.submission_id == 2)).all()
        owed = session.scalars(select(Email).where(Email.submission_id == 2)).all()
    assert statuses[2] == "failed"
    assert statuses[1] == statuses[3] == "processing"
    assert letter.submission_id == 2 and letter.value == messages[1][1]
    assert [h.kind for h in history] == ["failed"]
    assert f"dead letter {letter.id}" in history[0].message
    assert [(e.milestone, e.status) for e in owed] == [("processed", "pending")]


def test_an_undecodable_event_is_a_dead_letter_of_the_submission_in_its_key(
        kafka: KafkaSettings, store: sessionmaker[Session]) -> None:
    asyncio.run(publish(kafka, [(b"4:school", b"\xff not json"), event(5, 1)]))
    w = worker(kafka, forward, store)
    asyncio.run(run_until(w, lambda: 4 in w._failed))
    with store() as session:
        assert session.get(Submission, 4).status == "failed"  # type: ignore[union-attr]
        assert session.get(Submission, 5).status == "processing"  # type: ignore[union-attr]
        reason = session.scalars(select(DeadLetter.reason)).one()
    assert reason == "undecodable: UnicodeDecodeError"


def test_a_transient_failure_is_retried_and_dead_letters_nothing(
        kafka: KafkaSettings, store: sessionmaker[Session]) -> None:
    attempts: list[int] = []

    def flaky(events: Sequence[dict[str, Any]]) -> list[Outgoing]:
        attempts.append(len(events))
        if len(attempts) < 3:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return forward(events)

    asyncio.run(publish(kafka, [event(1, 1)]))
    w = worker(kafka, flaky, store)
    asyncio.run(run_until(w, lambda: len(attempts) >= 3))
    assert len(asyncio.run(read(kafka, Topic.RECORDS_VALIDATED, 1))) == 1
    with store() as session:
        assert session.scalars(select(DeadLetter)).all() == []
        assert session.get(Submission, 1).status == "processing"  # type: ignore[union-attr]


def test_a_failure_that_outlasts_the_retry_window_stops_the_worker_unhandled(
        kafka: KafkaSettings, store: sessionmaker[Session]) -> None:
    def down(events: Sequence[dict[str, Any]]) -> list[Outgoing]:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    asyncio.run(publish(kafka, [event(1, 1)]))
    w = worker(kafka, down, store, retry_seconds=2)
    with pytest.raises(StageUnavailableError):
        asyncio.run(run_until(w, lambda: False, timeout=20))
    with store() as session:  # not dead-lettered, not failed: it is read again after restart
        assert session.scalars(select(DeadLetter)).all() == []
        assert session.get(Submission, 1).status == "processing"  # type: ignore[union-attr]
    again = worker(kafka, forward, store)  # "restarted", and the database is back
    asyncio.run(run_until(again, lambda: again.health.last_poll > 0, timeout=20))
    assert len(asyncio.run(read(kafka, Topic.RECORDS_VALIDATED, 1))) == 1


def test_dead_letters_in_a_row_from_several_submissions_halt_the_worker(
        kafka: KafkaSettings, store: sessionmaker[Session]) -> None:
    def broken(events: Sequence[dict[str, Any]]) -> list[Outgoing]:
        raise KeyError("a bad deploy")

    sent = [(sid, n) for n in range(4) for sid in (1, 3, 5, 6)]
    asyncio.run(publish(kafka, [event(sid, n) for sid, n in sent]))
    w = worker(kafka, broken, None, dlq_limit=3, dlq_limit_submissions=3)
    asyncio.run(run_until(w, lambda: w.health.halted is not None, timeout=20))
    assert w.health.halted is not None and "dead letters" in w.health.halted
    assert REGISTRY.get_sample_value("edcs_stage_halted", {"stage": "validate"}) == 1
    dlq = asyncio.run(read(kafka, Topic.RECORDS_PARSED.dead_letters, 3))
    assert 3 <= len(dlq) < 16
    # It stopped there: the other events were not committed, so once the cause is fixed a
    # worker of the same group handles every one of them (those of the submissions that failed
    # may be skipped: there is nothing more to do for them); none was drained or lost.
    failed = {json.loads(m.value)["submission_id"] for m in dlq}
    fixed = worker(kafka, forward, None)
    asyncio.run(run_until(fixed, lambda: False, timeout=15))
    handled = {(json.loads(m.value)["submission_id"], json.loads(m.value)["n"])
               for m in asyncio.run(read(kafka, Topic.RECORDS_VALIDATED, 4))}
    assert {(sid, n) for sid, n in sent if sid not in failed} <= handled <= set(sent)


def test_one_broken_file_does_not_halt_the_worker(kafka: KafkaSettings,
                                                  store: sessionmaker[Session]) -> None:
    asyncio.run(publish(kafka, [event(2, n) for n in range(6)] + [event(1, 1)]))
    w = worker(kafka, forward, store, dlq_limit=3, dlq_limit_submissions=3)
    asyncio.run(run_until(w, lambda: False, timeout=6))
    assert w.health.halted is None
    assert len(asyncio.run(read(kafka, Topic.RECORDS_VALIDATED, 1))) == 1


def test_periodic_work_runs_and_is_published(kafka: KafkaSettings) -> None:
    ticks: list[int] = []

    def tick() -> Iterator[Outgoing]:
        ticks.append(1)
        yield Outgoing(Topic.SUBMISSIONS_STATUS, b"1", b'{"tick": %d}' % len(ticks))

    w = worker(kafka, forward, None, tick_seconds=0.2)
    w.tick = tick
    asyncio.run(run_until(w, lambda: len(ticks) >= 3))
    assert len(asyncio.run(read(kafka, Topic.SUBMISSIONS_STATUS, 3))) >= 3


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_loop_counts_messages_in_and_out_and_reports_lag(kafka: KafkaSettings) -> None:
    before_in = sample("edcs_stage_messages_in_total", stage="validate", outcome="ok")
    before_out = sample("edcs_stage_messages_out_total", stage="validate",
                        topic="records.validated")
    latency = sample("edcs_stage_message_latency_seconds_count", stage="validate")
    asyncio.run(publish(kafka, [event(1, n) for n in range(5)]))
    w = worker(kafka, forward)
    asyncio.run(run_until(w, lambda: sample("edcs_stage_messages_in_total", stage="validate",
                                            outcome="ok") >= before_in + 5))
    assert sample("edcs_stage_messages_in_total", stage="validate", outcome="ok") == \
        before_in + 5
    assert sample("edcs_stage_messages_out_total", stage="validate",
                  topic="records.validated") == before_out + 5
    assert sample("edcs_stage_message_latency_seconds_count", stage="validate") == latency + 5
    lag = [s for m in REGISTRY.collect() if m.name == "edcs_stage_consumer_lag_messages"
           for s in m.samples if s.labels["topic"] == "records.parsed"]
    assert lag and all(s.value == 0 for s in lag)  # every partition it holds is read
