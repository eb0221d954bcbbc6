"""Kafka clients: aiokafka for the hot path, kafka-python for admin (kafka-on-tansu.md §0).

This is the only module that imports a Kafka client.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import IllegalStateError
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from shared.events.topics import topic_specs

__all__ = ["TopicPartition", "create_topics", "make_consumer", "make_producer", "make_reader",
           "partition", "partition_lag", "topic_name"]
from shared.settings import KafkaSettings


def topic_name(settings: KafkaSettings, name: str) -> str:
    """The deployed name of a logical topic (with the deployment's prefix)."""
    return settings.topic_prefix + name


def make_producer(settings: KafkaSettings) -> AIOKafkaProducer:
    """A batching producer; acks=all so an acknowledged batch is durable on the broker."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        linger_ms=settings.linger_ms,
        max_batch_size=settings.max_batch_size,
        max_request_size=settings.max_request_size,
        acks="all",
    )


def make_consumer(settings: KafkaSettings, topic: str, group: str) -> AIOKafkaConsumer:
    """A group consumer that never auto-commits: the runner commits after output is durable."""
    return AIOKafkaConsumer(
        topic_name(settings, topic),
        bootstrap_servers=settings.bootstrap_servers,
        group_id=settings.topic_prefix + group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        # A fetch of ``fetch_max_records`` batches of one file (one partition: the validated
        # batches are keyed by submission) is up to 64 x ~180 KB; at 8 MB a fetch stopped at
        # about 44 and the post stage committed twice as often.
        max_partition_fetch_bytes=16 * 1024 * 1024,
        fetch_max_bytes=16 * 1024 * 1024,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )


def make_reader(settings: KafkaSettings) -> AIOKafkaConsumer:
    """A consumer outside every group, for reading topics by offset (replay, operator tools)."""
    return AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None,
                            enable_auto_commit=False, auto_offset_reset="earliest",
                            max_partition_fetch_bytes=2 * 1024 * 1024,
                            fetch_max_bytes=8 * 1024 * 1024)


async def partition_lag(consumer: AIOKafkaConsumer) -> dict[int, int]:
    """Messages not yet consumed per assigned partition number: the high watermark of the last
    fetch response minus the consumer's position.

    Never ListOffsets: Tansu answers it with the base offset of the last batch plus one
    (kafka-on-tansu.md B1), while the watermark in fetch responses is right. A partition not
    fetched yet (no watermark) is left out.
    """
    lag: dict[int, int] = {}
    for tp in consumer.assignment():
        try:
            high = consumer.highwater(tp)
            if high is None:
                continue
            # Known once fetched; the timeout only guards a rebalance resetting it meanwhile.
            position = await asyncio.wait_for(consumer.position(tp), timeout=1.0)
        except (IllegalStateError, AssertionError, TimeoutError):
            continue  # assignment changed under us: the next fetch reports it
        lag[tp.partition] = max(0, high - position)
    return lag


def partition(settings: KafkaSettings, topic: str, number: int) -> TopicPartition:
    """A partition of a logical topic, by its deployed name."""
    return TopicPartition(topic_name(settings, topic), number)


def create_topics(settings: KafkaSettings) -> list[str]:
    """Create every topic of topics.yaml that does not exist yet; returns the ones created."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers,
                             client_id="edcs-admin", request_timeout_ms=30_000)
    created: list[str] = []
    try:
        existing = set(admin.list_topics())
        wanted = [NewTopic(topic_name(settings, s.name), s.partitions, s.replication)
                  for s in topic_specs() if topic_name(settings, s.name) not in existing]
        for topic in wanted:
            try:
                admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
    return created

