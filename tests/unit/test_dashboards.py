"""The Grafana dashboards: every panel queries metrics of the catalog, through the provisioned
data source."""

from __future__ import annotations

import json

import pytest
import yaml

from edcs.dashboards import DATASOURCE, dashboards, expressions
from edcs.deploygen import ROOT
from shared.metrics import sample_names
from tests.unit.promql import metric_names

BOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))


def test_every_dashboard_is_generated() -> None:
    assert sorted(p.name for p in BOARDS) == sorted(dashboards())


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.name)
def test_every_panel_reads_catalog_metrics(path: object) -> None:
    document = json.loads(path.read_text())  # type: ignore[attr-defined]
    exprs = expressions(document)
    assert len(exprs) >= len(document["panels"]) >= 4
    known = set(sample_names())
    for expr in exprs:
        unknown = metric_names(expr) - known
        assert not unknown, f"{path}: {expr!r} reads {unknown}"
    for panel in document["panels"]:
        assert panel["datasource"]["uid"] == DATASOURCE.uid


def test_the_data_source_is_provisioned() -> None:
    provisioned = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/"
                                  "prometheus.yml").read_text())
    assert [d["uid"] for d in provisioned["datasources"]] == [DATASOURCE.uid]


def test_the_name_parser_sees_through_promql() -> None:
    assert metric_names('sum by (stage) (rate(a_total{x="b c"}[5m])) / '
                        'on (stage) b > 0.2 and c offset 5m or vector(0)') == {
        "a_total", "b", "c"}
