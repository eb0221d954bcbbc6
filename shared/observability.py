"""Logging, and the /metrics and /health endpoints every worker serves (Prometheus).

The metrics themselves are declared in shared.metrics (the catalog); a worker serves only its
own. Logs and labels never carry student data, file names or school codes (design.md §6).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.metrics import HALTED, exposition


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, stage, logger, message and, when the code gives
    it (``extra={"submission": id}``), the submission. Messages never carry record values."""

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname, "stage": self.stage, "logger": record.name,
            "msg": record.getMessage()}
        submission = getattr(record, "submission", None)
        if submission is not None:
            entry["submission"] = submission
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__  # the type only: messages quote data
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(name: str, level: str = "INFO") -> logging.Logger:
    """JSON logs naming the process (stage); never log record values."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return logging.getLogger(name)


class Health:
    """What /health reports: whether the worker consumes (ready), when it last polled, and
    whether it halted; /health/live whether its loop is alive at all."""

    def __init__(self, name: str, live_seconds: float = 900.0) -> None:
        self.name = name
        self.started = time.time()
        self.last_poll = 0.0
        self.ready = False
        self.halted: str | None = None  # why the worker stopped taking events
        # A loop that has not polled for this long (a handler hung on a lock) is not alive;
        # longer than any one fetch takes, the posting of a very large file included.
        self.live_seconds = live_seconds

    def halt(self, why: str) -> None:
        """Stop taking events, saying why (on /health and as ``edcs_stage_halted``)."""
        self.halted = why
        HALTED.labels(self.name).set(1)

    def alive(self, now: float | None = None) -> bool:
        """Whether the loop polled (or started) within ``live_seconds``; a halted worker is
        alive: it stays up so an operator can read why."""
        now = time.time() if now is None else now
        return now - max(self.last_poll, self.started) < self.live_seconds

    def snapshot(self) -> dict[str, Any]:
        """The JSON body of /health."""
        now = time.time()
        return {"worker": self.name, "ready": self.ready, "halted": self.halted,
                "alive": self.alive(now), "uptime_seconds": round(now - self.started, 1),
                "seconds_since_poll": round(now - self.last_poll, 1)
                if self.last_poll else None}


def serve_metrics(port: int, health: Callable[[], dict[str, Any]], process: str,
                  host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Serve /metrics (the catalog's metrics of ``process``), /health (200 when ready, else
    503: the readiness probe) and /health/live (200 while the loop is alive: the liveness
    probe) on host:port in a daemon thread.

    Args:
        port: the TCP port.
        health: returns the JSON body of /health (``Health.snapshot``).
        process: the process name in the catalog (a stage, ``web`` or ``stack``).
        host: the address to bind; 0.0.0.0 in a container, so probes and Prometheus reach it.
    """
    shown = exposition(process)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, ctype, status = generate_latest(shown), CONTENT_TYPE_LATEST, 200
            elif path in ("/health", "/health/live"):
                state = health()
                body = json.dumps(state).encode()
                ok = state.get("alive", True) if path == "/health/live" else state.get("ready")
                ctype, status = "application/json", 200 if ok else 503
            else:
                body, ctype, status = b"not found", "text/plain", 404
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    return server
