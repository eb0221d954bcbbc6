"""Consumer lag on a real broker (Tansu) comes from the fetch high watermark: ListOffsets
LATEST answers base offset of the last batch + 1 there (kafka-on-tansu.md B1), so records
produced in one batch would look consumed."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.events.topics import Topic
from shared.messaging.kafka import partition, partition_lag, topic_name
from shared.settings import KafkaSettings

pytestmark = pytest.mark.integration


async def lag_after_reading(kafka: KafkaSettings, produced: int, read: int) -> dict[int, int]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, linger_ms=200)
    await producer.start()
    try:  # one batch: sent together, acknowledged together
        sends = [await producer.send(topic_name(kafka, Topic.RECORDS_PARSED), b"x",
                                     partition=2) for _ in range(produced)]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([partition(kafka, Topic.RECORDS_PARSED, 2)])
        got = 0
        while got < read:
            fetched = await consumer.getmany(timeout_ms=2000, max_records=read - got)
            got += sum(len(batch) for batch in fetched.values())
        return await partition_lag(consumer)
    finally:
        await consumer.stop()


def test_lag_is_the_high_watermark_minus_the_position(kafka: KafkaSettings) -> None:
    assert asyncio.run(lag_after_reading(kafka, produced=20, read=5)) == {2: 15}


def test_no_lag_once_everything_is_read(kafka: KafkaSettings) -> None:
    assert asyncio.run(lag_after_reading(kafka, produced=7, read=7)) == {2: 0}
