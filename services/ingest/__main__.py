"""``python -m services.ingest``: run the ingest worker."""

from services.ingest.worker import NAME, build_worker
from shared.messaging.entrypoint import main

main(NAME, build_worker)
