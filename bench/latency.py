"""Small-file latency on a warm embedded stack (issue 14): prints figures, asserts nothing.

Usage: python bench/latency.py [FILES] [N]   (default 20 files of 1,000 records)

Starts a stack, posts one file to warm it, then submits FILES files of N records one after the
other. For each it reads the job's own timestamps from the store: received (the upload's
answer) to final, and final to the 'processed' email sent. Prints the p50 and p90 of both and a
``RATIO`` line against the targets (≤ 0.3 s to posted, email ≤ 1 s after).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from edcs.client import Client
from edcs.stack import Stack, free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import generate  # bench/ is not a package


def main() -> None:
    """Submit the files and print the latencies."""
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    with tempfile.TemporaryDirectory(prefix="edcs-latency-") as tmp:
        work = Path(tmp)
        paths = [generate(n, work / f"small-{i}.csv", seed=100 + i) for i in range(files + 1)]
        stack = Stack(data_dir=work / "stack", web_port=free_port())
        stack.start()
        try:
            token = (stack.data_dir / "operator-token").read_text().strip()
            client = Client(f"http://127.0.0.1:{stack.web_port}", token)
            time.sleep(6)
            ids = []
            for path in paths:
                job = client.submit(path, "SENR", "1964733", None)
                client.wait(int(job["id"]), timeout=600)
                ids.append(int(job["id"]))
            time.sleep(3)  # the last email
            store = create_engine(f"sqlite:///{stack.data_dir / 'edcs.db'}")
            with store.connect() as db:
                rows = [db.execute(text(
                    "SELECT s.id, s.received_at, s.finished_at, e.sent_at FROM submissions s "
                    "LEFT JOIN emails e ON e.submission_id = s.id AND e.milestone = 'processed' "
                    "WHERE s.id = :id"), {"id": i}).one() for i in ids[1:]]
        finally:
            stack.stop()
    posted = [_seconds(r[2]) - _seconds(r[1]) for r in rows]
    mailed = [_seconds(r[3]) - _seconds(r[2]) for r in rows if r[3] is not None]
    print(f"{len(posted)} files of {n}: upload answer -> posted p50 "
          f"{statistics.median(posted):.3f} s, p90 {_p90(posted):.3f} s; posted -> email sent "
          f"p50 {statistics.median(mailed) if mailed else float('nan'):.3f} s")
    print(f"RATIO latency: p50 {statistics.median(posted):.3f} s (target <= 0.3 s); email p50 "
          f"{statistics.median(mailed) if mailed else float('nan'):.3f} s (target <= 1 s)")


def _seconds(value: object) -> float:
    import datetime as dt

    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment.timestamp()


def _p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


if __name__ == "__main__":
    main()
