"""Logging, and the /metrics and /health endpoints every worker serves (Prometheus).

Labels never carry student data, file names or school codes (design.md §6): only the worker name,
the outcome and issue codes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

MESSAGES = Counter("edcs_worker_messages", "Kafka messages handled", ["worker", "outcome"])
RECORDS = Counter("edcs_worker_records", "Records handled", ["worker"])
HANDLE_SECONDS = Histogram("edcs_worker_handle_duration_seconds",
                           "Time to handle one fetched set of messages", ["worker"],
                           buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
ISSUES = Counter("edcs_validate_issues", "Issues found by validation", ["code", "severity"])
SUBMISSIONS = Counter("edcs_submissions", "Submissions reaching a final status", ["status"])
POST_SECONDS = Histogram("edcs_post_submission_duration_seconds",
                         "Time to post one whole submission (the transaction after the barrier)",
                         buckets=(0.1, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160))
BACKLOG = Gauge("edcs_submissions_backlog", "Submissions not yet final, by status", ["status"])
EMAILS = Counter("edcs_notify_emails", "Emails sent or failed", ["milestone", "outcome"])
DEAD_LETTERS = Counter("edcs_dead_letters", "Events a stage could not process", ["worker"])
RETRIES = Counter("edcs_worker_retries", "Transient failures retried", ["worker"])
TICK_FAILURES = Counter("edcs_worker_tick_failures", "Failed runs of a worker's periodic work",
                        ["worker"])
WATCHDOG = Counter("edcs_watchdog_actions", "Stuck submissions re-driven or failed", ["action"])


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
    """What /health reports: alive, when the worker last polled, and whether it halted."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.time()
        self.last_poll = 0.0
        self.ready = False
        self.halted: str | None = None  # why the worker stopped taking events

    def snapshot(self) -> dict[str, Any]:
        """The JSON body of /health."""
        return {"worker": self.name, "ready": self.ready, "halted": self.halted,
                "seconds_since_poll": round(time.time() - self.last_poll, 1)
                if self.last_poll else None}


def serve_metrics(port: int, health: Callable[[], dict[str, Any]]) -> ThreadingHTTPServer:
    """Serve /metrics and /health on 127.0.0.1:port in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/metrics"):
                body, ctype, status = generate_latest(), CONTENT_TYPE_LATEST, 200
            elif self.path.startswith("/health"):
                state = health()
                body = json.dumps(state).encode()
                ctype, status = "application/json", 200 if state.get("ready") else 503
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
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    return server
