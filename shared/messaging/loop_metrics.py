"""What the worker loop (shared.messaging.runner) measures, per fetch and per produced chunk:
consumer lag, fetch handling time, message latency and messages out (shared.metrics)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from shared.messaging.kafka import partition_lag
from shared.metrics import CONSUMER_LAG, HALTED, HANDLE_SECONDS, MESSAGE_LATENCY, MESSAGES_OUT


class LoopMetrics:
    """The loop metrics of one stage consuming one topic."""

    def __init__(self, stage: str, topic: str) -> None:
        self.stage = stage
        self.topic = topic
        self._partitions: set[str] = set()

    def started(self) -> None:
        """The stage consumes (not halted)."""
        HALTED.labels(self.stage).set(0)

    async def lag(self, consumer: Any) -> None:
        """``edcs_stage_consumer_lag_messages`` of the partitions assigned now; those a
        rebalance gave to another worker are dropped (that worker reports them), so the sum
        over a stage's workers is the stage's lag."""
        lag = await partition_lag(consumer)
        for number, behind in lag.items():
            CONSUMER_LAG.labels(self.stage, self.topic, str(number)).set(behind)
        now = {str(number) for number in lag}
        for gone in self._partitions - now:
            CONSUMER_LAG.remove(self.stage, self.topic, gone)
        self._partitions = now

    def handled(self, messages: list[Any], seconds: float) -> None:
        """A fetch was handled in ``seconds``; each message's latency is from its Kafka
        timestamp (ms, set by its producer) to now (a message is a batch of records)."""
        HANDLE_SECONDS.labels(self.stage).observe(seconds)
        now_ms = time.time() * 1000
        histogram = MESSAGE_LATENCY.labels(self.stage)
        for m in messages:
            if m.timestamp and m.timestamp > 0:
                histogram.observe(max(0.0, (now_ms - m.timestamp) / 1000))

    def sent(self, topics: Iterable[str]) -> None:
        """Messages published, by topic: one increment per topic of a chunk."""
        for topic, count in Counter(topics).items():
            MESSAGES_OUT.labels(self.stage, str(topic)).inc(count)
