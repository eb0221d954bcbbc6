"""The generated files of the repository: docs/metrics.md from the metrics catalog,
deploy/prometheus/alerts.yml from edcs.alerts (and its promtool tests from
edcs.alert_tests) and deploy/grafana/dashboards/*.json from
edcs.dashboards. ``scripts/generate-deploy`` writes them; tests fail when a checked-in copy
differs from what the code generates."""

from __future__ import annotations

from pathlib import Path

from edcs.alert_tests import unit_tests_yaml
from edcs.alerts import rules_yaml
from shared.metrics import markdown

ROOT = Path(__file__).resolve().parents[1]


def generated() -> dict[Path, str]:
    """Every generated file (path relative to the repository root) and its content."""
    from edcs.dashboards import dashboards, to_json  # needs the dev extra (grafana sdk)

    files = {Path("docs/metrics.md"): markdown(),
             Path("deploy/prometheus/alerts.yml"): rules_yaml(),
             Path("deploy/prometheus/alerts.test.yml"): unit_tests_yaml()}
    for name, board in dashboards().items():
        files[Path("deploy/grafana/dashboards") / name] = to_json(board)
    return files


def write(root: Path = ROOT) -> list[Path]:
    """Write every generated file under ``root``; returns those that changed."""
    changed = []
    for relative, content in generated().items():
        path = root / relative
        if not path.exists() or path.read_text("utf-8") != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, "utf-8")
            changed.append(relative)
    return changed
