"""The topic registry: every topic's name, its consumer group and its dead-letter twin.

``topics.yaml`` describes each topic (partitions, producer, consumer, event); ``Topic`` names
them for code, and loading the registry fails if the two disagree, so a topic has one home.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

DLQ_SUFFIX = ".dlq"


class Topic(StrEnum):
    """The logical topics of the pipeline (deployed names add the deployment's prefix)."""

    FILES_RECEIVED = "files.received"
    RECORDS_PARSED = "records.parsed"
    RECORDS_VALIDATED = "records.validated"
    SUBMISSIONS_STATUS = "submissions.status"

    @property
    def dead_letters(self) -> str:
        """The topic's dead-letter twin."""
        return self.value + DLQ_SUFFIX


class TopicSpec(BaseModel):
    """One topic of topics.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    description: str
    producer: str
    consumer: str
    group: str | None = None  # the consuming stage's consumer group
    event: str
    partitions: int
    replication: int = 1


@functools.cache
def topic_specs() -> tuple[TopicSpec, ...]:
    """Every topic with its dead-letter twin (one partition each)."""
    path = Path(__file__).with_name("topics.yaml")
    specs = [TopicSpec.model_validate(x) for x in yaml.safe_load(path.read_text("utf-8"))]
    names = {s.name for s in specs}
    if names != {t.value for t in Topic}:
        raise ValueError(f"topics.yaml names {sorted(names)}, code names "
                         f"{sorted(t.value for t in Topic)}")
    dlqs = [s.model_copy(update={"name": s.name + DLQ_SUFFIX, "partitions": 1, "group": None,
                                 "description": f"Dead letters of {s.name}",
                                 "producer": s.consumer, "consumer": "operator"})
            for s in specs]
    return (*specs, *dlqs)


def spec(topic: Topic) -> TopicSpec:
    """The registry entry of a topic."""
    return next(s for s in topic_specs() if s.name == topic.value)


def group_of(topic: Topic) -> str:
    """The consumer group of the stage that consumes a topic."""
    group = spec(topic).group
    if group is None:
        raise ValueError(f"topics.yaml gives no consumer group for {topic.value}")
    return group
