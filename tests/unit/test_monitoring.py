"""``edcs up --monitoring`` without Prometheus installed says how to install it and goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from edcs import monitoring
from edcs.monitoring import INSTALL_HINT, prepare_monitoring, start_monitoring, targets_of
from edcs.stack import Child, Stack


def test_without_the_binary_the_stack_goes_on_and_says_how_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitoring, "prometheus_binary", lambda: None)
    stack = Stack(data_dir=tmp_path, monitoring=True)
    prepare_monitoring(stack)
    try:
        start_monitoring(stack)
        assert stack.events == [INSTALL_HINT]
        assert "apt-get install" in INSTALL_HINT
        assert stack.endpoints["prometheus"].startswith("not installed")
        assert "EDCS_MONITORING__PROMETHEUS_URL" not in stack.env
        assert "prometheus" not in stack.children
        assert stack.metrics_port  # edcs up's own /metrics serve all the same
    finally:
        stack._metrics_server.shutdown()
        stack._metrics_server.server_close()


def test_every_process_with_metrics_is_a_target(tmp_path: Path) -> None:
    stack = Stack(data_dir=tmp_path, web_port=8000, metrics_port=9000)
    stack.children["validate-2"] = Child("validate-2", [], {"EDCS_METRICS_PORT": "4002"})
    stack.children["mailsink"] = Child("mailsink", [], {})
    found = {(t.job, t.process, t.stage, t.port) for t in targets_of(stack)}
    assert found == {("edcs-stack", "stack", "stack", 9000), ("edcs-web", "web", "web", 8000),
                     ("edcs-workers", "validate-2", "validate", 4002)}
