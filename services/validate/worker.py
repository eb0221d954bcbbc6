"""Validate worker: records.parsed -> records.validated.

Runs the catalog's field and record rules on every record of a batch and forwards the batch with
each record's issues; end-of-file events pass through unchanged. Rules that need the whole file
(duplicates within a file) run where the whole file is: at the post barrier.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from services.validate.engine import Context, validator_for
from shared.catalog.loader import Catalog, default_catalog
from shared.errors import PermanentError
from shared.events.models import EndOfFile, Record, RecordBatch, RecordStreamEvent, record_stream
from shared.events.topics import Topic
from shared.messaging.runner import Outgoing, Worker
from shared.metrics import ISSUES, RECORDS_IN, RECORDS_OUT
from shared.observability import Health
from shared.settings import Settings

NAME = "validate"


def validate_batch(batch: RecordBatch, catalog: Catalog) -> RecordBatch:
    """A copy of the batch with every record's issues added (parse issues are kept)."""
    collection = catalog.collection(batch.collection)
    if collection is None:
        raise PermanentError(f"the collection {batch.collection} is not known to this version "
                             "of edcs")
    validator = validator_for(catalog.layout_of(collection), catalog)
    context = Context(institution_id=batch.institution_id, submitted_on=batch.submitted_on)
    records = []
    found: Counter[tuple[str, str]] = Counter()
    for record in batch.records:
        issues = record.issues
        if record.fields is not None:
            issues = [*issues, *validator.validate(record.fields, record.row, context)]
        if issues:
            found.update((issue.code, issue.severity.value) for issue in issues)
        records.append(Record.model_construct(row=record.row, fields=record.fields,
                                              issues=issues))
    for (code, severity), count in found.items():  # once per code of the batch
        ISSUES.labels(code, severity).inc(count)
    return batch.model_copy(update={"records": records})


def build_worker(settings: Settings) -> Worker[RecordStreamEvent]:
    """The validate stage wired to its topics and catalog."""
    catalog = default_catalog()

    def handle(events: Sequence[RecordStreamEvent]) -> Iterator[Outgoing]:
        for event in events:
            if isinstance(event, EndOfFile):
                key = f"{event.submission_id}:eof".encode()
                yield Outgoing(Topic.RECORDS_VALIDATED, key, event.model_dump_json().encode())
                continue
            RECORDS_IN.labels(NAME).inc(len(event.records))
            validated = validate_batch(event, catalog)
            RECORDS_OUT.labels(NAME).inc(len(validated.records))
            key = f"{event.submission_id}:{event.school}".encode()
            yield Outgoing(Topic.RECORDS_VALIDATED, key, validated.model_dump_json().encode())

    return Worker(name=NAME, topic=Topic.RECORDS_PARSED, decode=record_stream.validate_json,
                  handle=handle, settings=settings, health=Health(NAME),
                  submission_of=lambda e: e.submission_id)
