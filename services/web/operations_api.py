"""The operator's API: replay a submission or a topic, dead letters, fail a job.

State operators only: a dead letter's value may hold student data of any district, and a replay
or a failed job affects a district's data.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from services.web.context import WebContext
from services.web.operations import (
    Refused,
    dead_letters,
    fail_submission,
    letter_json,
    replay_letter,
    replay_submission,
)
from services.web.problems import Id
from services.web.security import api_principal, require
from shared.accounts import Principal
from shared.db.lifecycle import record_event
from shared.db.models import DeadLetter
from shared.events.topics import Topic
from shared.messaging.replay import replay_topic


class FailRequest(BaseModel):
    """An operator's reason for failing a submission."""

    reason: str = Field(max_length=2000)


class TopicReplayRequest(BaseModel):
    """Re-read a topic from a time (UTC)."""

    topic: str = Field(max_length=100)
    since: dt.datetime


def _refused(refused: Refused) -> HTTPException:
    return HTTPException(refused.status, refused.message)


def operator(request: Request) -> Principal:
    """Only a state operator passes."""
    principal = api_principal(request)
    require(principal, "operate")
    return principal


def operations_router(web: WebContext) -> APIRouter:
    """Routes for replay, dead letters and failing jobs."""
    router = APIRouter(prefix="/api/v1", tags=["operations"],
                       dependencies=[Depends(operator)])
    _submission_routes(router, web)
    _letter_routes(router, web)
    return router


def _submission_routes(router: APIRouter, web: WebContext) -> None:
    @router.post("/submissions/{submission_id}/replay")
    async def api_replay_submission(submission_id: Id, force: bool = False) -> dict[str, Any]:
        def work() -> list[int]:
            with web.sessions.begin() as session:
                return replay_submission(session, web.catalog, web.store, submission_id,
                                         force=force)

        try:
            ids = await run_in_threadpool(work)
        except Refused as refused:
            raise _refused(refused) from None
        await web.publish(ids)
        return {"submission": submission_id, "replayed": True}

    @router.post("/submissions/{submission_id}/fail")
    def api_fail(submission_id: Id, request: FailRequest) -> dict[str, Any]:
        try:
            with web.sessions.begin() as session:
                fail_submission(session, submission_id, request.reason)
        except Refused as refused:
            raise _refused(refused) from None
        return {"submission": submission_id, "status": "failed"}

    @router.post("/replays")
    async def api_replay_topic(request: TopicReplayRequest) -> dict[str, Any]:
        try:
            topic = Topic(request.topic)
        except ValueError:
            raise HTTPException(422, f"no topic {request.topic!r}; topics are "
                                     f"{', '.join(t.value for t in Topic)}") from None
        since = (request.since.astimezone(dt.UTC).replace(tzinfo=None)
                 if request.since.tzinfo else request.since)
        label = f"{topic.value} since {since.isoformat(timespec='seconds')}Z"
        done = await replay_topic(web.settings.kafka, web.producer, topic, since, label)

        def remember() -> None:
            with web.sessions.begin() as session:
                for sid, count in done.submissions.items():
                    record_event(session, sid, "replayed",
                                 f"{count} of its events on {topic.value} since "
                                 f"{since.isoformat(timespec='seconds')}Z were read again by an "
                                 "operator's replay; nothing done already was done twice.")

        await run_in_threadpool(remember)
        return {"topic": topic.value, "since": since.isoformat(timespec="seconds") + "Z",
                "messages": done.messages, "submissions": sorted(done.submissions),
                "partitions": {str(p): {"from": a, "to": b}
                               for p, (a, b) in sorted(done.partitions.items())}}


def _letter_routes(router: APIRouter, web: WebContext) -> None:
    @router.get("/dead-letters")
    def api_dead_letters(limit: Annotated[int, Query(ge=1, le=5000)] = 200
                         ) -> list[dict[str, Any]]:
        with web.sessions() as session:
            return [letter_json(x) for x in dead_letters(session, min(limit, 5000))]

    @router.get("/dead-letters/{letter_id}")
    def api_dead_letter(letter_id: Id, value: bool = False) -> dict[str, Any]:
        with web.sessions() as session:
            letter = session.get(DeadLetter, letter_id)
            if letter is None:
                raise HTTPException(404, f"no dead letter {letter_id}")
            return letter_json(letter, with_value=value)

    @router.post("/dead-letters/{letter_id}/replay")
    async def api_replay_letter(letter_id: Id, force: bool = False) -> dict[str, Any]:
        def work() -> tuple[list[int], int | None]:
            with web.sessions.begin() as session:
                done = replay_letter(session, web.catalog, web.store, letter_id, force=force)
                return done.outbox_ids, done.replayed_submission

        try:
            ids, submission = await run_in_threadpool(work)
        except Refused as refused:
            raise _refused(refused) from None
        await web.publish(ids)
        return {"dead_letter": letter_id, "replayed_submission": submission}
