"""The metrics catalog: names and labels follow the style rules, no label can carry private
data, each process serves exactly its own metrics, and docs/metrics.md is the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from edcs.stack import Child, Stack
from edcs.stackmetrics import StackCollector
from shared.metrics import (
    CATALOG,
    EVERY_WORKER,
    catalog,
    exposition,
    markdown,
    sample_names,
)

ROOT = Path(__file__).resolve().parents[2]
# A label named like any of these could carry a student, a school, a district or a file.
PRIVATE = ("ssid", "student", "name", "school", "district", "institution", "lea", "file",
           "filename", "submission", "dob", "birth", "ssn", "email", "user", "id", "key")


def test_docs_are_the_catalog() -> None:
    assert (ROOT / "docs" / "metrics.md").read_text("utf-8") == markdown(), (
        "docs/metrics.md is stale: run .venv/bin/python scripts/generate-deploy")


def test_names_follow_the_style() -> None:
    names = [s.name for s in CATALOG]
    assert len(names) == len(set(names))
    for spec in CATALOG:
        assert spec.name.startswith("edcs_"), spec.name
        assert not spec.name.endswith("_total"), f"{spec.name}: counters are declared bare"
        if spec.unit in ("seconds", "bytes"):
            assert spec.name.endswith(f"_{spec.unit}"), f"{spec.name}: base unit last"
        assert spec.meaning.endswith("."), spec.name
        assert set(spec.served_by) <= {EVERY_WORKER, "ingest", "validate", "post", "notify",
                                       "web", "stack"}, spec.name


def test_no_label_can_carry_private_data() -> None:
    for spec in catalog():
        for label in spec.labels:
            assert not set(label.split("_")) & set(PRIVATE), f"{spec.name}: label {label!r}"


def test_sample_names_cover_counters_and_histograms() -> None:
    samples = sample_names()
    assert "edcs_stage_messages_in_total" in samples
    assert "edcs_post_file_latency_seconds_bucket" in samples
    assert "edcs_stage_messages_in" not in samples  # Prometheus stores the _total


@pytest.mark.parametrize("process", ["ingest", "validate", "post", "notify", "web"])
def test_each_process_serves_only_its_own_metrics(process: str) -> None:
    shown = {f.name for f in text_string_to_metric_families(
        generate_latest(exposition(process)).decode()) if f.name.startswith("edcs_")}
    ours = {s.name for s in CATALOG if process in s.served_by
            or (process != "web" and EVERY_WORKER in s.served_by)}
    assert shown <= ours
    unlabelled = {s.name for s in CATALOG if process in s.served_by and not s.labels}
    assert unlabelled <= shown


def test_a_stage_added_later_serves_the_loop_metrics() -> None:
    loop = {s.name for s in CATALOG if EVERY_WORKER in s.served_by}
    families = {f.name for f in exposition("identity").collect()}
    assert "edcs_post_barrier_wait_seconds" not in families  # post's own
    assert {s.name for s in CATALOG if not s.labels and EVERY_WORKER in s.served_by} <= (
        families & loop)
    with pytest.raises(ValueError, match="not a process"):
        exposition("")


def test_the_stack_serves_its_catalog_metrics(tmp_path: Path) -> None:
    stack = Stack(data_dir=tmp_path, embedded_broker=True)
    stack.children["validate-2"] = Child("validate-2", ["x"], {}, restarts=3)
    stack.broker_replacements = 1
    families = {f.name: f for f in StackCollector(stack).collect()}
    assert set(families) == {s.name for s in CATALOG if "stack" in s.served_by}
    restarts = families["edcs_stack_restarts"].samples
    assert [(s.labels, s.value) for s in restarts] == [({"process": "validate-2"}, 3)]
    assert families["edcs_stack_process_up"].samples[0].value == 0  # never started
