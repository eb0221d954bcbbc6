"""Re-read a topic from a time and publish what it held again (``edcs replay --topic``).

Every stage is idempotent (staging by physical row, posting claimed once, emails once per
milestone), so events published twice change nothing that was done; events whose work was lost
get done. The copies carry an ``edcs-replay`` header.

Tansu's timestamp index is at batch granularity and by the broker's ingest time
(kafka-on-tansu.md B2), and it answers a time later than every batch with offset 0 and
timestamp -1 where Kafka answers nothing (B3): that answer is read as "nothing to replay",
so a time in the future replays nothing. The end of each partition is the high watermark that
fetch responses carry (ListOffsets is wrong on Tansu, B1), taken before anything is published
again, so the copies are never read back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shared.events.topics import Topic, spec
from shared.messaging.kafka import make_reader, partition, topic_name
from shared.messaging.runner import submission_from_key
from shared.settings import KafkaSettings

HEADER = "edcs-replay"


@dataclass
class TopicReplay:
    """What a topic replay published again."""

    topic: str
    since: dt.datetime
    messages: int = 0
    partitions: dict[int, tuple[int, int]] = field(default_factory=dict)  # first, end offsets
    submissions: Counter[int] = field(default_factory=Counter)


async def _starts(reader: Any, kafka: KafkaSettings, topic: Topic,
                  since: dt.datetime) -> dict[Any, int]:
    partitions = [partition(kafka, topic, n) for n in range(spec(topic).partitions)]
    reader.assign(partitions)
    at_ms = int(since.replace(tzinfo=dt.UTC).timestamp() * 1000)
    found = await reader.offsets_for_times(dict.fromkeys(partitions, at_ms))
    return {tp: hit.offset for tp, hit in found.items()
            if hit is not None and hit.timestamp != -1}  # B3: -1 means "no such offset"


async def _ends(reader: Any, starts: dict[Any, int], timeout: float) -> dict[Any, int]:
    """The high watermark of each partition, from fetch responses."""
    for tp, offset in starts.items():
        reader.seek(tp, offset)
    deadline = asyncio.get_running_loop().time() + timeout
    ends: dict[Any, int] = {}
    pending = dict(starts)
    while pending and asyncio.get_running_loop().time() < deadline:
        await reader.getmany(*pending, timeout_ms=200, max_records=1)
        for tp in list(pending):
            high = reader.highwater(tp)
            if high is not None:
                ends[tp] = high
                del pending[tp]
    for tp, offset in starts.items():
        reader.seek(tp, offset)
    return ends


async def replay_topic(kafka: KafkaSettings, producer: Any, topic: Topic, since: dt.datetime,
                       label: str, limit: int = 5_000_000, timeout: float = 10.0
                       ) -> TopicReplay:
    """Publish again every message the topic received since ``since`` (UTC), up to the end
    the topic had when the replay started; at most ``limit`` messages."""
    result = TopicReplay(topic=topic.value, since=since)
    if since > dt.datetime.now(dt.UTC).replace(tzinfo=None):
        return result
    reader = make_reader(kafka)
    await reader.start()
    try:
        starts = await _starts(reader, kafka, topic, since)
        ends = {tp: end for tp, end in (await _ends(reader, starts, timeout)).items()
                if end > starts[tp]}
        result.partitions = {tp.partition: (starts[tp], end) for tp, end in ends.items()}
        remaining = dict(ends)
        headers = [(HEADER, label.encode())]
        quiet = 0
        while remaining and result.messages < limit and quiet < timeout:
            fetched = await reader.getmany(*remaining, timeout_ms=1000, max_records=500)
            sends = []
            for tp, batch in fetched.items():
                for message in batch:
                    if tp not in remaining or message.offset >= remaining[tp]:
                        continue
                    sends.append(await producer.send(topic_name(kafka, topic), message.value,
                                                     key=message.key, headers=headers))
                    result.messages += 1
                    sid = submission_from_key(message.key)
                    if sid is not None:
                        result.submissions[sid] += 1
                    if message.offset + 1 >= remaining[tp]:
                        del remaining[tp]
            await asyncio.gather(*sends)
            quiet = 0 if fetched else quiet + 1  # rounds of one second with nothing to read
            for tp in list(remaining):
                if await reader.position(tp) >= remaining[tp]:
                    del remaining[tp]
    finally:
        await reader.stop()
    return result
