"""The alert rules: promtool checks them and runs their unit tests; every rule has a case
where it fires and one where it does not; every expression reads catalog metrics only."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from edcs.alert_tests import CASES
from edcs.alerts import alerts, rules_yaml
from edcs.deploygen import ROOT
from edcs.monitoring import Target, scrape_config
from shared.metrics import sample_names
from shared.settings import MonitoringSettings
from tests.unit.promql import metric_names

PROMETHEUS = ROOT / "deploy" / "prometheus"


def promtool_ok(promtool: Path, *args: str) -> str:
    done = subprocess.run([str(promtool), *args], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_promtool_checks_the_rules(promtool: Path) -> None:
    out = promtool_ok(promtool, "check", "rules", str(PROMETHEUS / "alerts.yml"))
    assert f"{len(alerts())} rules found" in out


def test_promtool_unit_tests_pass(promtool: Path) -> None:
    assert "SUCCESS" in promtool_ok(promtool, "test", "rules",
                                    str(PROMETHEUS / "alerts.test.yml"))


def test_every_rule_has_a_case_that_fires_and_one_that_does_not() -> None:
    fires = {c.alert for c in CASES for _, expected in c.checks if expected}
    quiet = {c.alert for c in CASES for _, expected in c.checks if not expected}
    names = {a.name for a in alerts()}
    assert fires == names
    assert quiet == names


def test_rules_read_catalog_metrics_only() -> None:
    known = sample_names()
    for alert in alerts():
        unknown = metric_names(alert.expr) - set(known)
        assert not unknown, f"{alert.name} reads {unknown}"


def test_rules_with_short_durations_are_valid(promtool: Path, tmp_path: Path) -> None:
    path = tmp_path / "alerts.yml"
    path.write_text(rules_yaml(open_file_minutes=0.5, for_seconds=2))
    promtool_ok(promtool, "check", "rules", str(path))
    rules = yaml.safe_load(path.read_text())["groups"][0]["rules"]
    assert {r.get("for") for r in rules} == {"2s"}


def test_the_stack_scrape_config_is_valid(promtool: Path, tmp_path: Path) -> None:
    rules = tmp_path / "alerts.yml"
    rules.write_text(rules_yaml())
    targets = [Target("edcs-workers", "validate-2", "validate", 4001),
               Target("edcs-web", "web", "web", 8000)]
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(scrape_config(targets, MonitoringSettings(
        scrape_seconds=1, evaluation_seconds=1), rules)))
    promtool_ok(promtool, "check", "config", str(config))
    jobs = yaml.safe_load(config.read_text())["scrape_configs"]
    assert jobs[0]["static_configs"][0]["labels"] == {"process": "validate-2",
                                                       "stage": "validate"}
