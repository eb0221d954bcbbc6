"""The ``promtool test rules`` cases of the alert rules, written by hand as data:
``deploy/prometheus/alerts.test.yml`` is generated from them (with the expected annotations
filled in from each rule's templates, which promtool compares too).

Each case gives input series, when to evaluate, and the alerts expected then (label sets, and
``$value`` where a template shows it); every rule has at least one case where it fires and one
where it does not (``tests/unit/test_alert_rules.py`` checks both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from edcs.alerts import Alert, alerts


@dataclass(frozen=True)
class Expect:
    """An alert expected to fire: its labels (without alertname and severity) and the
    ``$value`` its annotations show."""

    labels: dict[str, str] = field(default_factory=dict)
    value: str = ""


@dataclass(frozen=True)
class Case:
    """Input series at ``interval``, and what ``alert`` does at each evaluation time."""

    name: str
    alert: str
    series: dict[str, str]
    checks: tuple[tuple[str, tuple[Expect, ...]], ...]
    interval: str = "1m"


W = 'job="edcs-workers",instance="127.0.0.1:4001",process="validate",stage="validate"'
FIRES_NOT: tuple[Expect, ...] = ()
CASES = (
    Case("a worker stops answering", "EdcsWorkerDown", {f"up{{{W}}}": "1 1 0 0 0 0"},
         (("2m", FIRES_NOT), ("4m", (Expect({"job": "edcs-workers",
                                              "instance": "127.0.0.1:4001",
                                              "process": "validate", "stage": "validate"}),)))),
    Case("the web app stops answering", "EdcsWebDown",
         {'up{job="edcs-web",instance="127.0.0.1:8000",process="web",stage="web"}': "1 0 0 0"},
         (("1m", FIRES_NOT), ("3m", (Expect({"job": "edcs-web", "instance": "127.0.0.1:8000",
                                              "process": "web", "stage": "web"}),)))),
    Case("lag and no progress", "EdcsStageStalled", {
        'edcs_stage_consumer_lag_messages{stage="validate",topic="records.parsed",'
        'partition="0"}': "0 0 40x12",
        'edcs_stage_messages_in_total{stage="validate",outcome="ok"}': "10x14"},
        (("4m", FIRES_NOT), ("12m", (Expect({"stage": "validate"}, "40"),)))),
    Case("lag while consuming", "EdcsStageStalled", {
        'edcs_stage_consumer_lag_messages{stage="validate",topic="records.parsed",'
        'partition="0"}': "40x14",
        'edcs_stage_messages_in_total{stage="validate",outcome="ok"}': "0+10x14"},
        (("12m", FIRES_NOT),)),
    Case("lag keeps growing", "EdcsConsumerLagGrowing", {
        'edcs_stage_consumer_lag_messages{stage="post",topic="records.validated",'
        'partition="0"}': "0+10x40"},
        (("10m", FIRES_NOT), ("30m", (Expect({"stage": "post", "topic": "records.validated"},
                                             "300"),)))),
    Case("high but steady lag", "EdcsConsumerLagGrowing", {
        'edcs_stage_consumer_lag_messages{stage="post",topic="records.validated",'
        'partition="0"}': "500x40"}, (("30m", FIRES_NOT),)),
    Case("a dead letter", "EdcsDeadLetters",
         {'edcs_stage_dead_letters_total{stage="validate"}': "0 0 1 1 1 1"},
         (("1m", FIRES_NOT), ("3m", (Expect({"stage": "validate"}),)), ("15m", FIRES_NOT))),
    Case("a stage halts", "EdcsStageHalted", {'edcs_stage_halted{stage="post"}': "0 0 1 1"},
         (("1m", FIRES_NOT), ("3m", (Expect({"stage": "post"}),)))),
    Case("most records fail", "EdcsErrorRateSpike", {
        'edcs_validate_issues_total{code="required",severity="fatal"}': "0+300x20",
        'edcs_validate_issues_total{code="blank",severity="warning"}': "0+900x20",
        'edcs_stage_records_in_total{stage="validate"}': "0+1000x20"},
        (("15m", (Expect(),)),)),
    Case("a few records fail", "EdcsErrorRateSpike", {
        'edcs_validate_issues_total{code="required",severity="fatal"}': "0+100x20",
        'edcs_stage_records_in_total{stage="validate"}': "0+1000x20"},
        (("15m", FIRES_NOT),)),
    Case("retries go on", "EdcsRetrying", {'edcs_stage_retries_total{stage="notify"}': "0+5x20"},
         (("15m", (Expect({"stage": "notify"}),)),)),
    Case("a retry now and then", "EdcsRetrying",
         {'edcs_stage_retries_total{stage="notify"}': "0+1x20"}, (("15m", FIRES_NOT),)),
    Case("the relay takes nothing", "EdcsEmailsFailing", {
        'edcs_notify_emails_total{milestone="processed",outcome="retry"}': "0+1x30",
        'edcs_notify_emails_total{milestone="processed",outcome="sent"}': "5x30"},
        (("20m", (Expect(),)),)),
    Case("a retry while others go", "EdcsEmailsFailing", {
        'edcs_notify_emails_total{milestone="processed",outcome="retry"}': "0+1x30",
        'edcs_notify_emails_total{milestone="processed",outcome="sent"}': "0+2x30"},
        (("20m", FIRES_NOT),)),
    Case("an email fails for good", "EdcsEmailsFailing", {
        'edcs_notify_emails_total{milestone="received",outcome="failed"}': "0 0 1x20",
        'edcs_notify_emails_total{milestone="received",outcome="sent"}': "0+2x22"},
        (("10m", (Expect(),)),)),
    Case("a file waits too long", "EdcsFileNotFinal",
         {"edcs_store_oldest_open_file_age_seconds": "0+60x90"},  # a minute older each minute
         (("60m", FIRES_NOT), ("80m", (Expect(value="1h 20m 0s"),)))),
    Case("the supervisor restarts a worker", "EdcsWorkerRestarting",
         {'edcs_stack_restarts_total{process="post"}': "0 1 2 3 3",
          'edcs_stack_restarts_total{process="ingest"}': "0 0 0 1 1"},
         (("1m", FIRES_NOT), ("4m", (Expect({"process": "post"}),)))),
    Case("a worker restarts outside edcs up", "EdcsWorkerRestarting", {
        'process_start_time_seconds{job="edcs-workers",instance="w:1",process="ingest"}':
            "100 100 200 300 400"}, (("4m", (Expect({"process": "ingest"}),)),)),
)


def render(template: str, labels: dict[str, str], value: str) -> str:
    """A rule's annotation as Prometheus renders it, for the templates edcs uses:
    ``{{ $labels.NAME }}``, ``{{ $value }}`` and ``{{ $value | humanizeDuration }}``."""
    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), template)
    return re.sub(r"\{\{ \$value( \| humanizeDuration)? \}\}", value, text)


def _expected(alert: Alert, expect: Expect) -> dict[str, Any]:
    labels = {**expect.labels, "severity": alert.severity}
    return {"exp_labels": labels, "exp_annotations": {
        "summary": render(alert.summary, labels, expect.value),
        "description": render(alert.description, labels, expect.value)}}


def unit_tests_document(rules_file: str = "alerts.yml") -> dict[str, Any]:
    """The promtool test file."""
    by_name = {a.name: a for a in alerts()}
    tests = []
    for case in CASES:
        alert = by_name[case.alert]
        tests.append({
            "name": f"{case.alert}: {case.name}", "interval": case.interval,
            "input_series": [{"series": s, "values": v} for s, v in case.series.items()],
            "alert_rule_test": [{"eval_time": at, "alertname": case.alert,
                                 "exp_alerts": [_expected(alert, e) for e in expected]}
                                for at, expected in case.checks]})
    return {"rule_files": [rules_file], "evaluation_interval": "1m", "tests": tests}


def unit_tests_yaml() -> str:
    """``unit_tests_document`` as YAML."""
    return ("# Generated from edcs/alert_tests.py by scripts/generate-deploy; do not edit.\n"
            "# Run: promtool test rules deploy/prometheus/alerts.test.yml\n"
            + yaml.safe_dump(unit_tests_document(), sort_keys=False, width=100,
                             allow_unicode=True))
