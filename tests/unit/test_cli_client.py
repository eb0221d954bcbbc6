"""The API commands say clearly when no stack is running, and exit 2."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import click
import pytest

from edcs.client import ApiError, api_url
from edcs.ops import since_utc
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


@pytest.mark.parametrize("args", [
    ["jobs"], ["job", "1"], ["dlq", "list"], ["replay", "--submission", "1"],
    ["submit", __file__, "--collection", "SENR", "--institution", "1964733"],
])
def test_without_a_running_stack_in_the_data_dir_nothing_is_guessed(
        args: list[str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "EDCS_API_URL"}
    done = subprocess.run([edcs_command(), *args, "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=False, env=env)
    assert done.returncode == 2
    assert f"no edcs stack is running in {tmp_path}" in done.stderr
    assert "--api" in done.stderr and "edcs up" in done.stderr


def test_a_stack_json_left_by_a_stopped_stack_is_not_trusted(tmp_path: Path) -> None:
    dead = max(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()) + 100_000
    (tmp_path / "stack.json").write_text(json.dumps({"api": "http://127.0.0.1:8000",
                                                     "pid": dead}))
    with pytest.raises(ApiError, match="not running any more"):
        api_url(None, tmp_path)


def test_an_explicit_api_wins_over_the_data_dir(tmp_path: Path) -> None:
    assert api_url("http://edcs.example/", tmp_path) == "http://edcs.example"


@pytest.mark.parametrize(("given", "expected"), [
    ("30m", dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)),
    ("2h", dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)),
    ("1d", dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)),
    ("2026-12-01T09:15:00+01:00", dt.datetime(2026, 12, 1, 8, 15, tzinfo=dt.UTC)),
])
def test_replay_since_accepts_durations_and_iso_times(given: str, expected: dt.datetime) -> None:
    now = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
    assert since_utc(given, now) == expected


def test_replay_since_refuses_anything_else() -> None:
    with pytest.raises(click.BadParameter, match="30m, 2h, 1d"):
        since_utc("yesterday-ish")
