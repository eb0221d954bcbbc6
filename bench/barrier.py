"""The post worker's work alone: stage and post K files of N SENR records into a fresh store,
file after file, printing each file's staging and barrier time and the costliest statements.

Usage: python bench/barrier.py [--postgres] [--shared-schools] [K] [N]
       (default 10 files of 50,000 records)

No broker and no other worker: the files are parsed and validated in this process first (not
timed), then handed to ``services.post.worker.handle_events`` in fetches of 64 batches, as the
post worker gets them, and their end of file last. File i is of district DISTRICT + i over its
own 400 schools (bench/e2e.py ``--districts``). ``--shared-schools`` puts every file at
gen_senr.py's same 400 schools, so from the second file on the store holds records at the
file's schools and each file's keys fall all over the store's indexes. ``--postgres`` uses a
throwaway PostgreSQL server (its staging COPY goes to the driver directly and is not among the
statements listed).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import io
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import e2e

from services.ingest.parser import parse_file
from services.post.worker import handle_events
from services.validate.worker import validate_batch
from shared import directory
from shared.catalog.loader import default_catalog
from shared.db.migrate import upgrade
from shared.db.models import Institution, Submission
from shared.db.session import make_engine, make_session_factory
from shared.events.models import (
    FileReceived,
    RecordBatch,
    RecordStreamEvent,
    decode_record_stream,
)
from shared.privacy import hasher
from shared.settings import PipelineSettings, Settings

FETCH = 64  # batches a post worker takes at a time (kafka.fetch_max_records)


class Statements:
    """Seconds and calls per statement (its first 110 characters) since the last ``clear``."""

    def __init__(self, engine: Engine) -> None:
        self.seconds: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, *_args: Any) -> None:
        conn.info.setdefault("started", []).append(time.perf_counter())

    def _after(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        key = " ".join(statement.split())[:110]
        self.seconds[key] += time.perf_counter() - conn.info["started"].pop()
        self.calls[key] += 1

    def clear(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def top(self, n: int) -> list[str]:
        return [f"    {s:6.3f} s x{self.calls[k]:<5d} {k}" for k, s in self.seconds.most_common(n)]


@contextlib.contextmanager
def store(postgres: bool, work: Path) -> Iterator[str]:
    """The URL of a fresh store: a SQLite file, or a database on a throwaway server."""
    if not postgres:
        yield f"sqlite:///{work / 'store.db'}"
        return
    with e2e.postgres() as fresh:
        yield fresh()["EDCS_DATABASE__URL"]


def events_of(path: Path, submission_id: int, lea: str) -> list[RecordStreamEvent]:
    """The file's validated batches and its end of file, as the post worker receives them."""
    catalog, ssns = default_catalog(), hasher(Settings())
    received = FileReceived(submission_id=submission_id, collection="SENR", institution_id=lea,
                            submitted_on=dt.date.today(), sha256="-", delimiter=",")
    parsed = [decode_record_stream(o.value) for o in parse_file(
        received, io.BytesIO(path.read_bytes()), catalog.layouts["SENR"], PipelineSettings())]
    return [validate_batch(e, catalog, ssns) if isinstance(e, RecordBatch) else e
            for e in parsed]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--shared-schools", action="store_true")
    parser.add_argument("files", nargs="?", type=int, default=10)
    parser.add_argument("records", nargs="?", type=int, default=50_000)
    options = parser.parse_args()
    e2e.exit_on_signals()
    catalog = default_catalog()
    with tempfile.TemporaryDirectory(prefix="edcs-barrier-") as tmp, \
            store(options.postgres, Path(tmp)) as url:
        work = Path(tmp)
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        leas = [str(e2e.DISTRICT + i) for i in range(options.files)]
        with sessions.begin() as session:
            directory.load(session, directory.read_file(directory.DEFAULT_FILE))
            session.add_all(Institution(id=lea, name=f"Bench District {i}",
                                        contact_email=f"coordinator{i}@bench.example")
                            for i, lea in enumerate(leas))
        statements = Statements(engine)
        totals = [0.0, 0.0]
        for i, lea in enumerate(leas):
            with sessions.begin() as session:
                submission = Submission(collection="SENR", institution_id=lea,
                                        filename=f"senr-{i}.csv", submitted_by="bench",
                                        status="received")
                session.add(submission)
                session.flush()
                sid = submission.id
            path = e2e.generate(options.records, work / f"senr-{i}.csv", seed=7 + i, lea=lea,
                                school_block=0 if options.shared_schools else i)
            events = events_of(path, sid, lea)
            batches = [e for e in events if isinstance(e, RecordBatch)]
            statements.clear()
            started = time.perf_counter()
            for start in range(0, len(batches), FETCH):
                handle_events(sessions, catalog, batches[start:start + FETCH])
            staged = time.perf_counter()
            handle_events(sessions, catalog, [e for e in events if not isinstance(e, RecordBatch)])
            posted = time.perf_counter()
            with sessions() as session:
                status = session.get(Submission, sid).status  # type: ignore[union-attr]
            totals[0] += staged - started
            totals[1] += posted - staged
            print(f"file {i}: staging {staged - started:.2f} s, barrier {posted - staged:.2f} s,"
                  f" {status}", flush=True)
        print("statements of the last file (staging and barrier):\n"
              + "\n".join(statements.top(12)))
        print(f"{options.files} files x {options.records} "
              f"({'postgres' if options.postgres else 'sqlite'}): staging {totals[0]:.2f} s, "
              f"barriers {totals[1]:.2f} s")
        engine.dispose()


if __name__ == "__main__":
    main()
