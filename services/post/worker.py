"""Post worker: records.validated -> the store, and submissions.status.

Stages every batch, and when a submission's staged count reaches its end-of-file count posts it
in one transaction (services.post.posting), then announces the milestone. Its periodic work is
the watchdog (services.post.watchdog): every submission reaches a final state.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from services.post.barrier import CLOCK
from services.post.by_school import can_post_by_school, post_by_school
from services.post.decision import Outcome, claim, decide, finish
from services.post.matching import MatchingContext
from services.post.planner import KeyMaker, coded_fields
from services.post.posting import post_submission
from services.post.staging import (
    record_end_of_file,
    settle_for_barrier,
    stage_batches,
    tidy_staging,
)
from services.post.watchdog import watch
from shared.catalog.loader import Catalog, default_catalog
from shared.catalog.models import Collection, Layout
from shared.db.models import FINAL_STATUSES, Submission
from shared.db.ordering import next_in_line
from shared.db.session import make_engine, make_session_factory
from shared.errors import PermanentError
from shared.events.models import EndOfFile, RecordBatch, RecordStreamEvent, decode_record_stream
from shared.events.topics import Topic
from shared.filestore import FileStore
from shared.messaging.runner import Outgoing, Worker, status_event
from shared.metrics import FILE_LATENCY, FILES, POST_SECONDS, RECORDS_IN, RECORDS_OUT
from shared.observability import Health
from shared.settings import Settings

NAME = "post"
# Staged rows of final submissions are removed while no event has come for a second, about a
# second's worth a tick, so the removal never delays the next file's posting; a worker never
# idle (a long statewide burst) still removes a second's worth every 30 s, so staging stays
# bounded. At start, every leftover goes.
IDLE_BEFORE_TIDY = 1.0
TIDY_SECONDS = 1.0
TIDY_AT_LEAST_EVERY = 30.0
log = logging.getLogger(__name__)


def stage_events(session: Session, catalog: Catalog, events: Sequence[RecordStreamEvent],
                 max_issues_per_code: int = 1000,
                 ) -> tuple[list[Outgoing], list[tuple[int, Collection, Layout]]]:
    """Stage every event of one fetch (one transaction for all its submissions).

    Returns the milestones to repeat (the end of a file already final: a replay) and the
    submissions that may now be complete.
    """
    by_submission: dict[int, list[RecordStreamEvent]] = defaultdict(list)
    for event in events:
        by_submission[event.submission_id].append(event)
    repeats: list[Outgoing] = []
    touched: list[tuple[int, Collection, Layout]] = []
    for submission_id, group in by_submission.items():
        submission = session.get(Submission, submission_id)
        collection = catalog.collection(submission.collection) if submission else None
        if submission is None:
            raise PermanentError("the submission is not in the store")
        if collection is None:
            raise PermanentError(f"the collection {submission.collection} is not known to "
                                 "this version of edcs")
        if submission.status in FINAL_STATUSES:
            if any(isinstance(e, EndOfFile) for e in group):
                repeats.append(status_event(submission_id, submission.status))
            continue
        layout = catalog.layout_of(collection)
        batches = [e for e in group if isinstance(e, RecordBatch)]
        if batches:
            CLOCK.staged(submission_id)
            RECORDS_IN.labels(NAME).inc(stage_batches(session, submission_id, batches,
                                                      KeyMaker(layout, submission.period,
                                                               submission.institution_id,
                                                               coded_fields(
                                                                   catalog.store_rules(
                                                                       layout.record_type))),
                                                      max_issues_per_code))
        for eof in (e for e in group if isinstance(e, EndOfFile)):
            record_end_of_file(session, eof)
        touched.append((submission_id, collection, layout))
    return repeats, touched


def post_if_complete(sessions: sessionmaker[Session], catalog: Catalog, submission_id: int,
                     collection: Collection, layout: Layout, max_issues_per_code: int = 1000,
                     by_school_above: int | None = None,
                     matching: MatchingContext | None = None) -> Outgoing | None:
    """Post the submission if every record is staged and no other worker has taken it: in one
    transaction, or school by school when the file has more than ``by_school_above`` records."""
    started = time.perf_counter()
    outcome: Outcome | None = None
    settle_for_barrier(sessions, submission_id)
    with sessions.begin() as session:
        if not claim(session, submission_id):
            return None
        CLOCK.claimed(submission_id)
        submission = session.get(Submission, submission_id, populate_existing=True)
        if submission is None:
            return None
        large = (by_school_above is not None
                 and (submission.expected_records or 0) > by_school_above
                 and can_post_by_school(layout, collection))
        if not large:
            outcome = post_submission(session, catalog, submission, collection, layout,
                                      max_issues_per_code, matching)
        else:
            decision = decide(session, submission, collection, layout, max_issues_per_code,
                              matching, catalog)
            if decision.rejected is not None:
                outcome = decision.rejected
                finish(session, submission, outcome, decision)
            else:
                submission.message = "Posting school by school (a large file)."
    mode = "whole"
    if outcome is None:
        mode = "by_school"
        outcome = post_by_school(sessions, catalog, submission_id, collection, layout,
                                 max_issues_per_code)
        if outcome is None:
            return None
    return _finished(sessions, submission_id, outcome, time.perf_counter() - started, mode)


def _finished(sessions: sessionmaker[Session], submission_id: int, outcome: Outcome,
              posting: float, mode: str) -> Outgoing:
    with sessions() as session:  # the job is final; its staged rows go when the worker idles
        submission = session.get(Submission, submission_id)
        if submission is not None:
            FILES.labels(submission.collection, outcome.status).inc()
            if submission.finished_at is not None:
                FILE_LATENCY.labels(outcome.status).observe(max(0.0, (
                    submission.finished_at - submission.received_at).total_seconds()))
    RECORDS_OUT.labels(NAME).inc(outcome.posted)
    POST_SECONDS.labels(mode).observe(posting)
    log.info("submission %s %s in %.1f s: %s posted, %s rejected", submission_id,
             outcome.status, posting, outcome.posted, outcome.rejected)
    return status_event(submission_id, outcome.status)


def finish_half_posted(sessions: sessionmaker[Session], catalog: Catalog, submission_id: int,
                       max_issues_per_code: int) -> list[Outgoing]:
    """Finish a large file a stopped worker left half-posted (only those commit 'posting')."""
    with sessions() as session:
        submission = session.get(Submission, submission_id)
        collection = catalog.collection(submission.collection) if submission else None
    if submission is None or collection is None or submission.status != "posting":
        return []
    started = time.perf_counter()
    outcome = post_by_school(sessions, catalog, submission_id, collection,
                             catalog.layout_of(collection), max_issues_per_code)
    if outcome is None:
        return []
    return [_finished(sessions, submission_id, outcome, time.perf_counter() - started,
                      "by_school")]


def post_in_line(sessions: sessionmaker[Session], catalog: Catalog, submission_id: int,
                 max_issues_per_code: int = 1000, by_school_above: int | None = None,
                 matching: MatchingContext | None = None) -> list[Outgoing]:
    """Post the submission if it is complete, then each next file of its institution and
    collection that posting it unblocked."""
    out: list[Outgoing] = []
    candidate: int | None = submission_id
    while candidate is not None:
        with sessions() as session:
            submission = session.get(Submission, candidate)
            collection = catalog.collection(submission.collection) if submission else None
        if collection is None:
            break
        done = post_if_complete(sessions, catalog, candidate, collection,
                                catalog.layout_of(collection), max_issues_per_code,
                                by_school_above, matching)
        if done is None:
            break
        out.append(done)
        with sessions() as session:
            candidate = next_in_line(session, candidate)
    return out


def handle_events(sessions: sessionmaker[Session], catalog: Catalog,
                  events: Sequence[RecordStreamEvent], max_issues_per_code: int = 1000,
                  by_school_above: int | None = None,
                  matching: MatchingContext | None = None) -> list[Outgoing]:
    """Stage a fetch of events, then post every submission it completes."""
    with sessions.begin() as session:
        out, touched = stage_events(session, catalog, events, max_issues_per_code)
    for submission_id, _, _ in touched:
        out += post_in_line(sessions, catalog, submission_id, max_issues_per_code,
                            by_school_above, matching)
    return out


def build_worker(settings: Settings) -> Worker[RecordStreamEvent]:
    """The post stage wired to its topic, store and catalog."""
    catalog = default_catalog()
    sessions = make_session_factory(make_engine(settings.database.url))
    store = FileStore(settings.files_dir)
    cap = settings.pipeline.max_issues_per_code
    above = settings.pipeline.post_by_school_above
    matching = MatchingContext.from_settings(settings)
    started = False
    last_busy = last_tidy = 0.0

    def handle(events: Sequence[RecordStreamEvent]) -> list[Outgoing]:
        nonlocal last_busy
        try:
            return handle_events(sessions, catalog, events, cap, above, matching)
        finally:
            last_busy = time.monotonic()

    def tick() -> list[Outgoing]:
        nonlocal started, last_tidy
        if not started:  # at start: staged rows a crash left behind of finished files
            cleared = tidy_staging(sessions, math.inf)
            if cleared:
                log.info("cleared %s staged records of finished submissions", cleared)
            started = True
        elif (time.monotonic() - last_busy >= IDLE_BEFORE_TIDY
              or time.monotonic() - last_tidy >= TIDY_AT_LEAST_EVERY):
            tidy_staging(sessions, TIDY_SECONDS)
            last_tidy = time.monotonic()
        return watch(sessions, catalog, store, settings.watchdog,
                     post=lambda sid: post_in_line(sessions, catalog, sid, cap, above,
                                                   matching),
                     finish_large=lambda sid: finish_half_posted(sessions, catalog, sid, cap))

    return Worker(name=NAME, topic=Topic.RECORDS_VALIDATED, decode=decode_record_stream,
                  handle=handle, tick=tick, settings=settings, health=Health(NAME),
                  submission_of=lambda e: e.submission_id)
