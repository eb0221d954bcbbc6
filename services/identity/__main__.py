"""``python -m services.identity``: run the identity worker."""

from services.identity.worker import NAME, build_worker
from shared.messaging.entrypoint import main

main(NAME, build_worker)
