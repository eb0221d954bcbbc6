"""End-to-end benchmark on the embedded stack (design.md §9): prints figures, asserts nothing.

Usage: python bench/e2e.py [N | FILESxN ...]   (default 100000; e.g. 500000 10x50000)

For each N it generates a clean SENR file with ../shared/tools/gen_senr.py, runs
../shared/tools/baseline_load.py on it, submits it to a fresh embedded stack and waits for it to
post, then prints both times, their ratio, each stage's busy rate (records per second of handler
time, from the workers' own metrics) and every process's peak memory. ``--concurrent 10x50000``
submits ten files of 50,000 records at once and times until the last one posts.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from edcs.client import Client
from edcs.stack import Stack, free_port

TOOLS = Path(__file__).resolve().parents[2] / "shared" / "tools"


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
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
        rates.append(f"{worker} {records / busy:,.0f}/s ({busy:.1f} s busy)" if busy else worker)
    return ", ".join(rates)


def generate(n: int, path: Path, seed: int = 7) -> Path:
    """A clean SENR file of N records."""
    subprocess.run([sys.executable, str(TOOLS / "gen_senr.py"), str(n), str(path),
                    "--errors", "0", "--seed", str(seed)], check=True)
    return path


def baseline(paths: list[Path]) -> float:
    """Seconds the yardstick takes for these files, one after the other."""
    started = time.perf_counter()
    for path in paths:
        subprocess.run([sys.executable, str(TOOLS / "baseline_load.py"), str(path)],
                       capture_output=True, text=True, check=True)
    return time.perf_counter() - started


def through_stack(paths: list[Path], work: Path) -> tuple[float, list[str], str, str]:
    """Submit every file at once to a fresh stack; (seconds to the last final status,
    statuses, stage rates, peak memory)."""
    stack = Stack(data_dir=work / f"stack-{time.time_ns()}", web_port=free_port())
    stack.start()
    try:
        client = Client(f"http://127.0.0.1:{stack.web_port}")
        time.sleep(6)  # let every worker finish joining its consumer group first
        started = time.perf_counter()

        answered: list[float] = []

        def one(path: Path) -> str:
            sent = time.perf_counter()
            job = client.submit(path, "SENR", "1964733", None)
            answered.append(time.perf_counter() - sent)
            return str(client.wait(int(job["id"]), timeout=3600)["status"])

        with ThreadPoolExecutor(len(paths)) as pool:
            statuses = list(pool.map(one, paths))
        elapsed = time.perf_counter() - started
        rates = f"{stage_rates(stack)}; slowest upload answered in {max(answered):.2f} s"
        peaks = ", ".join(f"{k} {peak_rss_mb(p.pid):.0f}" for k, p in stack.processes.items())
    finally:
        stack.stop()
    return elapsed, statuses, rates, peaks


def run(files: int, n: int, work: Path) -> None:
    """One measurement: FILES files of N records each, submitted together."""
    paths = [generate(n, work / f"senr-{n}-{i}.csv", seed=7 + i) for i in range(files)]
    base_s = baseline(paths)
    e2e_s, statuses, rates, peaks = through_stack(paths, work)
    total = files * n
    label = f"N={n}" if files == 1 else f"{files} files x {n}"
    print(f"{label}: baseline {base_s:.1f} s; edcs upload->{'/'.join(sorted(set(statuses)))} "
          f"{e2e_s:.1f} s; ratio {e2e_s / base_s:.2f}; {total / e2e_s:,.0f} records/s end to end")
    print(f"  stages: {rates}")
    print(f"  peak RSS MB: {peaks}")
    for path in paths:
        path.unlink()


def main() -> None:
    """Run every size given on the command line (N, or FILESxN for files at once)."""
    sizes = [a.split("x") if "x" in a else ["1", a] for a in sys.argv[1:]] or [["1", "100000"]]
    with tempfile.TemporaryDirectory(prefix="edcs-bench-") as tmp:
        for files, n in sizes:
            run(int(files), int(n), Path(tmp))


if __name__ == "__main__":
    main()
