"""What every part of the web app shares: settings, catalog, store, file store, producer."""

from __future__ import annotations

import logging
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
    state: dict[str, Any] = field(default_factory=dict)  # the producer, once started

    @property
    def producer(self) -> Any:
        """The Kafka producer (started with the app)."""
        producer = self.state.get("producer")
        if producer is None:
            raise HTTPException(503, "edcs is starting; try again in a moment")
        return producer

    async def publish(self, ids: list[int]) -> None:
        """Publish committed outbox rows now; if the broker is unavailable they stay in the
        outbox and the relay publishes them when it is back."""
        try:
            await outbox.relay(self.sessions, self.producer, self.settings.kafka, ids)
        except Exception as exc:  # noqa: BLE001 - the rows stay owed; the relay retries
            log.warning("publishing deferred to the outbox relay: %s", reason_of(exc))
