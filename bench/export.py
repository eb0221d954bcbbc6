"""`edcs export` of a large store (issue "Throughput and latency at statewide scale"): prints
figures, asserts nothing.

Usage: python bench/export.py [--postgres] [--repeat R] [--format csv|txt|xml] [N ...]
       (default 1000000, csv)

For each N it starts a fresh embedded stack (SQLite, or a throwaway PostgreSQL server with
``--postgres``), writes N posted SENR records of the demo district straight into the store's
``ods_records`` (the rows posting writes: keys from ``KeyMaker``, fields of
``../shared/tools/gen_senr.py`` written as posting's ``json.dumps`` writes them; seconds, not the
minutes the pipeline would take), then runs
``edcs export SENR --institution 1964733`` against the stack's web app, R times, and prints the
seconds, the lines written, the CPU seconds and the peak memory of the web app and of the
command (on a shared machine the CPU seconds say more than the wall-clock ones; the web app's
peak counts the store file it maps, pages the OS can drop at will, so its own memory and the
mapped file's are printed apart). The ``RATIO`` line compares the median with the target
(1,000,000 rows in 10 s, scaled to N).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import TOOLS, cpu_seconds, peak_rss_mb, postgres, status_mb

from edcs.stack import Stack, free_port
from services.post.planner import KeyMaker
from services.post.tables import ODS, ODS_COLUMNS
from shared.catalog.loader import default_catalog
from shared.db.bulk import insert_rows
from shared.db.session import make_engine, make_session_factory

TARGET_S = 10.0  # per 1,000,000 rows
CHUNK = 50_000
LEA = "1964733"


def senr_rows(n: int) -> Iterator[list[str]]:
    """N clean SENR records of the demo district, as gen_senr.py writes them."""
    sys.path.insert(0, str(TOOLS))
    from gen_senr import row  # type: ignore[import-not-found]

    rnd = random.Random(7)
    for i in range(1, n + 1):
        yield row(i, rnd, False)


def fill(url: str, n: int) -> float:
    """Write N posted SENR records into the store; returns the seconds it took."""
    started = time.perf_counter()
    keys = KeyMaker(default_catalog().layouts["SENR"])
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    batch: list[tuple[object, ...]] = []

    def flush() -> None:
        with sessions.begin() as session:
            insert_rows(session, ODS, ODS_COLUMNS, batch)
        batch.clear()

    for number, fields in enumerate(senr_rows(n), 1):
        batch.append(("SENR", keys.op_key(fields), keys.set_key(fields), keys.lea(fields),
                      keys.school(fields), json.dumps(fields, ensure_ascii=False), 1, number,
                      now))
        if len(batch) == CHUNK:
            flush()
    flush()
    engine.dispose()
    return time.perf_counter() - started


def export_once(stack: Stack, out: Path, fmt: str = "csv"
                ) -> tuple[float, int, float, float, float]:
    """Run `edcs export` once; (seconds, lines, peak RSS of the command in MB, its CPU seconds,
    the web app's own memory at its highest while the command ran, in MB).

    Both peaks are sampled while the command runs: the command's VmHWM (the ``ru_maxrss`` of a
    child counts the memory of the process that forked it, this one with its fill, before the
    exec) and the web app's RssAnon (its VmHWM also counts the store file it maps).
    """
    token = (stack.data_dir / "operator-token").read_text().strip()
    edcs = Path(sys.executable).with_name("edcs")
    web = stack.processes["web"].pid
    started = time.perf_counter()
    peak = web_own = 0.0
    with out.open("wb") as sink:
        command = subprocess.Popen([str(edcs), "export", "SENR", "--institution", LEA,
                                    "--format", fmt, "--api",
                                    f"http://127.0.0.1:{stack.web_port}", "--token", token],
                                   stdout=sink)
        while True:
            with contextlib.suppress(OSError):
                peak = max(peak, peak_rss_mb(command.pid))
                web_own = max(web_own, status_mb(web, "RssAnon"))
            pid, status, usage = os.wait4(command.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.02)
    elapsed = time.perf_counter() - started
    command.returncode = os.waitstatus_to_exitcode(status)
    if command.returncode:
        raise SystemExit(f"edcs export exited with {command.returncode}")
    with out.open("rb") as written:
        lines = sum(1 for _ in written)
    return elapsed, lines, peak, usage.ru_utime + usage.ru_stime, web_own


def run(n: int, work: Path, options: argparse.Namespace,
        env: Callable[[], dict[str, str]]) -> None:
    """Fill a fresh stack's store with N records and export them ``options.repeat`` times."""
    store = "postgres" if options.postgres else "sqlite"
    stack = Stack(data_dir=work / f"stack-{time.time_ns()}", web_port=free_port(),
                  base_env={**os.environ, **env()})
    stack.start(supervise=False)
    try:
        assert stack.settings is not None  # set by start()
        filled = fill(stack.settings.database.url, n)
        print(f"N={n} ({store}, {options.format}): filled the store in {filled:.1f} s", flush=True)
        times = []
        web = stack.processes["web"].pid
        print(f"  web app before the first export: peak RSS {peak_rss_mb(web):.0f} MB",
              flush=True)
        for attempt in range(options.repeat):
            web_cpu = cpu_seconds(web)
            seconds, lines, cli_peak, cli_cpu, web_own = export_once(
                stack, work / "export.csv", options.format)
            times.append(seconds)
            print(f"  export {attempt + 1}: {seconds:.1f} s, {lines:,} lines, "
                  f"{n / seconds:,.0f} rows/s; CPU web {cpu_seconds(web) - web_cpu:.1f} s, "
                  f"edcs export {cli_cpu:.1f} s; peak RSS web {peak_rss_mb(web):.0f} MB "
                  f"(its own memory at most {web_own:.0f} MB; "
                  f"{status_mb(web, 'RssFile'):.0f} MB of the mapped store and code now), "
                  f"edcs export {cli_peak:.0f} MB", flush=True)
        (work / "export.csv").unlink()
    finally:
        stack.stop()
    target = TARGET_S * n / 1_000_000
    median = statistics.median(times)
    print(f"RATIO export N={n} {store} {options.format}: median {median:.1f} s of "
          f"{len(times)} (target <= {target:.1f} s; ratio {median / target:.2f}); "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)


def main() -> None:
    """Run every size given on the command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000_000])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--format", choices=["csv", "txt", "xml"], default="csv")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edcs-bench-") as tmp, contextlib.ExitStack() as es:
        env: Callable[[], dict[str, str]] = dict
        if options.postgres:
            env = es.enter_context(postgres())
        for n in options.sizes:
            run(n, Path(tmp), options, env)


if __name__ == "__main__":
    main()
