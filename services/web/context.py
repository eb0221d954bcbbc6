"""What every part of the web app shares: settings, catalog, store, file store, producer, and
the key that signs sessions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException
from sqlalchemy.orm import Session, sessionmaker

from shared.catalog.loader import Catalog
from shared.errors import reason_of
from shared.filestore import FileStore
from shared.messaging import outbox
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class WebContext:
    """The web app's dependencies, built once in ``create_app``."""

    settings: Settings
    catalog: Catalog
    sessions: sessionmaker[Session]
    store: FileStore
    session_key: bytes = b""
    state: dict[str, Any] = field(default_factory=dict)  # the producer, once started

    @property
    def producer(self) -> Any:
        """The Kafka producer (started with the app)."""
        producer = self.state.get("producer")
        if producer is None:
            raise HTTPException(503, "edcs is starting; try again in a moment")
        return producer

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run background work (a download being built), kept referenced until it is done."""
        tasks: set[asyncio.Task[Any]] = self.state.setdefault("tasks", set())
        task = asyncio.ensure_future(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def publish(self, ids: list[int]) -> None:
        """Publish committed outbox rows now; if the broker is unavailable (or not connected
        yet) they stay in the outbox and the relay publishes them when it is back."""
        if self.state.get("producer") is None:
            return
        try:
            await outbox.relay(self.sessions, self.producer, self.settings.kafka, ids)
        except Exception as exc:  # noqa: BLE001 - the rows stay owed; the relay retries
            log.warning("publishing deferred to the outbox relay: %s", reason_of(exc))
