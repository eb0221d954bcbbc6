"""Keeps the embedded stack running, so nothing needs a person to unstick it.

- A worker, the web app or the SMTP sink that exits is started again after a backoff that
  doubles with each quick exit (1 s, 2 s, 4 s … at most 60 s) and resets after a minute of
  uptime: a crash-looping worker never stops the stack, and `edcs up` shows every restart.
  Restarting is safe because every worker commits offsets only after its output is durable.
- The embedded broker (Tansu, memory engine) that exits is replaced by a new one on the same
  port. A new Tansu is an empty cluster (kafka-on-tansu.md §5): the topics are created again,
  every client is restarted (their producers would otherwise write into the void, B5), and
  every submission not yet final is sent through again from its stored file.
- The same replacement bounds the broker's memory, which grows with every event it ever held
  (no retention in the memory engine): when it passes ``stack.broker_recycle_mb`` while no
  submission is in flight, the broker is replaced by an empty one.
- A worker that halted on its dead-letter limit is reported once.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from sqlalchemy import exists, func, select

from edcs.stack import SERVERS, Stack, redrive_unfinished
from shared.db.models import FINAL_STATUSES, OutboxMessage, Submission
from shared.db.session import make_engine

MAX_BACKOFF = 60.0
STEADY = 60.0  # seconds of uptime after which a child counts as healthy again
RECYCLE_AFTER = 30.0  # a broker younger than this is never recycled (no recycling loops)


def backoff(failures: int) -> float:
    """Seconds before the next start of a child that exited ``failures`` times in a row."""
    return min(MAX_BACKOFF, 2.0 ** max(0, failures - 1))


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def replace_broker(stack: Stack, why: str) -> None:
    """A new, empty broker; topics again; every client restarted; unfinished files again."""
    stack.say(f"{why}: starting a new broker; the workers and the web app restart and every "
              "unfinished submission is sent through again from its stored file")
    stack.broker_replacements += 1
    stack.stop_children(stack.clients())
    stack.stop_children(["broker"])
    stack.start_broker()
    stack.provision_topics()
    if stack.settings is not None:
        again = redrive_unfinished(stack.settings, why)
        if again:
            stack.say(f"{again} unfinished submissions are sent through again")
    stack.start_clients()
    stack.say("the new broker is up and every client has restarted")


def _idle(stack: Stack) -> bool:
    if stack.settings is None:
        return False
    engine = make_engine(stack.settings.database.url)
    try:
        with engine.connect() as connection:
            busy = connection.scalar(select(exists().where(
                Submission.status.not_in(FINAL_STATUSES))))
            waiting = connection.scalar(select(func.count()).select_from(OutboxMessage))
        return not busy and not waiting
    finally:
        engine.dispose()


def _restart_exited(stack: Stack, now: float) -> None:
    for name, child in list(stack.children.items()):
        if name == "broker" or child.proc is None:
            continue
        code = child.proc.poll()
        if code is None:
            if now - child.started_at > STEADY:
                child.failures = 0
            continue
        if child.next_start is None:
            child.failures = 0 if now - child.started_at > STEADY else child.failures + 1
            delay = backoff(child.failures)
            child.next_start = now + delay
            stack.say(f"{name} exited (code {code}); starting it again in {delay:.0f} s "
                      f"(restart {child.restarts + 1}); its log: logs/{name}.log")
        elif now >= child.next_start:
            child.restarts += 1
            if name == "mailsink":
                stack.start_mailsink()
            else:
                stack.spawn(name, child.args, **child.extra_env)


def _halted(stack: Stack, reported: set[str]) -> None:
    for name, child in stack.children.items():
        port = child.extra_env.get("EDCS_METRICS_PORT")
        if name in SERVERS or port is None or name in reported:
            continue
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                state = json.load(r)
        except OSError as exc:  # 503 while not ready carries the body too
            body = getattr(exc, "read", None)
            try:
                state = json.loads(body()) if body else {}
            except ValueError:
                state = {}
        if state.get("halted"):
            reported.add(name)
            stack.say(f"{name} stopped taking events: {state['halted']}")


def supervise_once(stack: Stack, now: float, checks: dict[str, float],
                   reported: set[str]) -> None:
    """One round: replace a dead broker, restart exited children, look at memory and health."""
    with stack.lock:  # the supervisor and stop() take turns
        if stack.stopping:
            return
        broker = stack.children.get("broker")
        if (stack.embedded_broker and broker is not None and broker.proc is not None
                and broker.proc.poll() is not None):
            replace_broker(stack, f"The broker exited (code {broker.proc.returncode})")
            return
        _restart_exited(stack, now)
        settings = stack.settings
        if settings is None or now - checks.get("last", 0.0) < settings.stack.check_seconds:
            return
        checks["last"] = now
        _halted(stack, reported)
        if (stack.embedded_broker and broker is not None and broker.proc is not None
                and now - broker.started_at > RECYCLE_AFTER):
            used = rss_mb(broker.proc.pid)
            if used > settings.stack.broker_recycle_mb and _idle(stack):
                replace_broker(stack, f"The broker holds {used:.0f} MB of events that every "
                                      "stage has finished with")


def supervise_forever(stack: Stack) -> None:
    """Supervise until the stack stops (runs in a thread of ``edcs up``)."""
    checks: dict[str, float] = {}
    reported: set[str] = set()
    while not stack.stopping:
        try:
            supervise_once(stack, time.monotonic(), checks, reported)
        except Exception as exc:  # noqa: BLE001 - the supervisor must outlive any one round
            stack.say(f"supervisor: {type(exc).__name__}: {exc}")
        time.sleep(0.5)
