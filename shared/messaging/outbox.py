"""The transactional outbox: events written with the change they announce, published after.

A process that commits a change and then publishes its event can die in between; the event is
then lost and the change never acted on. Here the event is a row in the same transaction as the
change; after the commit it is published and deleted, and whatever a crash leaves behind is
published by the next relay (the web app relays at start and every few seconds). An event may
so be published twice, never not at all; every consumer is idempotent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from shared.db.models import OutboxMessage, utcnow
from shared.messaging.kafka import topic_name
from shared.messaging.runner import Outgoing
from shared.settings import KafkaSettings


def put(session: Session, events: Sequence[Outgoing]) -> list[int]:
    """Write events to the outbox in the caller's transaction; returns their ids."""
    rows = [OutboxMessage(topic=e.topic, key=e.key, value=e.value) for e in events]
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]


def _load(sessions: sessionmaker[Session], ids: Sequence[int] | None,
          older_than: dt.timedelta | None, limit: int) -> list[tuple[int, str, bytes, bytes]]:
    query = select(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.key,
                   OutboxMessage.value).order_by(OutboxMessage.id).limit(limit)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    if older_than is not None:
        query = query.where(OutboxMessage.created_at < utcnow() - older_than)
    with sessions() as session:
        return [tuple(r) for r in session.execute(query)]  # type: ignore[misc]


def _forget(sessions: sessionmaker[Session], ids: Sequence[int]) -> None:
    with sessions.begin() as session:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))


async def relay(sessions: sessionmaker[Session], producer: Any, kafka: KafkaSettings,
                ids: Sequence[int] | None = None, older_than: dt.timedelta | None = None,
                limit: int = 500) -> int:
    """Publish outbox rows (these ids, or all older than ``older_than``) and delete them once
    the broker has acknowledged them; returns how many were published."""
    if ids is not None and not ids:
        return 0
    rows = await asyncio.to_thread(_load, sessions, ids, older_than, limit)
    for _, topic, key, value in rows:
        await producer.send_and_wait(topic_name(kafka, topic), value, key=key)
    if rows:
        await asyncio.to_thread(_forget, sessions, [r[0] for r in rows])
    return len(rows)
