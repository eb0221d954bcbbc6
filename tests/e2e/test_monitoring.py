"""``edcs up --monitoring`` on the real stack, with Debian's Prometheus: the backlog rises and
drains, an alert fires when a worker is stopped and clears when it is back, restarts are seen.

Scrapes and rule evaluations every second and every ``for:`` set to a few seconds
(``EDCS_MONITORING__*``), so the test takes well under two minutes; the rules are the
production ones (edcs.alerts), only their durations differ.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edcs.stack import Child
from tests.fixtures.stack import RunningStack, gen_senr, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
FAST = {"EDCS_MONITORING__SCRAPE_SECONDS": "1", "EDCS_MONITORING__EVALUATION_SECONDS": "1",
        "EDCS_MONITORING__ALERT_FOR_SECONDS": "3"}
NOT_FINAL = 'sum(edcs_store_files{status=~"received|processing|posting"})'


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory,
            prometheus: Path) -> Iterator[RunningStack]:
    yield from start_stack(tmp_path_factory.mktemp("stack-monitoring"), env_extra=FAST,
                           monitoring=True)


def prometheus_url(stack: RunningStack) -> str:
    return stack.stack.endpoints["prometheus"].split()[0]


def api(stack: RunningStack, path: str, **params: str) -> Any:
    url = f"{prometheus_url(stack)}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return json.load(response)["data"]


def value(stack: RunningStack, query: str) -> float | None:
    """The single value of an instant query (None when it returns nothing)."""
    result = api(stack, "/api/v1/query", query=query)["result"]
    return float(result[0]["value"][1]) if result else None


def firing(stack: RunningStack, name: str) -> list[dict[str, str]]:
    return [a["labels"] for a in api(stack, "/api/v1/alerts")["alerts"]
            if a["labels"]["alertname"] == name and a["state"] == "firing"]


def eventually(check: Callable[[], Any], what: str | Callable[[], str],
               timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what if isinstance(what, str) else what()}")
        time.sleep(0.5)


def test_every_process_is_scraped(watched: RunningStack) -> None:
    expected = {"stack", "web", *(name for name, child in watched.stack.children.items()
                                  if "EDCS_METRICS_PORT" in child.extra_env)}
    assert {"ingest", "validate", "post", "notify"} <= expected

    def scraped() -> bool:
        targets = api(watched, "/api/v1/targets")["activeTargets"]
        return {t["labels"]["process"] for t in targets if t["health"] == "up"} == expected

    eventually(scraped, "every process scraped")
    rules = api(watched, "/api/v1/rules")["groups"][0]["rules"]
    assert {r["name"] for r in rules} >= {"EdcsWorkerDown", "EdcsStageStalled"}


def test_backlog_rises_and_drains_and_an_alert_fires_while_a_worker_is_stopped(
        watched: RunningStack, tmp_path: Path) -> None:
    eventually(lambda: value(watched, 'up{process="validate"}') == 1, "validate scraped")
    validate = watched.stack.children["validate"].proc
    assert validate is not None
    os.kill(validate.pid, signal.SIGSTOP)  # hung, not dead: the supervisor leaves it alone
    try:
        jobs = [watched.upload(gen_senr(tmp_path / f"f{n}.csv", 40_000, seed=n))
                for n in (1, 2, 3)]
        eventually(lambda: (value(watched, NOT_FINAL) or 0) >= 3, "the backlog rises")
        down = eventually(lambda: firing(watched, "EdcsWorkerDown"), "EdcsWorkerDown fires")
        assert [a["process"] for a in down] == ["validate"]
        assert down[0]["severity"] == "critical"
        token = (watched.data_dir / "operator-token").read_text().strip()
        asked = urllib.request.Request(f"{watched.api}/api/v1/window",  # noqa: S310
                                       headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(asked, timeout=10) as r:  # noqa: S310
            window = json.load(r)
        assert window["monitoring"]["reachable"]
        assert "EdcsWorkerDown" in {a["name"] for a in window["monitoring"]["alerts"]}
        assert window["backlog"]["ingest + validate (received)"] >= 3
    finally:
        os.kill(validate.pid, signal.SIGCONT)
    for job in jobs:
        watched.wait_for(job, lambda status, *_: status == "posted", "posted", timeout=120)
    eventually(lambda: value(watched, NOT_FINAL) in (None, 0.0), "the backlog drains")
    eventually(lambda: not firing(watched, "EdcsWorkerDown"), "EdcsWorkerDown clears")
    # What Prometheus kept: the rise and the drain of the backlog, and the validate stage's
    # lag on records.parsed when it came back (the messages that waited for it).
    assert value(watched, f"max_over_time({NOT_FINAL}[5m:1s])") >= 3
    lag = 'sum(edcs_stage_consumer_lag_messages{topic="records.parsed"})'
    assert (value(watched, f"max_over_time({lag}[5m:1s])") or 0) > 0
    assert value(watched, lag) == 0
    eventually(lambda: (value(watched, 'sum(edcs_post_files_total{status="posted"})') or 0)
               >= 3, "the posted files counted")


def restarted(child: Child, before: int) -> Callable[[], bool]:
    return lambda: (child.restarts > before and child.proc is not None
                    and child.proc.poll() is None)


def test_restarts_are_counted_and_alerted(watched: RunningStack) -> None:
    notify = watched.stack.children["notify"]
    for n in range(3):
        before = notify.restarts
        watched.kill("notify")
        eventually(restarted(notify, before), f"restart {n + 1}", timeout=30)
    expected = notify.restarts
    assert expected >= 3
    query = 'edcs_stack_restarts_total{process="notify"}'
    eventually(lambda: value(watched, query) == expected,
               lambda: f"restarts scraped: {api(watched, '/api/v1/query', query=query)}")
    alert = eventually(lambda: firing(watched, "EdcsWorkerRestarting"), "alert fires")
    assert {a["process"] for a in alert} == {"notify"}
