"""End-to-end benchmark on the embedded stack (design.md §9, issue 14): prints figures, asserts
nothing.

Usage: python bench/e2e.py [--postgres] [--post-workers K] [--validate-workers V] [--repeat R]
                           [--schools S] [--by-school-above M] [--districts [--shared-schools]]
                           [N | FILESxN ...]
       (default 100000; e.g. 500000 200000 10x50000)

For each N it generates a clean SENR file with ../shared/tools/gen_senr.py, runs
../shared/tools/baseline_load.py on it, submits it to a fresh embedded stack and waits for it to
post, then prints both times, their ratio, each stage's busy rate (records per second of handler
time, from the workers' own metrics), every process's CPU seconds and peak memory, and the
machine's busy core-seconds: the work divided by the cores is the least time any number of
workers could take on this machine (a second worker cannot beat that). ``10x50000``
submits ten files of 50,000 records at once and times until the last one posts. ``--repeat 3``
runs each size three times and reports the median ratio. ``--postgres`` runs the stack on a
throwaway PostgreSQL server (tests/fixtures/postgres.py) instead of SQLite. Each size ends with
a ``RATIO`` line naming its target, so a rerun shows at a glance what holds.
``--schools 10000`` spreads the records over that many schools (gen_senr.py uses 400), so
``--schools 400`` and ``--schools 10000`` compare the cost per record of many schools;
``--by-school-above M`` posts files of more than M records school by school (the setting
``EDCS_PIPELINE__POST_BY_SCHOOL_ABOVE``), so a small file measures that path too.
``--districts`` makes the files of ``FILESxN`` the files of as many districts (file i of LEA
DISTRICT + i, added to the shipped institutions in a file the stack loads, over its own 400
schools: a school is reported by the LEA it belongs to, CFS 1.05; ``--shared-schools`` puts
every district's records at the same 400 schools, a worst case for the store's indexes), so
``--postgres --districts --post-workers 2 10x50000`` measures what a second post worker gives
when ten districts submit at once (files of one district post one after the other).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from edcs.client import Client
from edcs.stack import Stack, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root: tests.fixtures
from tests.fixtures.stack import students_of_seed

TOOLS = Path(__file__).resolve().parents[2] / "shared" / "tools"
TARGETS = {"sqlite": {"one_large": 2.0, "one": 2.5, "many": 2.5},
           "postgres": {"one_large": 2.5, "one": 2.5, "many": 2.5}}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) core-seconds of the whole machine so far, from /proc/stat."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), sum(ticks) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL processes alive now (the server and its backends)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if stat.read_text().split(" ", 2)[1] == "(postgres)":
                total += cpu_seconds(int(stat.parent.name))
    return total


@contextlib.contextmanager
def postgres() -> Iterator[Callable[[], dict[str, str]]]:
    """A throwaway PostgreSQL server, as the tests start one; yields a maker of the settings of
    a fresh database on it (one per stack, so every run starts from an empty store). The
    previous run's database is dropped and the server checkpointed first, so a run does not
    share the machine with the write-back of the one before (as with SQLite's files)."""
    import psycopg
    from sqlalchemy.engine import URL

    from tests.fixtures.postgres import (
        SUPERUSER,
        LocalServer,
        conninfo,
        create_database,
        drop_database,
        find_binaries,
    )

    binaries = find_binaries()
    if binaries is None:
        raise SystemExit("PostgreSQL server binaries not found")
    server = LocalServer(binaries)
    try:
        server.init()
        admin = URL.create("postgresql+psycopg", username=SUPERUSER, host="127.0.0.1",
                           port=server.start(), database="postgres")
        made = iter(range(1_000))
        previous: list[str] = []

        def fresh() -> dict[str, str]:
            name = f"edcs_bench_{next(made)}"
            for old in previous:
                drop_database(admin, old)
            with psycopg.connect(conninfo(admin), autocommit=True) as connection:
                connection.execute("CHECKPOINT")
            previous[:] = [name]
            create_database(admin, name)
            return {"EDCS_DATABASE__URL": admin.set(database=name).render_as_string(False)}

        yield fresh
    finally:
        server.stop()


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process (VmHWM), in MB."""
    return status_mb(pid, "VmHWM")


def status_mb(pid: int, field: str) -> float:
    """One memory figure of a process's /proc status (e.g. ``RssAnon``: its own memory now,
    without mapped files), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def metric(url: str, name: str, worker: str) -> float:
    """One sample of a worker's Prometheus metrics."""
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        text = response.read().decode()
    found = re.search(rf'^{name}{{stage="{worker}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def stage_rates(stack: Stack) -> str:
    """Records per second of handler time, per stage."""
    rates = []
    for worker in ("ingest", "validate", "post"):
        url = stack.endpoints[f"{worker} metrics"]
        records = metric(url, "edcs_stage_records_in_total", worker)
        busy = metric(url, "edcs_stage_handle_duration_seconds_sum", worker)
        calls = metric(url, "edcs_stage_handle_duration_seconds_count", worker)
        rates.append(f"{worker} {records / busy:,.0f}/s ({busy:.1f} s busy in {calls:.0f} "
                     "fetches)" if busy else worker)
    posting = 0.0
    for _ in range(100):  # observed after the job is final, once its staged rows are cleared
        with urllib.request.urlopen(stack.endpoints["post metrics"], timeout=5) as response:  # noqa: S310
            text = response.read().decode()
        posting = sum(float(v) for v in re.findall(
            r"^edcs_post_transaction_duration_seconds_sum\{[^}]*\} (\S+)$", text, re.M))
        if posting:
            break
        time.sleep(0.1)
    return ", ".join(rates) + f"; posting after the barrier opened {posting:.1f} s"


SCHOOL = 4  # school of attendance, the fifth field of SENR
LEAS = (3, 30)  # Reporting LEA and District of Geographic Residence
DISTRICT = 1970000  # --districts: file i is of LEA DISTRICT + i
SHIPPED = Path(__file__).resolve().parents[1] / "shared" / "reference" / "institutions.csv"


def generate(n: int, path: Path, seed: int = 7, schools: int | None = None,
             lea: str | None = None, school_block: int = 0) -> Path:
    """A clean SENR file of N records (over ``schools`` schools: record i at school
    6000000 + i mod S; else gen_senr.py's 400, drawn at random), of ``lea`` if given (else
    gen_senr.py's 1964733). ``school_block`` B > 0 moves every school code up by 10,000 x B:
    the schools of another district (``--districts``)."""
    subprocess.run([sys.executable, str(TOOLS / "gen_senr.py"), str(n), str(path),
                    "--errors", "0", "--seed", str(seed)], check=True)
    students_of_seed(path, seed)  # files of several seeds are of distinct students
    if schools is not None or lea is not None or school_block:
        spread = path.with_suffix(".spread")
        with path.open(newline="") as src, spread.open("w", newline="") as out:
            for i, line in enumerate(src):
                fields = line.split(",")
                if schools is not None:
                    fields[SCHOOL] = f"{6000000 + i % schools:07d}"
                if school_block:
                    fields[SCHOOL] = f"{int(fields[SCHOOL]) + 10_000 * school_block:07d}"
                if lea is not None:
                    for at in LEAS:
                        fields[at] = lea
                out.write(",".join(fields))
        spread.replace(path)
    return path


def with_districts(count: int, work: Path) -> Path:
    """The shipped institutions and COUNT more districts (DISTRICT, DISTRICT + 1, ...)."""
    path = work / "institutions.csv"
    rows = [f"{DISTRICT + i},Bench District {i},district,E19,coordinator{i}@bench.example"
            for i in range(count)]
    path.write_text(SHIPPED.read_text(encoding="utf-8").rstrip("\n") + "\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def baseline(paths: list[Path]) -> float:
    """Seconds the yardstick takes for these files, one after the other."""
    started = time.perf_counter()
    for path in paths:
        subprocess.run([sys.executable, str(TOOLS / "baseline_load.py"), str(path)],
                       capture_output=True, text=True, check=True)
    return time.perf_counter() - started


def through_stack(paths: list[Path], work: Path, env: dict[str, str],
                  post_workers: int, validate_workers: int = 1,
                  leas: list[str] | None = None) -> tuple[float, list[str], str, str]:
    """Submit every file at once to a fresh stack; (seconds to the last final status,
    statuses, stage rates, CPU seconds and peak memory per process)."""
    stack = Stack(data_dir=work / f"stack-{time.time_ns()}", web_port=free_port(),
                  scale={"post": post_workers, "validate": validate_workers},
                  base_env={**os.environ, **env})
    stack.start()
    try:
        token = (stack.data_dir / "operator-token").read_text().strip()
        client = Client(f"http://127.0.0.1:{stack.web_port}", token)
        time.sleep(6)  # let every worker finish joining its consumer group first
        cpu = {k: cpu_seconds(p.pid) for k, p in stack.processes.items()}
        machine, database = machine_busy(), postgres_cpu()
        started = time.perf_counter()

        answered: list[float] = []
        seen: dict[str, list[float]] = {}  # status -> when each job was first seen in it

        def one(path: Path, lea: str) -> str:
            sent = time.perf_counter()
            job = client.submit(path, "SENR", lea, None)
            answered.append(time.perf_counter() - sent)
            statuses: set[str] = set()

            def saw(state: dict[str, object]) -> None:
                if (status := str(state["status"])) not in statuses:
                    statuses.add(status)
                    seen.setdefault(status, []).append(time.perf_counter() - started)

            return str(client.poll(int(job["id"]), 3600, saw)["status"])

        with ThreadPoolExecutor(len(paths)) as pool:
            statuses = list(pool.map(one, paths, leas or ["1964733"] * len(paths)))
        elapsed = time.perf_counter() - started
        rates = (f"{stage_rates(stack)}; slowest upload answered in {max(answered):.2f} s"
                 "\n  first seen (s after the uploads began, every 0.5 s): " + ", ".join(
                     f"{status} {min(at):.1f}" + (f"-{max(at):.1f}" if len(at) > 1 else "")
                     for status, at in sorted(seen.items(), key=lambda item: min(item[1]))))
        peaks = ", ".join(f"{k} {cpu_seconds(p.pid) - cpu.get(k, 0):.1f} s/"
                          f"{peak_rss_mb(p.pid):.0f} MB" for k, p in stack.processes.items())
        busy, total = (b - a for a, b in zip(machine, machine_busy(), strict=True))
        if database or postgres_cpu():
            peaks += f", PostgreSQL {postgres_cpu() - database:.1f} s"
        cores = os.cpu_count() or 1
        # The same work with every core busy: what any number of workers could reach here.
        peaks += (f"; the machine {busy:.0f} of {total:.0f} core-seconds busy "
                  f"({100 * busy / total:.0f} %, {cores} cores): with every core busy at "
                  f"least {busy / cores:.1f} s, at most {elapsed * cores / busy:.2f}x faster "
                  "than this run")
    finally:
        stack.stop()
        # The run's store, broker log and files go now, not at the end: the next run would
        # otherwise share the disk with their write-back.
        shutil.rmtree(stack.data_dir, ignore_errors=True)
    return elapsed, statuses, rates, peaks


def run(files: int, n: int, work: Path, options: argparse.Namespace,
        env: Callable[[], dict[str, str]]) -> None:
    """FILES files of N records each, submitted together, ``options.repeat`` times."""
    leas = [str(DISTRICT + i) for i in range(files)] if options.districts else None
    own = leas is not None and not options.shared_schools
    paths = [generate(n, work / f"senr-{n}-{i}.csv", seed=7 + i, schools=options.schools,
                      lea=leas[i] if leas else None, school_block=i if own else 0)
             for i in range(files)]
    label = f"N={n}" if files == 1 else f"{files} files x {n}"
    if options.schools is not None:
        label += f" over {options.schools} schools"
    if leas:
        label += f" of {files} districts" + (" over shared schools" if not own else "")
    store = "postgres" if options.postgres else "sqlite"
    ratios = []
    for _ in range(options.repeat):
        settings = env()  # (PostgreSQL: the last run's database dropped, the server checkpointed)
        os.sync()  # every run starts with the disk's earlier writes done
        base_s = baseline(paths)
        if options.by_school_above is not None:
            settings["EDCS_PIPELINE__POST_BY_SCHOOL_ABOVE"] = str(options.by_school_above)
        if leas:
            settings["EDCS_INSTITUTIONS_FILE"] = str(with_districts(files, work))
        e2e_s, statuses, rates, peaks = through_stack(paths, work, settings,
                                                      options.post_workers,
                                                      options.validate_workers, leas)
        total = files * n
        ratios.append(e2e_s / base_s)
        print(f"{label} ({store}, {options.validate_workers} validate, "
              f"{options.post_workers} post): baseline {base_s:.1f} s; edcs "
              f"upload->{'/'.join(sorted(set(statuses)))} {e2e_s:.1f} s; ratio "
              f"{e2e_s / base_s:.2f}; {total / e2e_s:,.0f} records/s end to end", flush=True)
        print(f"  stages: {rates}")
        print(f"  CPU s / peak RSS per process: {peaks}", flush=True)
    kind = "many" if files > 1 else ("one_large" if n >= 500_000 else "one")
    print(f"RATIO {label} {store}: median {statistics.median(ratios):.2f} of {len(ratios)} "
          f"(target <= {TARGETS[store][kind]}); load average {os.getloadavg()[0]:.2f}",
          flush=True)
    for path in paths:
        path.unlink()


def exit_on_signals() -> None:
    """Make SIGTERM and SIGHUP (``timeout``, a closed terminal) leave through every ``finally``,
    as Ctrl-C does: the stack's children and the PostgreSQL server stop instead of staying
    behind with their memory, ports and files."""
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda signum, _frame: sys.exit(128 + signum))


def main() -> None:
    """Run every size given on the command line (N, or FILESxN for files at once)."""
    exit_on_signals()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", default=["100000"])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--post-workers", type=int, default=1)
    parser.add_argument("--validate-workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--schools", type=int, default=None)
    parser.add_argument("--by-school-above", type=int, default=None)
    parser.add_argument("--districts", action="store_true")
    parser.add_argument("--shared-schools", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edcs-bench-") as tmp, contextlib.ExitStack() as es:
        env: Callable[[], dict[str, str]] = dict
        if options.postgres:
            env = es.enter_context(postgres())
        for size in options.sizes:
            files, n = size.split("x") if "x" in size else ("1", size)
            run(int(files), int(n), Path(tmp), options, env)


if __name__ == "__main__":
    main()
