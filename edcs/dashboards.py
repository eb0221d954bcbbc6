"""The Grafana dashboards of edcs, built with grafana-foundation-sdk (Grafana Labs' typed
builders); ``scripts/generate-deploy`` writes them to ``deploy/grafana/dashboards/*.json``.

Every panel queries metrics of the catalog (shared.metrics) only: a test parses each expression
and fails on a name the catalog does not declare. The Prometheus data source is the one
provisioned by ``deploy/grafana/provisioning`` (uid ``edcs-prometheus``).
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DATASOURCE = DataSourceRef(type_val="prometheus", uid="edcs-prometheus")
STAGES_RE = "ingest|validate|post|notify"
NOT_FINAL = 'status=~"received|processing|posting"'
POSTED, REJECTED, FAILED = 'status="posted"', 'status="rejected"', 'status="failed"'
OWED = 'status=~"pending|sending|retry"'
NOT_POSTED = 'status=~"rejected|failed"'
# Every replica of the web app serves the same edcs_store_* gauges (read from the one store):
# panels take one of them (max without instance) before adding up.


def store(metric: str, matcher: str = "") -> str:
    """One web replica's view of an ``edcs_store_*`` gauge."""
    selector = f"{metric}{{{matcher}}}" if matcher else metric
    return f"max without (instance, process) ({selector})"
Query = tuple[str, str]  # (PromQL, legend)


def _targets(queries: list[Query], instant: bool = False) -> list[prometheus.Dataquery]:
    found = []
    for number, (expr, legend) in enumerate(queries):
        query = (prometheus.Dataquery().expr(expr).legend_format(legend)
                 .ref_id(chr(ord("A") + number)))
        found.append(query.instant() if instant else query.range())
    return found


def series(title: str, queries: list[Query], unit: str, description: str,
           width: int = 12) -> timeseries.Panel:
    """A time series panel."""
    panel = (timeseries.Panel().title(title).description(description).unit(unit)
             .datasource(DATASOURCE).span(width).height(8))
    for target in _targets(queries):
        panel = panel.with_target(target)
    return panel


def number(title: str, expr: str, unit: str, description: str, width: int = 4) -> stat.Panel:
    """A single-number panel (the latest value)."""
    panel = (stat.Panel().title(title).description(description).unit(unit)
             .datasource(DATASOURCE).span(width).height(4))
    for target in _targets([(expr, title)], instant=True):
        panel = panel.with_target(target)
    return panel


def listing(title: str, expr: str, description: str, width: int = 24) -> table.Panel:
    """A table of the series an instant query returns."""
    panel = (table.Panel().title(title).description(description).datasource(DATASOURCE)
             .span(width).height(8))
    for target in _targets([(expr, "")], instant=True):
        panel = panel.with_target(target.format(PromQueryFormat.TABLE))
    return panel


def _board(uid: str, title: str, panels: list[Any]) -> dashboard.Dashboard:
    board = (dashboard.Dashboard(title).uid(uid).tags(["edcs"]).refresh("10s")
             .time("now-1h", "now").timezone("browser").editable())
    for panel in panels:
        board = board.with_panel(panel)
    return board


def window() -> dashboard.Dashboard:
    """What the state's operators watch during a window."""
    return _board("edcs-window", "edcs: window overview", [
        number("Files not final", f"sum({store('edcs_store_files', NOT_FINAL)}) or vector(0)",
               "none",
               "Submissions received, staging or posting."),
        number("Oldest file not final", "max(edcs_store_oldest_open_file_age_seconds)", "s",
               "How long the oldest submission not final has waited (0: none)."),
        number("Posted", f"sum({store('edcs_store_files', POSTED)}) or vector(0)", "none",
               "Submissions posted, all time."),
        number("Rejected", f"sum({store('edcs_store_files', REJECTED)}) or vector(0)", "none",
               "Submissions rejected (fatal issues or preliminary checks), all time."),
        number("Failed", f"sum({store('edcs_store_files', FAILED)}) or vector(0)", "none",
               "Submissions failed (dead letter, watchdog, operator), all time."),
        number("Workers down", 'count(up{job="edcs-workers"} == 0) or vector(0)', "none",
               "Worker processes Prometheus cannot scrape."),
        series("Files by status", [(f"sum by (status) ({store('edcs_store_files')})",
                                    "{{status}}")],
               "none", "Submissions in the store by status."),
        series("Backlog by stage (consumer lag)",
               [("sum by (stage) (edcs_stage_consumer_lag_messages)", "{{stage}}")], "none",
               "Messages waiting for each stage: rises while files arrive, drains as they "
               "are processed."),
        series("Files finished per collection (per hour)",
               [("sum by (collection, status) (increase(edcs_post_files_total[1h]))",
                 "{{collection}} {{status}}")], "none",
               "Files posted or rejected in the last hour, by collection."),
        series("Records per second by stage",
               [("sum by (stage) (rate(edcs_stage_records_in_total[1m]))", "{{stage}}")],
               "none", "Records reaching each stage."),
        listing("Alerts firing", 'ALERTS{alertstate="firing"}',
                "The edcs alert rules firing now (deploy/prometheus/alerts.yml)."),
    ])


def stages() -> dashboard.Dashboard:
    """Per-stage throughput, latency and lag."""
    return _board("edcs-stages", "edcs: stages (throughput, latency, lag)", [
        series("Records in per second", [(
            "sum by (stage) (rate(edcs_stage_records_in_total[1m]))", "{{stage}}")], "none",
            "Records reaching each stage."),
        series("Records out per second", [(
            "sum by (stage) (rate(edcs_stage_records_out_total[1m]))", "{{stage}}")], "none",
            "Records each stage passed on (post: posted to the store)."),
        series("Messages in per second", [(
            "sum by (stage, outcome) (rate(edcs_stage_messages_in_total[1m]))",
            "{{stage}} {{outcome}}")], "none", "Kafka messages taken, by outcome."),
        series("Messages out per second", [(
            "sum by (stage, topic) (rate(edcs_stage_messages_out_total[1m]))",
            "{{stage}} → {{topic}}")], "none", "Kafka messages published, by topic."),
        series("Consumer lag by topic and partition", [(
            "sum by (topic, partition) (edcs_stage_consumer_lag_messages)",
            "{{topic}}[{{partition}}]")], "none",
            "High watermark of the last fetch minus position."),
        series("Message latency p95 (produced → handled)", [(
            "histogram_quantile(0.95, sum by (stage, le) "
            "(rate(edcs_stage_message_latency_seconds_bucket[5m])))", "{{stage}}")], "s",
            "Queueing plus handling time of a message, 95th percentile."),
        series("Fetch handling time p50 / p95", [
            ("histogram_quantile(0.5, sum by (stage, le) "
             "(rate(edcs_stage_handle_duration_seconds_bucket[5m])))", "{{stage}} p50"),
            ("histogram_quantile(0.95, sum by (stage, le) "
             "(rate(edcs_stage_handle_duration_seconds_bucket[5m])))", "{{stage}} p95")], "s",
            "Time to handle one fetch (handler, publish, acks)."),
        series("File end-to-end latency p50 / p95 (received → final)", [
            ("histogram_quantile(0.5, sum by (le) "
             "(rate(edcs_post_file_latency_seconds_bucket[30m])))", "p50"),
            ("histogram_quantile(0.95, sum by (le) "
             "(rate(edcs_post_file_latency_seconds_bucket[30m])))", "p95")], "s",
            "From the store's timestamps."),
        series("Posting transaction p95 and barrier wait p95", [
            ("histogram_quantile(0.95, sum by (mode, le) "
             "(rate(edcs_post_transaction_duration_seconds_bucket[30m])))", "post {{mode}}"),
            ("histogram_quantile(0.95, sum by (le) "
             "(rate(edcs_post_barrier_wait_seconds_bucket[30m])))", "barrier wait")], "s",
            "Posting one file after its barrier opened; waiting at the barrier."),
        series("Memory by process", [(
            'process_resident_memory_bytes{job=~"edcs-workers|edcs-web"}',
            "{{process}}")], "bytes",
            "Resident memory (flat as files grow). On SQLite the web app's counts the store "
            "file it maps (up to 2 GiB a connection), pages the OS drops when it needs them."),
        series("CPU by process", [(
            'rate(process_cpu_seconds_total{job=~"edcs-workers|edcs-web"}[1m])',
            "{{process}}")], "percentunit", "CPU time per second."),
    ])


def errors() -> dashboard.Dashboard:
    """Errors, dead letters, retries, restarts."""
    return _board("edcs-errors", "edcs: errors and dead letters", [
        series("Dead letters (per 10 min)", [(
            "sum by (stage) (increase(edcs_stage_dead_letters_total[10m]))", "{{stage}}")],
            "none", "Events sent to the dead-letter topics; their submissions failed."),
        series("Stages halted", [("max by (stage) (edcs_stage_halted)", "{{stage}}")], "none",
               "1: the stage stopped at its dead-letter limit."),
        series("Fatal issues per validated record", [(
            'sum(rate(edcs_validate_issues_total{severity="fatal"}[10m])) / '
            'sum(rate(edcs_stage_records_in_total{stage="validate"}[10m]))', "ratio")],
            "none", "The error-rate alert fires above 0.2."),
        series("Issues per second by code", [(
            "sum by (code, severity) (rate(edcs_validate_issues_total[5m]))",
            "{{code}} ({{severity}})")], "none", "Issues found on records."),
        series("Retries and failed periodic runs (per 10 min)", [
            ("sum by (stage) (increase(edcs_stage_retries_total[10m]))", "{{stage}} retries"),
            ("sum by (stage) (increase(edcs_stage_tick_failures_total[10m]))",
             "{{stage}} tick failures")], "none", "Transient failures."),
        series("Restarts (per 15 min)", [(
            "sum by (process) (increase(edcs_stack_restarts_total[15m]))", "{{process}}")],
            "none", "Children edcs up started again."),
        series("Processes up", [(f'up{{job=~"edcs-.*",stage=~"{STAGES_RE}|web|stack"}}',
                                 "{{process}}")], "none", "1 when scraped."),
        series("Watchdog actions (per hour)", [(
            "sum by (action) (increase(edcs_post_watchdog_actions_total[1h]))",
            "{{action}}")], "none", "Stuck files re-driven or failed."),
        series("Files rejected and failed", [(
            f"sum by (status) ({store('edcs_store_files', NOT_POSTED)})",
            "{{status}}")],
            "none", "All time."),
    ])


def email() -> dashboard.Dashboard:
    """Result emails."""
    return _board("edcs-email", "edcs: email", [
        series("Emails per minute by outcome", [(
            "sum by (outcome) (rate(edcs_notify_emails_total[5m])) * 60", "{{outcome}}")],
            "none", "sent, retry (the relay did not take it), failed (for good)."),
        series("Emails per minute by milestone", [(
            'sum by (milestone) (rate(edcs_notify_emails_total{outcome="sent"}[5m])) * 60',
            "{{milestone}}")], "none", "Emails sent, by lifecycle milestone."),
        series("Emails in the store by status", [(
            f"sum by (status) ({store('edcs_store_emails')})", "{{status}}")], "none",
            "pending, sending and retry are owed."),
        number("Emails owed", f"sum({store('edcs_store_emails', OWED)}) "
               "or vector(0)", "none", "Emails not sent yet.", width=6),
        number("Emails failed for good", f"sum({store('edcs_store_emails', FAILED)}) "
               "or vector(0)", "none", "All time.", width=6),
    ])


def dashboards() -> dict[str, dashboard.Dashboard]:
    """Every dashboard by file name."""
    return {"window.json": window(), "stages.json": stages(), "errors.json": errors(),
            "email.json": email()}


def to_json(board: dashboard.Dashboard) -> str:
    """A dashboard as Grafana imports it."""
    return json.dumps(board.build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def expressions(document: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard's JSON."""
    return [t["expr"] for p in document.get("panels", []) for t in p.get("targets", [])
            if "expr" in t]
