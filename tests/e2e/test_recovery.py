"""Recovery on the real stack: ``edcs up`` stopped and started mid-file, the database down for
30 seconds, the SMTP relay down longer than any retry, two post workers with one killed, and the
broker's memory given back: every file ends posted once and emailed once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL

from edcs.mailsink import start as start_sink
from edcs.stack import free_port
from tests.e2e.test_faults import FAST, assert_posted_once, history, senr_file
from tests.e2e.test_up import edcs_up
from tests.fixtures.postgres import SUPERUSER, LocalServer, create_database, find_binaries
from tests.fixtures.stack import start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_stopping_edcs_up_mid_file_and_starting_it_again_loses_nothing(tmp_path: Path) -> None:
    path = senr_file(tmp_path / "big.csv", 150_000, 21)
    with edcs_up(tmp_path) as up:
        done = up.run("submit", str(path), "--collection", "SENR", "--institution", "1964733",
                      "--format", "json")
        assert done.returncode == 0, done.stderr
        job_id = int(json.loads(done.stdout)["id"])
        up.wait_until(lambda: up.status(job_id)[1] > 0, "staging started")
    assert up.proc.returncode == 0, up.output  # Ctrl-C mid-file: a clean stop
    assert up.status(job_id)[0] in ("received", "processing")
    with edcs_up(tmp_path, port=up.port) as again:
        assert "re-driven" in again.output
        stack = again.running()
        assert_posted_once(stack, job_id, path)
        said = [kind for kind, _ in history(stack, job_id)]
        assert said.count("redriven") == 1 and said[-1] == "posted"


@pytest.fixture
def own_postgres() -> Iterator[tuple[LocalServer, int, str]]:
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not found")
    server = LocalServer(binaries)
    try:
        server.init()
        port = server.start()
        admin = URL.create("postgresql+psycopg", username=SUPERUSER, host="127.0.0.1",
                           port=port, database="postgres")
        create_database(admin, "edcs_outage")
        yield server, port, admin.set(database="edcs_outage").render_as_string(False)
    finally:
        server.stop()


def test_the_database_down_for_30_seconds_mid_file(
        own_postgres: tuple[LocalServer, int, str], tmp_path: Path) -> None:
    server, port, url = own_postgres
    for stack in start_stack(tmp_path / "stack", url, env_extra=FAST):
        path = senr_file(tmp_path / "pg.csv", 40_000, 22)
        job_id = stack.upload(path)
        stack.wait_for(job_id, lambda _s, staged, _p: staged > 0, "staging started")
        server.halt()
        time.sleep(30)
        server.start(port)
        assert_posted_once(stack, job_id, path)
        assert not any("exited" in e for e in stack.stack.events if e.startswith("post"))


def test_the_smtp_relay_down_longer_than_any_retry_then_back(tmp_path: Path) -> None:
    port = free_port()
    mail = tmp_path / "relay"
    relay = start_sink(mail, port)
    env = {**FAST, "EDCS_SMTP__HOST": "127.0.0.1", "EDCS_SMTP__PORT": str(port)}
    for stack in start_stack(tmp_path / "stack", env_extra=env):
        stack.mail_dir = mail  # emails() reads the relay's messages
        first = senr_file(tmp_path / "first.csv", 200, 23)
        assert_posted_once(stack, stack.upload(first), first)
        relay.stop()
        second = senr_file(tmp_path / "second.csv", 200, 24)
        job_id = stack.upload(second)
        stack.wait_for(job_id, lambda status, *_: status == "posted", "posted")
        time.sleep(20)  # many retries, each refused
        job = json.loads(stack.edcs("job", str(job_id), "--format", "json").stdout)
        assert {e["status"] for e in job["emails"]} == {"retry"}
        assert all(e["attempts"] >= 3 for e in job["emails"])
        relay = start_sink(mail, port)
        assert_posted_once(stack, job_id, second)
    relay.stop()


def test_two_post_workers_one_killed_mid_file(tmp_path: Path) -> None:
    for stack in start_stack(tmp_path / "stack", scale={"post": 2}, env_extra=FAST):
        files = [senr_file(tmp_path / f"f{i}.csv", 20_000, 30 + i) for i in range(3)]
        jobs = [stack.upload(f) for f in files]
        stack.wait_for(jobs[0], lambda _s, staged, _p: staged > 0, "staging started")
        stack.kill("post-2")
        for job_id, path in zip(jobs, files, strict=True):
            assert_posted_once(stack, job_id, path)


def test_the_brokers_memory_is_given_back_when_nothing_is_in_flight(tmp_path: Path) -> None:
    env = {**FAST, "EDCS_STACK__BROKER_RECYCLE_MB": "40"}
    for stack in start_stack(tmp_path / "stack", env_extra=env):
        path = senr_file(tmp_path / "fill.csv", 60_000, 40)
        assert_posted_once(stack, stack.upload(path), path)
        deadline = time.monotonic() + 90
        while not any("MB of events" in e for e in stack.stack.events) or not any(
                "every client has restarted" in e for e in stack.stack.events):
            assert time.monotonic() < deadline, stack.stack.events
            time.sleep(1)
        after = senr_file(tmp_path / "after.csv", 500, 41)
        assert_posted_once(stack, stack.upload(after), after)
