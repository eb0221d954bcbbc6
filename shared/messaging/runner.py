"""The worker loop every stage shares: fetch -> decode -> handle -> produce -> commit.

Offsets are committed only after the handler's own writes are committed and every produced
message is acknowledged, so a crash at any point re-delivers rather than loses (at-least-once;
handlers are idempotent). An event that cannot be decoded goes to the topic's dead-letter twin
with a reason that names the schema problem, never the values.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from shared.events.topics import DLQ_SUFFIX
from shared.messaging.kafka import make_consumer, make_producer, topic_name
from shared.observability import HANDLE_SECONDS, MESSAGES, Health
from shared.settings import Settings

E = TypeVar("E")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message a handler wants published (logical topic name)."""

    topic: str
    key: bytes
    value: bytes


def dead_letter_reason(exc: Exception) -> str:
    """Why an event was undecodable, without echoing any of its values."""
    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['type']}"
                 for e in exc.errors(include_input=False, include_url=False)[:5]]
        return f"schema: {'; '.join(parts)}"
    return f"decode: {type(exc).__name__}"


@dataclass
class Worker(Generic[E]):
    """One stage: its input topic, consumer group, decoder and (blocking) handler."""

    name: str
    topic: str
    group: str
    decode: Callable[[bytes], E]
    handle: Callable[[Sequence[E]], Iterable[Outgoing]]
    settings: Settings
    health: Health

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; the handler runs in a thread so heartbeats go on."""
        kafka = self.settings.kafka
        consumer = make_consumer(kafka, self.topic, self.group)
        producer = make_producer(kafka)
        await producer.start()
        await consumer.start()
        self.health.ready = True
        log.info("consuming %s as group %s", topic_name(kafka, self.topic), self.group)
        try:
            while not stop.is_set():
                fetched = await consumer.getmany(timeout_ms=500,
                                                 max_records=kafka.fetch_max_records)
                self.health.last_poll = time.time()
                messages = [m for batch in fetched.values() for m in batch]
                if not messages:
                    continue
                started = time.perf_counter()
                events, dead = self._decode_all(messages)
                sends = [await producer.send(topic_name(kafka, o.topic), o.value, key=o.key)
                         for o in dead]
                if events:
                    # The handler yields its output; it is drained in bounded chunks so a large
                    # file streams through instead of being built in memory first.
                    output = iter(await asyncio.to_thread(self.handle, events))
                    while chunk := await asyncio.to_thread(_take, output, kafka.max_unacked):
                        sends += [await producer.send(topic_name(kafka, o.topic), o.value,
                                                      key=o.key) for o in chunk]
                        if len(sends) >= kafka.max_unacked:  # bound what waits in memory
                            await asyncio.gather(*sends)
                            sends.clear()
                await asyncio.gather(*sends)
                await consumer.commit()
                MESSAGES.labels(self.name, "ok").inc(len(messages) - len(dead))
                HANDLE_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        finally:
            self.health.ready = False
            await consumer.stop()
            await producer.stop()

    def _decode_all(self, messages: list[Any]) -> tuple[list[E], list[Outgoing]]:
        events: list[E] = []
        dead: list[Outgoing] = []
        for m in messages:
            try:
                events.append(self.decode(m.value))
            except (ValidationError, ValueError) as exc:
                reason = dead_letter_reason(exc)
                log.warning("dead letter from %s[%s]@%s: %s", m.topic, m.partition, m.offset,
                            reason)
                MESSAGES.labels(self.name, "dead-letter").inc()
                dead.append(Outgoing(self.topic + DLQ_SUFFIX, m.key or b"",
                                     _dlq_body(m, reason)))
        return events, dead


def _take(items: Iterator[Outgoing], n: int) -> list[Outgoing]:
    return list(itertools.islice(items, n))


def _dlq_body(message: Any, reason: str) -> bytes:
    return json.dumps({"topic": message.topic, "partition": message.partition,
                       "offset": message.offset, "reason": reason,
                       "value_hex": message.value.hex() if message.value else ""}).encode()


def run_until_signalled(worker: Worker[Any]) -> None:
    """Run a worker in this process until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await worker.run(stop)

    asyncio.run(main())
