"""The event that sends a stored file through the pipeline: at upload, and again to re-drive it.

Every accepted file is kept by its sha256 before anything is published (shared.filestore), so a
submission can always be sent through again from its own bytes: after a restart of the embedded
stack (Tansu keeps nothing), by the watchdog when a file stopped moving, or by an operator's
replay. Posting is idempotent, so sending a file again never posts it twice.
"""

from __future__ import annotations

from shared.catalog.loader import Catalog
from shared.db.models import Submission
from shared.errors import PermanentError
from shared.events.models import FileReceived
from shared.events.topics import Topic
from shared.filestore import FileStore
from shared.intake import check_upload
from shared.messaging.runner import Outgoing, submission_key


def received_event(submission: Submission, delimiter: str) -> Outgoing:
    """The files.received event of an accepted submission."""
    event = FileReceived(submission_id=submission.id, collection=submission.collection,
                         institution_id=submission.institution_id,
                         submitted_on=submission.received_at.date(),
                         sha256=submission.sha256 or "", delimiter=delimiter)
    return Outgoing(Topic.FILES_RECEIVED, submission_key(submission.id),
                    event.model_dump_json().encode())


def redrive_event(catalog: Catalog, store: FileStore, submission: Submission) -> Outgoing:
    """The event that sends a stored submission through the pipeline again.

    Raises PermanentError when that cannot work: its file is gone from the store, or it no
    longer passes the preliminary checks (a collection withdrawn since).
    """
    if not submission.sha256 or not store.path(submission.sha256).is_file():
        raise PermanentError("its file is missing from the file store",
                             advice="Submit the file again.")
    with store.open(submission.sha256) as fh:
        intake = check_upload(catalog, submission.collection, fh, filename=submission.filename,
                              institution_id=submission.institution_id)
    if not intake.accepted or intake.delimiter is None:
        raise PermanentError("its file no longer passes the preliminary checks",
                             advice="Submit the file again.")
    return received_event(submission, intake.delimiter)
