"""Validate worker: records.parsed -> records.validated.

Runs the catalog's field and record rules on every record of a batch and forwards the batch with
each record's issues, its SSNs replaced by their keyed hash (shared.privacy); end-of-file events
pass through unchanged. Rules that need the whole file
(duplicates within a file) run where the whole file is: at the post barrier.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import msgspec

from services.validate.engine import Context, validator_for
from shared.catalog.loader import Catalog, default_catalog
from shared.db.session import make_engine, make_session_factory
from shared.db.windows import CurrentWindows
from shared.errors import PermanentError
from shared.events.models import (
    EndOfFile,
    Record,
    RecordBatch,
    RecordStreamEvent,
    decode_record_stream,
    encode,
)
from shared.events.topics import Topic
from shared.messaging.runner import Outgoing, Worker, submission_key
from shared.metrics import ISSUES, RECORDS_IN, RECORDS_OUT
from shared.observability import Health
from shared.privacy import Hasher, hasher
from shared.settings import Settings
from shared.windows import Window, configured, required_year

NAME = "validate"


def validate_batch(batch: RecordBatch, catalog: Catalog, ssns: Hasher,
                   windows: Iterable[Window] | None = None) -> RecordBatch:
    """A copy of the batch with every record's issues added (parse issues are kept), and its
    hashed fields (SSNs) in their stored form: from here on no stage sees the clear value.
    ``windows``: the collection windows (None: the shipped file)."""
    collection = catalog.collection(batch.collection)
    if collection is None:
        raise PermanentError(f"the collection {batch.collection} is not known to this version "
                             "of edcs")
    layout = catalog.layout_of(collection)
    validator = validator_for(layout, catalog)
    hashed = layout.hashed_fields
    ids = {layout.fields[i].id: i for i in hashed}
    year = required_year(layout, windows, collection.code, batch.submitted_on)
    context = Context(institution_id=batch.institution_id, submitted_on=batch.submitted_on,
                      collection_year=year)
    records = []
    found: Counter[tuple[str, str]] = Counter()
    for record in batch.records:
        issues = record.issues
        fields = record.fields
        if fields is not None:
            issues = [*issues, *validator.validate(fields, record.row, context)]
            if hashed:
                failed = [ids[i.field] for i in issues if i.field in ids]
                fields = ssns.protect(fields, hashed, failed)
        if issues:
            found.update((issue.code, issue.severity.value) for issue in issues)
        records.append(Record(record.row, fields, issues))
    for (code, severity), count in found.items():  # once per code of the batch
        ISSUES.labels(code, severity).inc(count)
    return msgspec.structs.replace(batch, records=records)


def key_of(event: RecordStreamEvent) -> bytes:
    """A validated event's key: its submission alone, so every batch and the end-of-file of a
    file go to one partition and one post worker stages and posts the whole file, while other
    files go to the other workers. (Keyed by batch, every post worker staged part of every
    file, and its completeness check then waited on the row lock that another worker's
    barrier held on the submission: two post workers on PostgreSQL were no faster than one.)
    Validation still spreads a file: the parsed batches are keyed by batch."""
    return submission_key(event.submission_id)


def build_worker(settings: Settings) -> Worker[RecordStreamEvent]:
    """The validate stage wired to its topics and catalog."""
    catalog = default_catalog()
    ssn = hasher(settings)
    # The configured file's windows with those loaded by `edcs reference load` over them, read
    # from the store when a batch needs its collection's year (SSCE), so a load applies at once.
    windows = CurrentWindows(make_session_factory(make_engine(settings.database.url)),
                             configured(settings.windows_file))

    def handle(events: Sequence[RecordStreamEvent]) -> Iterator[Outgoing]:
        for event in events:
            if isinstance(event, EndOfFile):
                yield Outgoing(Topic.RECORDS_VALIDATED, key_of(event), encode(event))
                continue
            RECORDS_IN.labels(NAME).inc(len(event.records))
            validated = validate_batch(event, catalog, ssn, windows)
            RECORDS_OUT.labels(NAME).inc(len(validated.records))
            yield Outgoing(Topic.RECORDS_VALIDATED, key_of(event), encode(validated))

    return Worker(name=NAME, topic=Topic.RECORDS_PARSED, decode=decode_record_stream,
                  handle=handle, settings=settings, health=Health(NAME),
                  submission_of=lambda e: e.submission_id)
