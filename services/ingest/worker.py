"""Ingest worker: files.received -> records.parsed.

Reads each received file from the content-addressed store, finds its format again from its bytes
(shared.formats.detect: the same answer as at upload) and streams it into record batches.
A file that cannot be read at all (its collection is gone, its bytes are missing from the store)
fails its submission with the reason (shared.errors.PermanentError), through the runner.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from services.ingest.parser import parse_file
from shared.catalog.loader import default_catalog
from shared.errors import PermanentError
from shared.events.models import FileReceived
from shared.events.topics import Topic
from shared.filestore import FileStore
from shared.formats.detect import detect
from shared.messaging.runner import Outgoing, Worker
from shared.metrics import RECORDS_IN, RECORDS_OUT
from shared.observability import Health
from shared.settings import Settings

NAME = "ingest"


def build_worker(settings: Settings) -> Worker[FileReceived]:
    """The ingest stage wired to its topic, store and catalog."""
    catalog = default_catalog()
    store = FileStore(settings.files_dir)

    def counted(records: int) -> None:  # once per file
        RECORDS_IN.labels(NAME).inc(records)
        RECORDS_OUT.labels(NAME).inc(records)

    def handle(events: Sequence[FileReceived]) -> Iterator[Outgoing]:
        for event in events:
            collection = catalog.collection(event.collection)
            if collection is None:  # checked at upload; a replay of an old event may differ
                raise PermanentError(f"the collection {event.collection} is not known to "
                                     "this version of edcs")
            if not store.path(event.sha256).is_file():
                raise PermanentError("the uploaded file is missing from the file store")
            layout = catalog.layout_of(collection)
            with store.open(event.sha256) as stream:
                found = detect(stream, layout, collection,
                               max_unpacked=settings.pipeline.max_unpacked_bytes)
                if found.format is None:  # it passed at upload: only a new edcs could differ
                    raise PermanentError("the file no longer reads as "
                                         f"{collection.code}: {found.issues[0].message}")
                yield from parse_file(event, stream, layout, settings.pipeline, counted,
                                      found.format)

    return Worker(name=NAME, topic=Topic.FILES_RECEIVED, decode=FileReceived.model_validate_json,
                  handle=handle, settings=settings, health=Health(NAME),
                  submission_of=lambda e: e.submission_id)
