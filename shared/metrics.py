"""The metrics catalog: every metric edcs serves, in one place (docs/metrics.md is made from it).

Each metric is declared once here with its type, unit, labels, meaning and the processes that
serve it; the Prometheus objects the code updates are built from those declarations, and each
process's ``/metrics`` shows only its own (``exposition``). Names follow ``edcs_<part>_<noun>``
with the base unit last (``_seconds``, ``_bytes``); counters are declared without ``_total``
(Prometheus adds it). Labels are low-cardinality and never name a student, school, district,
institution or file (design.md §6): stage, topic, partition number, outcome, status, collection,
issue code and severity, email milestone, process name.

Counting is per fetch or per batch, never per record, so the hot path pays a few increments per
message of hundreds of records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.metrics_core import Metric

# No ``*_created`` series: they double what Prometheus stores and nothing here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

Kind = Literal["counter", "gauge", "histogram"]
# Served by every process that runs the worker loop (shared.messaging.runner), whatever its
# stage: the four of the pipeline and any stage added later.
EVERY_WORKER = "every worker"
WORKERS = (EVERY_WORKER,)
SERVERS = ("web", "stack")  # the processes that are not workers
LATENCY_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
FILE_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400)


@dataclass(frozen=True)
class MetricSpec:
    """One metric of the catalog."""

    name: str  # the family name (a counter's samples add ``_total``)
    kind: Kind
    unit: str  # what one unit counts or measures: seconds, bytes, messages, records, ...
    labels: tuple[str, ...]
    meaning: str
    served_by: tuple[str, ...]  # processes whose /metrics carry it

    def samples(self) -> tuple[str, ...]:
        """The sample names Prometheus stores for this metric."""
        if self.kind == "counter":
            return (f"{self.name}_total",)
        if self.kind == "histogram":
            return tuple(f"{self.name}_{s}" for s in ("bucket", "sum", "count"))
        return (self.name,)


CATALOG: list[MetricSpec] = []


def _spec(name: str, kind: Kind, unit: str, labels: tuple[str, ...], meaning: str,
          served_by: tuple[str, ...]) -> MetricSpec:
    spec = MetricSpec(name, kind, unit, labels, meaning, served_by)
    CATALOG.append(spec)
    return spec


def _counter(name: str, unit: str, labels: tuple[str, ...], meaning: str,
             served_by: tuple[str, ...] = WORKERS) -> Counter:
    _spec(name, "counter", unit, labels, meaning, served_by)
    return Counter(name, meaning, labels)


def _gauge(name: str, unit: str, labels: tuple[str, ...], meaning: str,
           served_by: tuple[str, ...] = WORKERS) -> Gauge:
    _spec(name, "gauge", unit, labels, meaning, served_by)
    return Gauge(name, meaning, labels)


def _histogram(name: str, labels: tuple[str, ...], meaning: str, served_by: tuple[str, ...],
               buckets: tuple[float, ...] = LATENCY_BUCKETS) -> Histogram:
    _spec(name, "histogram", "seconds", labels, meaning, served_by)
    return Histogram(name, meaning, labels, buckets=buckets)


# --- every worker (shared.messaging.runner) -------------------------------------------------
MESSAGES_IN = _counter(
    "edcs_stage_messages_in", "messages", ("stage", "outcome"),
    "Kafka messages a stage took from its input topic; outcome ok, skipped (its submission "
    "already failed here) or dead_letter.")
MESSAGES_OUT = _counter(
    "edcs_stage_messages_out", "messages", ("stage", "topic"),
    "Kafka messages a stage published, by logical topic (dead-letter twins included).")
RECORDS_IN = _counter(
    "edcs_stage_records_in", "records", ("stage",),
    "Records that reached a stage: read from files (ingest), received in batches (validate), "
    "staged for the barrier (post; a record delivered twice counts once).",
    ("ingest", "validate", "post"))
RECORDS_OUT = _counter(
    "edcs_stage_records_out", "records", ("stage",),
    "Records a stage passed on: published in batches (ingest, validate), posted to the store "
    "(post).", ("ingest", "validate", "post"))
HANDLE_SECONDS = _histogram(
    "edcs_stage_handle_duration_seconds", ("stage",),
    "Time a stage took to handle one fetch: handler, publishing and acknowledgements.", WORKERS)
MESSAGE_LATENCY = _histogram(
    "edcs_stage_message_latency_seconds", ("stage",),
    "Time from a message being produced (its Kafka timestamp) to its stage having handled it: "
    "queueing plus handling.", WORKERS)
CONSUMER_LAG = _gauge(
    "edcs_stage_consumer_lag_messages", "messages", ("stage", "topic", "partition"),
    "Messages of an assigned partition not yet consumed: the high watermark of the last fetch "
    "response minus the consumer's position (never ListOffsets: kafka-on-tansu.md B1).")
RETRIES = _counter(
    "edcs_stage_retries", "retries", ("stage",),
    "Transient failures (database, broker, SMTP unavailable) a stage retried.")
DEAD_LETTERS = _counter(
    "edcs_stage_dead_letters", "messages", ("stage",),
    "Events a stage could not process, sent to the dead-letter topic and table.")
TICK_FAILURES = _counter(
    "edcs_stage_tick_failures", "runs", ("stage",),
    "Failed runs of a stage's periodic work (watchdog, emails owed); tried again next tick.")
HALTED = _gauge(
    "edcs_stage_halted", "boolean", ("stage",),
    "1 when the stage stopped taking events after its dead-letter limit (see /health).")

# --- validate ------------------------------------------------------------------------------
ISSUES = _counter(
    "edcs_validate_issues", "issues", ("code", "severity"),
    "Issues found on records (parse and validation), by issue code and severity.",
    ("validate",))

# --- post ----------------------------------------------------------------------------------
POST_SECONDS = _histogram(
    "edcs_post_transaction_duration_seconds", ("mode",),
    "Time to post one submission after its barrier opened: one transaction (mode whole) or "
    "school by school, in parts (mode by_school).", ("post",),
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640))
BARRIER_WAIT = _histogram(
    "edcs_post_barrier_wait_seconds", (),
    "Time from the first record of a file staged by this worker to the file being claimed for "
    "posting: the wait at the barrier (the rest of the file, or an earlier file of the same "
    "institution and collection).", ("post",), buckets=FILE_BUCKETS)
FILES = _counter(
    "edcs_post_files", "files", ("collection", "status"),
    "Files the post stage finished, by collection and final status (posted or rejected).",
    ("post",))
FILE_LATENCY = _histogram(
    "edcs_post_file_latency_seconds", ("status",),
    "End-to-end time of a file, received to final, from the store's timestamps.", ("post",),
    buckets=FILE_BUCKETS)
WATCHDOG = _counter(
    "edcs_post_watchdog_actions", "submissions", ("action",),
    "Stuck submissions the watchdog re-drove from the stored file or failed.", ("post",))

# --- notify --------------------------------------------------------------------------------
EMAILS = _counter(
    "edcs_notify_emails", "emails", ("milestone", "outcome"),
    "Emails by milestone and outcome: sent, retry (the relay did not take it; tried again "
    "later) or failed (for good).", ("notify",))

# --- web: read from the store at scrape time (the same view whichever process asks) ----------
STORE_FILES = _gauge(
    "edcs_store_files", "files", ("collection", "status"),
    "Submissions in the store by collection and status (received, processing, posting, "
    "posted, rejected, failed).", ("web",))
OLDEST_OPEN = _gauge(
    "edcs_store_oldest_open_file_age_seconds", "seconds", (),
    "Age of the oldest submission that is not final (0 when every file is final).", ("web",))
OUTBOX = _gauge(
    "edcs_store_outbox_messages", "messages", (),
    "Events of accepted uploads not yet published to the broker (the outbox).", ("web",))
STORE_EMAILS = _gauge(
    "edcs_store_emails", "emails", ("status",),
    "Emails in the store by status (pending, sending, retry, sent, failed).", ("web",))

# --- edcs up (edcs.stackmetrics, a collector over the supervisor's state) -------------------
STACK_RESTARTS = _spec(
    "edcs_stack_restarts", "counter", "restarts", ("process",),
    "Times the supervisor of edcs up started a child process again after it exited.",
    ("stack",))
STACK_UP = _spec(
    "edcs_stack_process_up", "gauge", "boolean", ("process",),
    "1 while a child process of edcs up is running.", ("stack",))
STACK_BROKER_REPLACED = _spec(
    "edcs_stack_broker_replacements", "counter", "replacements", (),
    "Times the embedded broker was replaced by a new, empty one (it exited or held too much).",
    ("stack",))
STACK_BROKER_MEMORY = _spec(
    "edcs_stack_broker_memory_bytes", "gauge", "bytes", (),
    "Resident memory of the embedded broker (Tansu keeps every event in memory).", ("stack",))

# --- not ours, used by the rules and dashboards --------------------------------------------
EXTERNAL = (
    MetricSpec("up", "gauge", "boolean", ("job", "instance", "process", "stage"),
               "Prometheus: 1 when the last scrape of a target succeeded.", ("prometheus",)),
    MetricSpec("process_resident_memory_bytes", "gauge", "bytes", (),
               "prometheus_client: resident memory of the process.", (EVERY_WORKER, "web")),
    MetricSpec("process_cpu_seconds", "counter", "seconds", (),
               "prometheus_client: CPU time of the process.", (EVERY_WORKER, "web")),
    MetricSpec("process_start_time_seconds", "gauge", "seconds", (),
               "prometheus_client: when the process started (Unix time); a change is a "
               "restart, wherever the process runs.", (EVERY_WORKER, "web")),
    MetricSpec("ALERTS", "gauge", "boolean", ("alertname", "alertstate", "severity"),
               "Prometheus: the alerts pending or firing.", ("prometheus",)),
)


def catalog() -> tuple[MetricSpec, ...]:
    """Every metric: ours, then the external ones the rules and dashboards use."""
    return (*CATALOG, *EXTERNAL)


def sample_names() -> dict[str, MetricSpec]:
    """Every sample name Prometheus stores, mapped to its metric."""
    return {sample: spec for spec in catalog() for sample in spec.samples()}


@dataclass(frozen=True)
class Exposition:
    """The default registry as one process shows it: only the edcs metrics it serves (plus
    prometheus_client's process and runtime metrics)."""

    process: str

    def collect(self) -> Iterator[Metric]:
        """The families this process serves."""
        worker = self.process not in SERVERS
        ours = {s.name for s in CATALOG
                if self.process in s.served_by or (worker and EVERY_WORKER in s.served_by)}
        for family in REGISTRY.collect():
            if not family.name.startswith("edcs_") or family.name in ours:
                yield family


def exposition(process: str) -> Exposition:
    """What ``process`` serves at /metrics (pass to ``generate_latest``).

    Args:
        process: ``web``, ``stack`` or a worker's stage name (any name but those two is a
            worker, and serves the loop's metrics).

    Raises:
        ValueError: for an empty name.
    """
    if not process or process == EVERY_WORKER:
        raise ValueError(f"not a process name: {process!r}")
    return Exposition(process)


def markdown() -> str:
    """docs/metrics.md: the catalog as a table per serving process (generated; a test keeps
    the checked-in file equal to this)."""
    lines = ["# Metrics", "",
             "Generated from `shared/metrics.py` by `scripts/generate-deploy`; do not edit by "
             "hand (`tests/unit/test_metrics_catalog.py` fails when they differ).", "",
             "Counters carry `_total` in Prometheus, histograms `_bucket`, `_sum` and `_count`. "
             "Labels never name a student, school, district, institution or file.", "",
             "| metric | type | unit | labels | served by | meaning |",
             "|---|---|---|---|---|---|"]
    for spec in catalog():
        name = spec.samples()[0] if spec.kind == "counter" else spec.name
        labels = ", ".join(f"`{label}`" for label in spec.labels) or "-"
        lines.append(f"| `{name}` | {spec.kind} | {spec.unit} | {labels} | "
                     f"{', '.join(spec.served_by)} | {spec.meaning} |")
    lines += ["", "Where each process serves them:", "",
              "- every worker: `http://127.0.0.1:EDCS_METRICS_PORT/metrics` (and `/health`, "
              "`/health/live`);",
              "- the web app: `/metrics` on its own port; the `edcs_store_*` gauges are read "
              "from the store at each scrape;",
              "- `edcs up`: its own `/metrics` (restarts of its children, the embedded "
              "broker), printed as `stack metrics` and written to `stack.json`.", ""]
    return "\n".join(lines)
