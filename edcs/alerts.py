"""The Prometheus alert rules of edcs, as data: ``deploy/prometheus/alerts.yml`` is generated
from here (``scripts/generate-deploy``), and ``edcs up --monitoring`` writes the same rules with
its own durations (``EDCS_MONITORING__ALERT_FOR_SECONDS``, ``..._OPEN_FILE_MINUTES``).

Every rule uses metrics of the catalog (shared.metrics) only, and has a ``promtool test rules``
case in ``deploy/prometheus/alerts.test.yml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class Alert:
    """One alerting rule."""

    name: str
    expr: str
    for_seconds: float
    severity: str  # critical: page someone; warning: look during working hours
    summary: str
    description: str


def alerts(open_file_minutes: float = 60.0) -> tuple[Alert, ...]:
    """Every alert rule (``open_file_minutes``: when a file not final is too old)."""
    return (
        Alert("EdcsWorkerDown", 'up{job="edcs-workers"} == 0', 60, "critical",
              "Worker {{ $labels.process }} is not answering",
              "Prometheus cannot scrape {{ $labels.process }} ({{ $labels.instance }}): the "
              "process is stopped, hung or gone, and its stage ({{ $labels.stage }}) does not "
              "move. On edcs up the supervisor restarts a process that exits; one that hangs "
              "must be killed (its log is in DIR/logs)."),
        Alert("EdcsWebDown", 'up{job="edcs-web"} == 0', 60, "critical",
              "The web app is not answering",
              "Uploads, the window page and the store gauges are unavailable."),
        Alert("EdcsStageStalled",
              "(sum by (stage) (edcs_stage_consumer_lag_messages) > 0) unless on (stage) "
              "(sum by (stage) (rate(edcs_stage_messages_in_total[5m])) > 0)", 300, "critical",
              "Stage {{ $labels.stage }} has work but takes none",
              "{{ $value }} messages wait for {{ $labels.stage }} and it consumed nothing for "
              "5 minutes: a handler is stuck (a lock, a dependency) or every worker of the "
              "stage halted. Look at /health of its workers and at their logs."),
        Alert("EdcsConsumerLagGrowing",
              "(sum by (stage, topic) (edcs_stage_consumer_lag_messages) > 50) and "
              "(sum by (stage, topic) (delta(edcs_stage_consumer_lag_messages[10m])) > 0)", 600,
              "warning", "Lag of {{ $labels.stage }} on {{ $labels.topic }} keeps growing",
              "The stage does not keep up with {{ $labels.topic }} (lag {{ $value }} "
              "messages and rising for 20 minutes): run more of its workers (edcs up "
              "--scale, or the ScaledObject in Kubernetes)."),
        Alert("EdcsDeadLetters",
              "sum by (stage) (increase(edcs_stage_dead_letters_total[10m])) > 0", 0,
              "warning", "{{ $labels.stage }} dead-lettered events",
              "Events of {{ $labels.stage }} went to the dead-letter topic in the last 10 "
              "minutes and their submissions failed. `edcs dlq list` shows why; fix the cause, "
              "then `edcs dlq replay`."),
        Alert("EdcsStageHalted", "max by (stage) (edcs_stage_halted) == 1", 0, "critical",
              "{{ $labels.stage }} stopped taking events",
              "A worker of {{ $labels.stage }} reached its dead-letter limit (many dead letters "
              "in a row from several submissions: a bad deploy or configuration is likely). "
              "Its /health says why; fix the cause and restart it."),
        Alert("EdcsErrorRateSpike",
              '(sum(rate(edcs_validate_issues_total{severity="fatal"}[10m])) '
              '/ sum(rate(edcs_stage_records_in_total{stage="validate"}[10m])) > 0.2) '
              'and (sum(increase(edcs_stage_records_in_total{stage="validate"}[10m])) > 1000)',
              300, "warning", "Most records fail validation",
              "More than 0.2 fatal issues per validated record over 10 minutes: a rule "
              "change gone wrong, or a vendor's broken export. The "
              "window page and the rejected jobs show which collection."),
        Alert("EdcsRetrying", "sum by (stage) (increase(edcs_stage_retries_total[10m])) > 10",
              300, "warning", "{{ $labels.stage }} keeps retrying",
              "More than 10 transient failures in 10 minutes: the database, the broker or the "
              "SMTP relay is unavailable or overloaded. A worker exits (and is restarted) when "
              "one outlasts the retry window."),
        Alert("EdcsEmailsFailing",
              '(sum(increase(edcs_notify_emails_total{outcome="failed"}[15m])) > 0) or '
              '((sum(increase(edcs_notify_emails_total{outcome="retry"}[15m])) > 0) unless '
              '(sum(increase(edcs_notify_emails_total{outcome="sent"}[15m])) > 0))', 300,
              "warning", "Result emails are not going out",
              "Emails failed for good, or the relay took none for 15 minutes while emails "
              "wait. The emails stay owed and go when the relay is back; `edcs job ID` shows "
              "a failed one's reason."),
        Alert("EdcsFileNotFinal",
              # max: every web replica serves the same gauge
              f"max(edcs_store_oldest_open_file_age_seconds) > {open_file_minutes * 60:g}", 60,
              "warning", f"A file is not final after {open_file_minutes:g} minutes",
              "The oldest submission not final has waited {{ $value | humanizeDuration }}. "
              "The window page names it; its job page shows its history (the watchdog "
              "re-drives a stuck file, then fails it)."),
        Alert("EdcsWorkerRestarting",
              "(sum by (process) (increase(edcs_stack_restarts_total[15m])) > 2) or "
              '(sum by (process) (changes(process_start_time_seconds{job="edcs-workers"}'
              "[15m])) > 2)", 0, "warning", "{{ $labels.process }} keeps restarting",
              "{{ $labels.process }} started again more than twice in 15 minutes: it crashes "
              "or cannot reach what it needs. Its log says why."),
    )


def rules_document(open_file_minutes: float = 60.0,
                   for_seconds: float | None = None) -> dict[str, Any]:
    """The rules file as Prometheus reads it (``for_seconds`` overrides every duration)."""
    rules = []
    for alert in alerts(open_file_minutes):
        wait = alert.for_seconds if for_seconds is None else for_seconds
        rule: dict[str, Any] = {"alert": alert.name, "expr": alert.expr}
        if wait:
            rule["for"] = _duration(wait)
        rule["labels"] = {"severity": alert.severity}
        rule["annotations"] = {"summary": alert.summary, "description": alert.description}
        rules.append(rule)
    return {"groups": [{"name": "edcs", "rules": rules}]}


def rules_yaml(open_file_minutes: float = 60.0, for_seconds: float | None = None) -> str:
    """``rules_document`` as YAML, with a header saying where it comes from."""
    body = yaml.safe_dump(rules_document(open_file_minutes, for_seconds), sort_keys=False,
                          width=100, allow_unicode=True)
    return ("# Generated from edcs/alerts.py by scripts/generate-deploy; do not edit by hand.\n"
            "# Unit tests: alerts.test.yml (promtool test rules).\n" + body)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole % 60 == 0:
        return f"{whole // 60}m"
    return f"{max(1, whole)}s"
