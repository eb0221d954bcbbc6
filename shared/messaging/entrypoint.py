"""``python -m services.<name>``: settings, logging, /metrics, then the worker loop."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from shared.messaging.runner import Worker, run_until_signalled
from shared.observability import serve_metrics, setup_logging
from shared.settings import Settings


def main(name: str, build: Callable[[Settings], Worker[Any]]) -> None:
    """Start one worker process and run it until signalled."""
    settings = Settings()
    log = setup_logging(name)
    worker = build(settings)
    # Batches allocate many short-lived objects; CPython's default thresholds make the cyclic
    # collector the bottleneck (kafka-on-tansu.md §4e: 4-5x slower decoding). Start-up objects
    # are frozen out of every collection.
    gc.set_threshold(200_000, 50, 100)
    gc.freeze()
    if settings.metrics_port:
        serve_metrics(settings.metrics_port, worker.health.snapshot)
        log.info("metrics on http://127.0.0.1:%s/metrics", settings.metrics_port)
    run_until_signalled(worker)
