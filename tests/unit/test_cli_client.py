"""The API commands say clearly when no stack is running, and exit 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from edcs.stack import free_port
from tests.fixtures.stack import edcs_command


@pytest.mark.parametrize("args", [
    ["jobs"], ["job", "1"], ["export", "SENR", "--institution", "1964733"],
    ["history", "SENR", "--institution", "1964733"],
])
def test_no_stack_running_is_exit_2_with_a_reason(args: list[str], tmp_path: Path) -> None:
    api = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = subprocess.run([edcs_command(), *args, "--api", api], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "cannot reach edcs" in done.stderr
    assert "edcs up" in done.stderr
