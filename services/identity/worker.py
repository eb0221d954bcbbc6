"""Identity worker: submissions.status (its own consumer group) -> the SSID registry.

A posted file wakes it to file the file's SSIDs at once; its periodic work catches up with
whatever was posted since (services.identity.sync).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from services.identity.sync import sync_registry
from shared.catalog.loader import default_catalog
from shared.db.session import make_engine, make_session_factory
from shared.events.models import SubmissionStatus
from shared.events.topics import Topic
from shared.matching.levels import default_ruleset
from shared.matching.nicknames import default_nicknames
from shared.messaging.runner import Outgoing, Worker
from shared.observability import Health
from shared.privacy import hmac_key
from shared.settings import Settings

NAME = "identity"
GROUP = "edcs-identity"


def build_worker(settings: Settings) -> Worker[SubmissionStatus]:
    """The identity stage wired to the store."""
    sessions = make_session_factory(make_engine(settings.database.url))
    catalog = default_catalog()
    ruleset, nicknames = default_ruleset(), default_nicknames()
    key = hmac_key(settings)

    def catch_up(force: bool) -> None:
        while sync_registry(sessions, catalog, ruleset, nicknames, key, force=force):
            force = False  # the rest waits for quiet while files are posting

    def handle(events: Sequence[SubmissionStatus]) -> Iterator[Outgoing]:
        if any(e.status == "posted" for e in events):
            catch_up(force=False)
        return iter(())

    def tick() -> Iterator[Outgoing]:
        catch_up(force=False)
        return iter(())

    return Worker(name=NAME, topic=Topic.SUBMISSIONS_STATUS, consumer_group=GROUP,
                  decode=SubmissionStatus.model_validate_json, handle=handle, tick=tick,
                  settings=settings, health=Health(NAME), fails_submissions=False)
