"""Settings of every edcs process, read once from the environment (prefix ``EDCS_``).

Nested sections use ``__``: ``EDCS_KAFKA__BOOTSTRAP_SERVERS``, ``EDCS_DATABASE__URL``,
``EDCS_SMTP__PORT``. The embedded stack (``edcs up``) sets these for its children; production
sets them in its manifests (deploy/). Nothing reads the environment at import time: call
``Settings()``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseModel):
    """Broker connection and client tuning (kafka-on-tansu.md §0)."""

    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = ""  # lets tests run side by side on one broker
    session_timeout_ms: int = 10_000  # Tansu holds JoinGroup for session/2 (B7)
    heartbeat_interval_ms: int = 3_000
    linger_ms: int = 10
    # A producer batch: a parsed or validated message is up to 500 records (~125 KB), so at 128
    # KiB (kafka-on-tansu.md's figure, for 300-byte messages) every message was a batch and a
    # request of its own. At 1 MiB the broker's CPU for 500,000 records went 1.8-1.9 -> 1.2-1.4
    # s and `python bench/e2e.py 500000`, four runs of each in turn, 1.89-1.95 -> 1.78-1.86.
    max_batch_size: int = 1_048_576
    max_request_size: int = 4_194_304
    # Messages per fetch; each is a batch of up to 500 records. Bounds what a worker holds
    # decoded at once when it lags behind (memory flat however large the file). Each fetch is
    # one transaction of the post stage, whose commit writes every index page the fetch's
    # staged keys touched (random over the file), so fewer, larger fetches stage faster:
    # `python bench/e2e.py 500000` 18.0 s at 16, 16.5 s at 32, 15.5-16.0 s at 64; PostgreSQL
    # 28.0 -> 24.3 s (docs/decisions.md "Throughput", 2026-12-07). Peak RSS of validate and
    # post about 60 MB more (161 -> 221, 230 -> 282 MB).
    fetch_max_records: int = 64
    # How long the broker may hold a fetch that finds nothing new (the client's default, 500,
    # added up to half a second per stage to a small file: `python bench/latency.py`, p50 of
    # 20 files of 1,000 upload -> posted, 0.26-0.36 s at 500, 0.19-0.22 s at 100).
    fetch_max_wait_ms: int = 100
    max_unacked: int = 64  # produced messages awaited before producing more



class RunnerSettings(BaseModel):
    """How a worker meets failures (shared.messaging.runner)."""

    # Transient failures (database, broker, SMTP unavailable) are retried for this long, with
    # jittered exponential backoff, before the worker gives up and is restarted.
    retry_seconds: float = 120.0
    # A worker stops taking events after this many dead letters in a row from at least
    # ``dlq_limit_submissions`` different submissions: a bad deploy must not drain a topic,
    # while one broken file (many bad events, one submission) only fails that file.
    dlq_limit: int = 50
    dlq_limit_submissions: int = 3
    tick_seconds: float = 2.0  # how often a worker's periodic work runs (watchdog, emails)
    # /health/live fails when the loop has not polled for this long (a hung handler); longer
    # than any one fetch takes to handle, a very large file's posting included.
    live_seconds: float = 900.0


class WatchdogSettings(BaseModel):
    """When a submission that stopped moving is re-driven from its stored file, or failed."""

    # No submission progressed for this long, and this one is not final: it is stuck.
    idle_seconds: float = 300.0
    # This one has not progressed for this long, however busy the rest is: it is stuck.
    stuck_seconds: float = 3600.0
    max_redrives: int = 3  # then the submission is failed with the reason


class NotifySettings(BaseModel):
    """How notify retries an email the relay did not take."""

    retry_first_seconds: float = 5.0  # then doubling, up to:
    retry_max_seconds: float = 300.0


class StackSettings(BaseModel):
    """The embedded stack's supervisor (``edcs up``)."""

    # Tansu's memory engine keeps every event it ever received: when its memory passes this
    # and no submission is in flight, the supervisor replaces it with an empty one.
    broker_recycle_mb: int = 2048
    check_seconds: float = 10.0  # how often memory and worker health are looked at


class MonitoringSettings(BaseModel):
    """Prometheus for ``edcs up --monitoring`` and the window page (deploy/ has production's)."""

    # Where the web app's window page reads Prometheus' HTTP API; ``edcs up --monitoring``
    # sets it. None: the page shows what the store knows only.
    prometheus_url: str | None = None
    scrape_seconds: float = 15.0
    evaluation_seconds: float = 15.0
    # Overrides every alert's ``for:`` duration (tests use a few seconds); None: the rules' own.
    alert_for_seconds: float | None = None
    # "A file not final for longer than this" alert (EdcsFileNotFinal).
    open_file_minutes: float = 60.0


class DatabaseSettings(BaseModel):
    """The operational data store; SQLite by default, PostgreSQL in production."""

    url: str = "sqlite:///var/edcs.db"


class SmtpSettings(BaseModel):
    """Where result emails go: the embedded sink or a real relay."""

    host: str = "127.0.0.1"
    port: int = 8025
    sender: str = "edcs@localhost"
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False


class PipelineSettings(BaseModel):
    """Sizes that shape the record stream and the error report."""

    batch_max_records: int = 500
    batch_max_bytes: int = 512_000
    max_issues_per_code: int = 1000  # per file; counts beyond the cap are still reported
    max_upload_bytes: int = 2_000_000_000
    # A .zip upload's data file may not unpack to more than this (declared in the archive and
    # counted as it is read): a zip bomb is refused, never unpacked (archive-too-large).
    max_unpacked_bytes: int = 2_000_000_000
    # A longer row is reported (row-too-long) and skipped unread: bounds memory and keeps every
    # batch far below the broker's message size, whatever a file holds.
    max_row_bytes: int = 65_536
    # Files with more records post one school per transaction (when the layout allows it), so
    # one transaction never holds a whole statewide file.
    post_by_school_above: int = 1_000_000


class WebSettings(BaseModel):
    """Sign-in, sessions and the pages' limits (services.web)."""

    session_idle_minutes: float = 30.0  # a session unused this long ends
    session_max_hours: float = 12.0  # and every session ends after this long
    login_failures: int = 5  # failed sign-ins of one account in the window lock it ...
    address_failures: int = 50  # ... and of one client address, lock the address
    login_window_minutes: float = 15.0  # for this long
    max_search_results: int = 5000  # Appendix F: every search but Production Download
    downloads_keep_days: int = 7  # background downloads are deleted after this
    page_size: int = 50


class Settings(BaseSettings):
    """All settings of one process."""

    model_config = SettingsConfigDict(env_prefix="EDCS_", env_nested_delimiter="__")

    data_dir: Path = Path("var")
    base_url: str = "http://127.0.0.1:8000"  # links in emails point here
    kafka: KafkaSettings = KafkaSettings()
    database: DatabaseSettings = DatabaseSettings()
    smtp: SmtpSettings = SmtpSettings()
    pipeline: PipelineSettings = PipelineSettings()
    runner: RunnerSettings = RunnerSettings()
    watchdog: WatchdogSettings = WatchdogSettings()
    stack: StackSettings = StackSettings()
    notify: NotifySettings = NotifySettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    metrics_port: int = 0  # 0: no /metrics server in this process
    # The address the process's HTTP server binds (a worker's /metrics and /health, the web
    # app): loopback on the embedded stack, 0.0.0.0 in a container.
    bind_host: str = "127.0.0.1"
    web_port: int | None = None  # the web app's port; None: the port of base_url
    web: WebSettings = WebSettings()
    # The key of the SSN hash (shared.privacy) and of signed session cookies. Unset on the
    # embedded default: each is generated once into the data dir. Required in production.
    hmac_key: SecretStr | None = None
    session_key: SecretStr | None = None
    # The institution hierarchy loaded at start (default: the small fictional set shipped in
    # shared/reference/institutions.csv, on the embedded default only).
    institutions_file: Path | None = None
    # Each collection's submission windows, shown on the collections page (default: the
    # fictional set shipped in shared/reference/windows.csv).
    windows_file: Path | None = None
    # The CDS directory (schools and the LEA each reports to) ``edcs up`` loads (default: the
    # small fictional set shipped in shared/reference/directory.csv).
    directory_file: Path | None = None

    @property
    def production_like(self) -> bool:
        """A store other than SQLite is a deployment: no secret may be generated or left at a
        development value there."""
        return not self.database.url.startswith("sqlite")

    @property
    def files_dir(self) -> Path:
        """Content-addressed store of every uploaded file."""
        return self.data_dir / "files"
