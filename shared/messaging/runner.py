"""The worker loop every stage shares: fetch -> decode -> handle -> produce -> commit.

Offsets are committed only after the handler's own writes are committed and every produced
message is acknowledged, so a crash at any point re-delivers rather than loses (at-least-once;
handlers are idempotent).

Failures are handled per event (shared.errors):

- transient ones (database, broker, SMTP unavailable) are retried with jittered backoff for
  ``runner.retry_seconds``; past that the worker exits (``StageUnavailableError``) and is restarted,
  and the uncommitted events are read again;
- an event that cannot be decoded, or whose handling fails for good, goes to the topic's
  dead-letter twin and to the ``dead_letters`` table with a reason that carries no values, and
  its submission is failed (the rest of the fetch is handled one event at a time, so one poison
  event fails one submission). Later events of a failed submission are skipped;
- after ``runner.dlq_limit`` dead letters in a row from several submissions the worker stops
  taking events (a bad deploy must not drain a topic) and says so on /health.

A stage may also have periodic work (``tick``): the watchdog, resumed postings, emails owed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import signal
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import msgspec
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from shared.errors import StageUnavailableError, is_transient, reason_of
from shared.events.models import SubmissionStatus
from shared.events.topics import Topic, group_of
from shared.messaging.kafka import TopicPartition, make_consumer, make_producer, topic_name
from shared.messaging.loop_metrics import LoopMetrics
from shared.metrics import DEAD_LETTERS, MESSAGES_IN, RETRIES, TICK_FAILURES
from shared.observability import Health
from shared.settings import Settings

E = TypeVar("E")
log = logging.getLogger(__name__)
EXIT_UNAVAILABLE = 75  # EX_TEMPFAIL: restart me later


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message a handler wants published (logical topic name)."""

    topic: str
    key: bytes
    value: bytes


class DeadLetterSink(Protocol):
    """Keeps a dead letter (and fails its submission); returns the letter's id."""

    def __call__(self, *, stage: str, topic: str, partition: int, offset: int,
                 key: bytes | None, value: bytes | None, submission_id: int | None,
                 reason: str, fail_submission: bool) -> int: ...


def submission_key(submission_id: int) -> bytes:
    """The key of a submission's events: its id alone (every event of it to one partition)."""
    return str(submission_id).encode()


def submission_from_key(key: bytes | None) -> int | None:
    """Every topic is keyed by submission first (``"12"``, ``"12:school"``): the submission of
    an event that could not even be decoded."""
    head = (key or b"").split(b":", 1)[0]
    return int(head) if head.isdigit() else None


def status_event(submission_id: int, status: str) -> Outgoing:
    """The 'processed' milestone of a submission that reached a final status."""
    event = SubmissionStatus(submission_id=submission_id, milestone="processed", status=status)
    return Outgoing(Topic.SUBMISSIONS_STATUS, submission_key(submission_id),
                    event.model_dump_json().encode())


@dataclass
class Worker(Generic[E]):
    """One stage: its input topic, decoder, (blocking) handler and periodic work."""

    name: str
    topic: Topic
    decode: Callable[[bytes], E]
    handle: Callable[[Sequence[E]], Iterable[Outgoing]]
    settings: Settings
    health: Health
    submission_of: Callable[[E], int | None] = lambda _event: None
    consumer_group: str | None = None  # a stage that reads another stage's topic has its own
    tick: Callable[[], Iterable[Outgoing]] | None = None
    # Whether a dead letter of this stage fails its submission (notify's do not: an email that
    # cannot be sent does not undo what was posted).
    fails_submissions: bool = True
    dead_letters: DeadLetterSink | None = None
    # Whether a submission is still failed (an operator may have replayed it since this worker
    # failed it); without it, a submission failed here stays skipped.
    still_failed: Callable[[int], bool] | None = None
    _failed: OrderedDict[int, None] = field(default_factory=OrderedDict)
    _in_a_row: int = 0
    _in_a_row_submissions: set[int | None] = field(default_factory=set)
    _metrics: LoopMetrics = field(init=False)

    def __post_init__(self) -> None:
        self._metrics = LoopMetrics(self.name, self.topic.value)

    @property
    def group(self) -> str:
        """The stage's consumer group (topics.yaml, unless the stage reads another's topic)."""
        return self.consumer_group or group_of(self.topic)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; the handler runs in a thread so heartbeats go on."""
        kafka = self.settings.kafka
        consumer = make_consumer(kafka, self.topic, self.group)
        producer = make_producer(kafka)
        await producer.start()
        try:
            await consumer.start()
            self.health.ready = True
            self._metrics.started()
            log.info("consuming %s as group %s", topic_name(kafka, self.topic), self.group)
            next_tick = 0.0
            while not stop.is_set() and self.health.halted is None:
                if self.tick is not None and time.monotonic() >= next_tick:
                    await self._run_tick(producer)
                    next_tick = time.monotonic() + self.settings.runner.tick_seconds
                fetched = await consumer.getmany(timeout_ms=500,
                                                 max_records=kafka.fetch_max_records)
                self.health.last_poll = time.time()
                messages = [m for batch in fetched.values() for m in batch]
                await self._metrics.lag(consumer)
                if messages:
                    started = time.perf_counter()
                    done = await self._process(messages, producer)
                    if done:
                        await consumer.commit(_offsets(done))
                    self._metrics.handled(done, time.perf_counter() - started)
        finally:
            self.health.ready = False
            await consumer.stop()
            await producer.stop()
        if self.health.halted is not None:
            log.error("stopped taking events: %s", self.health.halted)
            await stop.wait()  # stay up, unready, so the operator sees why on /health

    async def _forget_replayed(self, messages: list[Any]) -> None:
        """Stop skipping the submissions of these messages that are no longer failed."""
        if self.still_failed is None or not self._failed:
            return
        check = self.still_failed
        ours = {sid for m in messages
                if (sid := submission_from_key(m.key)) is not None and sid in self._failed}
        for sid in ours:
            if not await asyncio.to_thread(check, sid):
                del self._failed[sid]

    async def _process(self, messages: list[Any], producer: Any) -> list[Any]:
        """Handle a fetch; returns the messages done with (all of them, unless the worker
        halted part-way: the rest stay uncommitted for whoever takes the partition next)."""
        await self._forget_replayed(messages)
        decoded: list[tuple[Any, E]] = []
        skipped = 0
        for m in messages:
            try:
                event = self.decode(m.value)
            except (ValidationError, ValueError) as exc:
                reason = (reason_of(exc)
                          if isinstance(exc, ValidationError | msgspec.DecodeError)
                          else f"undecodable: {type(exc).__name__}")
                await self._dead_letter(m, reason, submission_from_key(m.key), producer)
                continue
            if self.submission_of(event) in self._failed:
                skipped += 1
                continue  # its submission failed here already: nothing more to do for it
            decoded.append((m, event))
        if skipped:
            MESSAGES_IN.labels(self.name, "skipped").inc(skipped)
        if not decoded or self.health.halted is not None:
            return messages if self.health.halted is None else []
        problem = await self._attempt([e for _, e in decoded], producer)
        if problem is None:
            self._succeeded(len(decoded))
            return messages
        # Find the poison among them, one event at a time: every other event still goes
        # through, in order, until the dead-letter limit (if ever) halts the worker.
        done: list[Any] = []
        for m in messages:
            if self._halted():
                break
            match = next((e for dm, e in decoded if dm is m), None)
            if match is not None and self.submission_of(match) not in self._failed:
                alone = await self._attempt([match], producer)
                if alone is None:
                    self._succeeded(1)
                else:
                    await self._dead_letter(m, reason_of(alone), self.submission_of(match),
                                            producer)
            done.append(m)
        return done

    def _halted(self) -> bool:
        return self.health.halted is not None

    def _retrying(self) -> AsyncRetrying:
        def before_sleep(state: RetryCallState) -> None:
            RETRIES.labels(self.name).inc()
            exc = state.outcome.exception() if state.outcome else None
            log.warning("transient failure, retry %s: %s", state.attempt_number,
                        reason_of(exc) if exc else "?")

        return AsyncRetrying(stop=stop_after_delay(self.settings.runner.retry_seconds),
                             wait=wait_exponential_jitter(multiplier=0.5, max=10),
                             retry=retry_if_exception(is_transient), reraise=True,
                             before_sleep=before_sleep)

    async def _attempt(self, events: list[E], producer: Any) -> BaseException | None:
        """Handle events and send their output; None when done, else the permanent failure.
        Raises StageUnavailableError when transient failures outlast the retry window."""
        try:
            async for attempt in self._retrying():
                with attempt:
                    await self._handle_and_send(events, producer)
        except Exception as exc:
            if is_transient(exc):
                raise StageUnavailableError(reason_of(exc)) from exc
            return exc
        return None

    async def _handle_and_send(self, events: list[E], producer: Any) -> None:
        kafka = self.settings.kafka
        # The handler yields its output; it is drained in bounded chunks so a large file
        # streams through instead of being built in memory first.
        output = iter(await asyncio.to_thread(self.handle, events))
        sends = []
        while chunk := await asyncio.to_thread(_take, output, kafka.max_unacked):
            sends += [await producer.send(topic_name(kafka, o.topic), o.value, key=o.key)
                      for o in chunk]
            self._metrics.sent(o.topic for o in chunk)
            if len(sends) >= kafka.max_unacked:  # bound what waits in memory
                await asyncio.gather(*sends)
                sends.clear()
        await asyncio.gather(*sends)

    def _succeeded(self, count: int) -> None:
        MESSAGES_IN.labels(self.name, "ok").inc(count)
        self._in_a_row = 0
        self._in_a_row_submissions.clear()

    async def _dead_letter(self, message: Any, reason: str, submission_id: int | None,
                           producer: Any) -> None:
        kafka = self.settings.kafka
        letter_id = None
        if self.dead_letters is not None:
            sink = self.dead_letters
            async for attempt in self._retrying():
                with attempt:
                    letter_id = await asyncio.to_thread(
                        sink, stage=self.name, topic=self.topic.value,
                        partition=message.partition, offset=message.offset, key=message.key,
                        value=message.value, submission_id=submission_id, reason=reason,
                        fail_submission=self.fails_submissions)
        body = json.dumps({"id": letter_id, "stage": self.name, "topic": self.topic.value,
                           "partition": message.partition, "offset": message.offset,
                           "submission_id": submission_id, "reason": reason,
                           "value_hex": message.value.hex() if message.value else ""})
        await producer.send_and_wait(topic_name(kafka, self.topic.dead_letters), body.encode(),
                                     key=message.key or b"")
        self._metrics.sent([self.topic.dead_letters])
        if submission_id is not None and self.fails_submissions:
            self._failed[submission_id] = None
            while len(self._failed) > 10_000:
                self._failed.popitem(last=False)
            wake = status_event(submission_id, "failed")
            await producer.send(topic_name(kafka, wake.topic), wake.value, key=wake.key)
            self._metrics.sent([wake.topic])
        MESSAGES_IN.labels(self.name, "dead_letter").inc()
        DEAD_LETTERS.labels(self.name).inc()
        log.error("dead letter %s from %s[%s]@%s: %s", letter_id, message.topic,
                  message.partition, message.offset, reason,
                  extra={"submission": submission_id})
        self._in_a_row += 1
        self._in_a_row_submissions.add(submission_id)
        limits = self.settings.runner
        if (self._in_a_row >= limits.dlq_limit
                and len(self._in_a_row_submissions) >= limits.dlq_limit_submissions):
            self.health.halt(
                f"{self._in_a_row} events in a row from {len(self._in_a_row_submissions)} "
                "submissions were dead letters; a deploy or configuration problem is likely. "
                "See `edcs dlq list`, fix the cause and restart this worker.")

    async def _run_tick(self, producer: Any) -> None:
        if self.tick is None:
            return
        tick = self.tick
        kafka = self.settings.kafka
        try:
            output = await asyncio.to_thread(lambda: list(tick()))
            await asyncio.gather(*[await producer.send(topic_name(kafka, o.topic), o.value,
                                                       key=o.key) for o in output])
            self._metrics.sent(o.topic for o in output)
        except Exception as exc:  # noqa: BLE001 - periodic work: logged, counted, next tick
            TICK_FAILURES.labels(self.name).inc()
            log.warning("periodic work failed (next try in %s s): %s",
                        self.settings.runner.tick_seconds, reason_of(exc))


def _offsets(messages: list[Any]) -> dict[Any, int]:
    """The offsets to commit after these messages (each partition's are in order)."""
    found: dict[Any, int] = {}
    for m in messages:
        tp = TopicPartition(m.topic, m.partition)
        found[tp] = max(found.get(tp, 0), m.offset + 1)
    return found


def _take(items: Iterator[Outgoing], n: int) -> list[Outgoing]:
    return list(itertools.islice(items, n))


def run_until_signalled(worker: Worker[Any]) -> None:
    """Run a worker in this process until SIGINT or SIGTERM; exit 75 when what it depends on
    stays unavailable (the supervisor restarts it)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await worker.run(stop)

    try:
        asyncio.run(main())
    except StageUnavailableError as exc:
        log.error("giving up for now, to be restarted: %s", exc)
        sys.exit(EXIT_UNAVAILABLE)
    except Exception as exc:
        if not is_transient(exc):
            raise
        log.error("cannot reach what this worker needs, to be restarted: %s", reason_of(exc))
        sys.exit(EXIT_UNAVAILABLE)
