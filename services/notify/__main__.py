"""``python -m services.notify``: run the notify worker."""

from services.notify.worker import NAME, build_worker
from shared.messaging.entrypoint import main

main(NAME, build_worker)
