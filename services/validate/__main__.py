"""``python -m services.validate``: run the validate worker."""

from services.validate.worker import NAME, build_worker
from shared.messaging.entrypoint import main

main(NAME, build_worker)
