"""``python -m services.post``: run the post worker."""

from services.post.worker import NAME, build_worker
from shared.messaging.entrypoint import main

main(NAME, build_worker)
