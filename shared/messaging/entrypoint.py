"""``python -m services.<name>``: settings, logging, /metrics, then the worker loop."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db.lifecycle import keep_dead_letter
from shared.db.models import Submission
from shared.db.session import make_engine, make_session_factory
from shared.errors import ConfigError
from shared.messaging.runner import DeadLetterSink, Worker, run_until_signalled
from shared.observability import serve_metrics, setup_logging
from shared.settings import Settings


def stored_dead_letters(sessions: sessionmaker[Session]) -> DeadLetterSink:
    """Dead letters kept in the store (``edcs dlq``), each failing its submission."""

    def keep(*, stage: str, topic: str, partition: int, offset: int, key: bytes | None,
             value: bytes | None, submission_id: int | None, reason: str,
             fail_submission: bool) -> int:
        with sessions.begin() as session:
            return keep_dead_letter(session, stage=stage, topic=topic, partition=partition,
                                    offset=offset, key=key, value=value,
                                    submission_id=submission_id, reason=reason,
                                    fail_submission=fail_submission)

    return keep


def failed_in_store(sessions: sessionmaker[Session]) -> Callable[[int], bool]:
    """Whether a submission is failed in the store now."""

    def failed(submission_id: int) -> bool:
        with sessions() as session:
            return session.scalar(select(Submission.status).where(
                Submission.id == submission_id)) == "failed"

    return failed


def main(name: str, build: Callable[[Settings], Worker[Any]]) -> None:
    """Start one worker process and run it until signalled."""
    settings = Settings()
    log = setup_logging(name)
    try:
        worker = build(settings)
    except ConfigError as exc:
        log.critical("%s cannot start: %s", name, exc)
        sys.exit(2)
    sessions = make_session_factory(make_engine(settings.database.url))
    if worker.dead_letters is None:
        worker.dead_letters = stored_dead_letters(sessions)
    if worker.still_failed is None:
        worker.still_failed = failed_in_store(sessions)
    # Batches allocate many short-lived objects; CPython's default thresholds make the cyclic
    # collector the bottleneck (kafka-on-tansu.md §4e: 4-5x slower decoding). Start-up objects
    # are frozen out of every collection.
    gc.set_threshold(200_000, 50, 100)
    gc.freeze()
    worker.health.live_seconds = settings.runner.live_seconds
    if settings.metrics_port:
        serve_metrics(settings.metrics_port, worker.health.snapshot, worker.name,
                      settings.bind_host)
        log.info("metrics on http://%s:%s/metrics", settings.bind_host, settings.metrics_port)
    run_until_signalled(worker)
