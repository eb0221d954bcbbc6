"""The topic registry (topics.yaml) and topic names with the deployment's prefix."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

FILES_RECEIVED = "files.received"
RECORDS_PARSED = "records.parsed"
RECORDS_VALIDATED = "records.validated"
SUBMISSIONS_STATUS = "submissions.status"
DLQ_SUFFIX = ".dlq"


class TopicSpec(BaseModel):
    """One topic of topics.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    description: str
    producer: str
    consumer: str
    event: str
    partitions: int
    replication: int = 1


@functools.cache
def topic_specs() -> tuple[TopicSpec, ...]:
    """Every topic with its dead-letter twin (one partition each)."""
    path = Path(__file__).with_name("topics.yaml")
    specs = [TopicSpec.model_validate(x) for x in yaml.safe_load(path.read_text("utf-8"))]
    dlqs = [s.model_copy(update={"name": s.name + DLQ_SUFFIX, "partitions": 1,
                                 "description": f"Dead letters of {s.name}",
                                 "producer": s.consumer, "consumer": "operator"})
            for s in specs]
    return (*specs, *dlqs)
