"""``edcs up`` as a new user runs it: one command brings up everything, Ctrl-C stops it all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from edcs.stack import free_port, port_open
from tests.fixtures.stack import edcs_command, gen_senr

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_up_serves_submits_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDCS_")}
    proc = subprocess.Popen([edcs_command(), "up", "--data-dir", str(tmp_path / "var"),
                             "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    banner: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            banner.append(line)
            if line.startswith("edcs: up"):
                break
        else:
            pytest.fail("edcs up exited early:\n" + "".join(banner))
        stack = json.loads((tmp_path / "var" / "stack.json").read_text())
        assert stack["api"] == f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            assert json.load(r) == {"status": "ok"}
        broker_port = int(stack["broker"].rsplit(":", 1)[1])
        # The CLI finds the running stack from --data-dir alone.
        data = gen_senr(tmp_path / "senr.csv", 200)
        done = subprocess.run([edcs_command(), "submit", str(data), "--collection", "SENR",
                               "--institution", "1964733", "--wait", "--timeout", "120",
                               "--data-dir", str(tmp_path / "var")], capture_output=True,
                              text=True, timeout=180, env=env, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "posted 200" in done.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "edcs: stopped." in out
    assert not (tmp_path / "var" / "stack.json").exists()
    deadline = time.monotonic() + 5
    while (port_open(port) or port_open(broker_port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_open(port)
    assert not port_open(broker_port)
    assert list((tmp_path / "var" / "mail").glob("*.eml"))


def pids_of(pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False)
    return [int(p) for p in found.stdout.split()]


def environ_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError:  # the process ended in between
        return ""


def test_a_killed_worker_is_restarted_and_the_file_still_posts(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDCS_")}
    proc = subprocess.Popen([edcs_command(), "up", "--data-dir", str(tmp_path / "var"),
                             "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("edcs: up"):
                break
        stack = json.loads((tmp_path / "var" / "stack.json").read_text())
        assert "post metrics" in stack
        ours = [pid for pid in pids_of("services.post") if str(tmp_path) in environ_of(pid)]
        assert len(ours) == 1
        os.kill(ours[0], signal.SIGKILL)
        data = gen_senr(tmp_path / "senr.csv", 300)
        done = subprocess.run([edcs_command(), "submit", str(data), "--collection", "SENR",
                               "--institution", "1964733", "--wait", "--timeout", "120",
                               "--data-dir", str(tmp_path / "var")], capture_output=True,
                              text=True, timeout=180, env=env, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "posted 300" in done.stdout  # only a restarted post worker can have posted it
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 0
