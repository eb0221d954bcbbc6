"""``edcs up`` as a new user runs it: one command brings up everything, Ctrl-C stops it all."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from edcs.stack import free_port, port_open
from tests.fixtures.stack import RunningStack, edcs_command, gen_senr

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@dataclass
class Up:
    """A running ``edcs up`` and what it said."""

    proc: subprocess.Popen[str]
    port: int
    data_dir: Path
    env: dict[str, str]
    output: str = ""

    def stack(self) -> dict[str, str]:
        return dict(json.loads((self.data_dir / "stack.json").read_text()))

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """An ``edcs`` command finding the stack from --data-dir alone."""
        return subprocess.run([edcs_command(), *args, "--data-dir", str(self.data_dir)],
                              capture_output=True, text=True, timeout=180, env=self.env,
                              check=False)

    def running(self) -> RunningStack:
        """The stack as the shared e2e helpers use it (no Stack object: edcs up owns it)."""
        return RunningStack(stack=None, api=f"http://127.0.0.1:{self.port}",  # type: ignore[arg-type]
                            data_dir=self.data_dir,
                            database_url=f"sqlite:///{self.data_dir / 'edcs.db'}")

    def status(self, job_id: int) -> tuple[str, int, int]:
        """(status, staged, posted) of a job, from the store."""
        stack = self.running()
        try:
            return stack.status(job_id)
        finally:
            stack.engine().dispose()

    def wait_until(self, check: Callable[[], bool], what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, what
            time.sleep(0.2)

    def submit(self, path: Path) -> subprocess.CompletedProcess[str]:
        """``edcs submit --wait`` finding the stack from --data-dir alone."""
        return subprocess.run([edcs_command(), "submit", str(path), "--collection", "SENR",
                               "--institution", "1964733", "--wait", "--timeout", "120",
                               "--data-dir", str(self.data_dir)], capture_output=True,
                              text=True, timeout=180, env=self.env, check=False)


@contextlib.contextmanager
def edcs_up(tmp_path: Path, port: int | None = None) -> Iterator[Up]:
    """Run ``edcs up`` until its banner says it is up; Ctrl-C (SIGINT) it afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDCS_")}
    port = port or free_port()
    proc = subprocess.Popen([edcs_command(), "up", "--data-dir", str(tmp_path / "var"),
                             "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    up = Up(proc, port, tmp_path / "var", env)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            up.output += line
            if line.startswith("edcs: up"):
                break
        else:
            pytest.fail("edcs up exited early:\n" + up.output)
        yield up
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        up.output += rest


def staged_rows(database: Path) -> int:
    """Rows in staging, read from the SQLite store itself."""
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as db:
        return int(db.execute("SELECT count(*) FROM staged_records").fetchone()[0])


def pids_of(pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False)
    return [int(p) for p in found.stdout.split()]


def environ_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError:  # the process ended in between
        return ""


def test_up_serves_submits_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    with edcs_up(tmp_path) as up:
        stack = up.stack()
        assert stack["api"] == f"http://127.0.0.1:{up.port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{up.port}/health", timeout=5) as r:
            assert json.load(r) == {"status": "ok"}
        broker_port = int(stack["broker"].rsplit(":", 1)[1])
        done = up.submit(gen_senr(tmp_path / "senr.csv", 200))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "posted 200" in done.stdout
        # Its staged rows go once the post worker is idle, not while it posts.
        up.wait_until(lambda: staged_rows(up.data_dir / "edcs.db") == 0,
                      "the posted file's staged rows removed", timeout=30)
    assert up.proc.returncode == 0, up.output
    assert "edcs: stopped." in up.output
    assert not (up.data_dir / "stack.json").exists()
    deadline = time.monotonic() + 5
    while (port_open(up.port) or port_open(broker_port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_open(up.port)
    assert not port_open(broker_port)
    assert list((up.data_dir / "mail").glob("*.eml"))


def test_a_killed_worker_is_restarted_and_the_file_still_posts(tmp_path: Path) -> None:
    with edcs_up(tmp_path) as up:
        ours = [pid for pid in pids_of("services.post") if str(tmp_path) in environ_of(pid)]
        assert len(ours) == 1
        os.kill(ours[0], signal.SIGKILL)
        done = up.submit(gen_senr(tmp_path / "senr.csv", 300))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "posted 300" in done.stdout  # only a restarted post worker can have posted it
    assert up.proc.returncode == 0, up.output
