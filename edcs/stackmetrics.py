"""``edcs up``'s own /metrics: what its supervisor knows and no worker can report.

Restarts of each child (``Child.restarts``), whether each child runs, replacements of the
embedded broker and its memory, read from the stack at every scrape. Served on loopback at the
port ``edcs up`` prints as ``stack metrics`` (Prometheus scrapes it as job ``edcs-stack``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from shared.metrics import (
    STACK_BROKER_MEMORY,
    STACK_BROKER_REPLACED,
    STACK_RESTARTS,
    STACK_UP,
)

if TYPE_CHECKING:
    from edcs.stack import Stack


class StackCollector:
    """The catalog's ``edcs_stack_*`` metrics, from the stack's children."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def collect(self) -> Iterator[Metric]:
        """One sample per child (restarts, up) and the broker's figures."""
        from edcs.supervisor import rss_mb

        restarts = CounterMetricFamily(STACK_RESTARTS.name, STACK_RESTARTS.meaning,
                                       labels=list(STACK_RESTARTS.labels))
        up = GaugeMetricFamily(STACK_UP.name, STACK_UP.meaning, labels=list(STACK_UP.labels))
        # No lock: the supervisor holds it for as long as a broker replacement takes, and a
        # scrape must not wait for that (copying the dict is atomic enough under the GIL).
        children = list(self.stack.children.items())
        replaced = self.stack.broker_replacements
        memory = 0.0
        for name, child in children:
            running = child.proc is not None and child.proc.poll() is None
            restarts.add_metric([name], child.restarts)
            up.add_metric([name], 1 if running else 0)
            if name == "broker" and running and child.proc is not None:
                memory = rss_mb(child.proc.pid) * 1024 * 1024
        yield restarts
        yield up
        yield CounterMetricFamily(STACK_BROKER_REPLACED.name, STACK_BROKER_REPLACED.meaning,
                                  value=replaced)
        if self.stack.embedded_broker:
            yield GaugeMetricFamily(STACK_BROKER_MEMORY.name, STACK_BROKER_MEMORY.meaning,
                                    value=memory)


def serve_stack_metrics(stack: Stack, port: int) -> ThreadingHTTPServer:
    """Serve the stack's /metrics on 127.0.0.1:port in a daemon thread."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StackCollector(stack))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] == "/metrics":
                body, ctype, status = generate_latest(registry), CONTENT_TYPE_LATEST, 200
            else:
                body, ctype, status = b"not found", "text/plain", 404
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="stack-metrics").start()
    return server
