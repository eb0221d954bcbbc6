"""``python -m edcs.provision``: what a production deployment runs once before (or with) each
release, as ``edcs up`` does for the embedded stack: migrate the store and create the topics
(never auto-created, design.md §3). Safe to run again; settings from ``EDCS_*``."""

from __future__ import annotations

import logging

from tenacity import Retrying, stop_after_delay, wait_fixed

from shared.db.migrate import upgrade
from shared.messaging.kafka import create_topics
from shared.observability import setup_logging
from shared.settings import Settings


def provision(settings: Settings, wait_seconds: float = 120.0) -> list[str]:
    """Migrate the store to head and create missing topics (waiting for the servers to come
    up); returns the topics created."""
    for attempt in Retrying(stop=stop_after_delay(wait_seconds), wait=wait_fixed(2),
                            reraise=True):
        with attempt:
            upgrade(settings.database.url)
    for attempt in Retrying(stop=stop_after_delay(wait_seconds), wait=wait_fixed(2),
                            reraise=True):
        with attempt:
            return create_topics(settings.kafka)
    return []


def main() -> None:
    """Provision from the environment's settings."""
    log = setup_logging("provision")
    created = provision(Settings())
    log.info("store migrated; topics created: %s", ", ".join(created) or "none (all existed)")


if __name__ == "__main__":
    logging.captureWarnings(True)
    main()
