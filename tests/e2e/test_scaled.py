"""Two workers per stage, several files of two districts in flight at once: every file posts
exactly once, with its own counts, in the order each district sent them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db.models import OdsRecord
from tests.fixtures.stack import RunningStack, gen_senr, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture(scope="module")
def scaled_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    yield from start_stack(tmp_path_factory.mktemp("stack-scaled"),
                           scale={"ingest": 2, "validate": 2, "post": 2})


def as_district(source: Path, target: Path, lea: str) -> Path:
    target.write_text(source.read_text().replace("1964733", lea))
    return target


def test_files_in_flight_on_two_workers_per_stage(scaled_stack: RunningStack,
                                                  tmp_path: Path) -> None:
    assert {"validate-2 metrics", "post-2 metrics"} <= set(scaled_stack.stack.endpoints)
    files = []
    for i in range(4):
        source = gen_senr(tmp_path / f"s{i}.csv", 3000, errors=0.0, seed=40 + i)
        lea = "1964733" if i % 2 == 0 else "0000000"
        files.append((as_district(source, tmp_path / f"f{i}.csv", lea), lea))
    with ThreadPoolExecutor(4) as pool:
        jobs = list(pool.map(lambda f: scaled_stack.submit(f[0], institution=f[1]), files))
    assert [(j["status"], j["records"], j["posted"]) for j in jobs] == [("posted", 3000, 3000)] * 4
    with Session(scaled_stack.engine()) as session:
        by_lea = dict(session.execute(select(OdsRecord.lea, func.count()).group_by(
            OdsRecord.lea)).all())
    # Each district's two files hold different students: all 6,000 of each are stored once.
    assert by_lea == {"1964733": 6000, "0000000": 6000}
    for lea in ("1964733", "0000000"):
        mine = sorted((j for j in jobs if j["institution"] == lea), key=lambda j: j["id"])
        assert mine[0]["finished_at"] <= mine[1]["finished_at"]
    for job in jobs:  # one result email per file
        scaled_stack.wait_for_email(f"submission {job['id']} posted")
    issues = json.loads(scaled_stack.edcs("job", str(jobs[0]["id"]), "--format", "json").stdout)
    assert issues["errors"] == []
