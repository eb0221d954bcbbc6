"""Validate worker: records.parsed -> records.validated.

Runs the catalog's field and record rules on every record of a batch and forwards the batch with
each record's issues; end-of-file events pass through unchanged. Rules that need the whole file
(duplicates within a file) run where the whole file is: at the post barrier.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from services.validate.engine import Context, validator_for
from shared.catalog.loader import Catalog, default_catalog
from shared.events.models import EndOfFile, RecordBatch, RecordStreamEvent, record_stream
from shared.events.topics import RECORDS_VALIDATED
from shared.messaging.runner import Outgoing, Worker
from shared.observability import ISSUES, RECORDS, Health
from shared.settings import Settings

NAME = "validate"


def validate_batch(batch: RecordBatch, catalog: Catalog) -> RecordBatch:
    """The batch with every record's issues added (parse issues are kept)."""
    collection = catalog.collection(batch.collection)
    if collection is None:
        return batch
    validator = validator_for(catalog.layout_of(collection), catalog)
    context = Context(institution_id=batch.institution_id, submitted_on=batch.submitted_on)
    for record in batch.records:
        if record.fields is not None:
            record.issues.extend(validator.validate(record.fields, record.row, context))
        for issue in record.issues:
            ISSUES.labels(issue.code, issue.severity.value).inc()
    return batch


def build_worker(settings: Settings) -> Worker[RecordStreamEvent]:
    """The validate stage wired to its topics and catalog."""
    catalog = default_catalog()

    def handle(events: Sequence[RecordStreamEvent]) -> Iterator[Outgoing]:
        for event in events:
            if isinstance(event, EndOfFile):
                key = f"{event.submission_id}:eof".encode()
                yield Outgoing(RECORDS_VALIDATED, key, event.model_dump_json().encode())
                continue
            validated = validate_batch(event, catalog)
            RECORDS.labels(NAME).inc(len(validated.records))
            key = f"{event.submission_id}:{event.school}".encode()
            yield Outgoing(RECORDS_VALIDATED, key, validated.model_dump_json().encode())

    return Worker(name=NAME, topic="records.parsed", group="edcs-validate",
                  decode=record_stream.validate_json, handle=handle, settings=settings,
                  health=Health(NAME))
