"""Identity worker: submissions.status (its own consumer group) -> the SSID registry.

A posted file wakes it to file the file's SSIDs at once; its periodic work catches up with
whatever was posted since (services.identity.sync).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from services.identity.sync import BATCH, BUSY_BATCH, sync_registry
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

    def catch_up(while_busy: int) -> None:
        # full batches until caught up; while files are in flight, one small batch at most
        while sync_registry(sessions, catalog, ruleset, nicknames, key, while_busy) == BATCH:
            pass

    def handle(events: Sequence[SubmissionStatus]) -> Iterator[Outgoing]:
        if any(e.status == "posted" for e in events):
            catch_up(while_busy=0)  # with files in flight, the tick's small batch only
        return iter(())

    def tick() -> Iterator[Outgoing]:
        catch_up(while_busy=BUSY_BATCH)
        return iter(())

    return Worker(name=NAME, topic=Topic.SUBMISSIONS_STATUS, consumer_group=GROUP,
                  decode=SubmissionStatus.model_validate_json, handle=handle, tick=tick,
                  settings=settings, health=Health(NAME), fails_submissions=False)
