"""End-to-end benchmark on the embedded stack (design.md §9): prints figures, asserts nothing.

Usage: python bench/e2e.py [N ...]   (default 100000)

For each N it generates a clean SENR file with ../shared/tools/gen_senr.py, runs
../shared/tools/baseline_load.py on it, submits it to a fresh embedded stack and waits for it to
post, then prints both times, their ratio, records per second and every process's peak memory.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
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


def run(n: int, work: Path) -> None:
    """One measurement of N records."""
    data = work / f"senr-{n}.csv"
    subprocess.run([sys.executable, str(TOOLS / "gen_senr.py"), str(n), str(data),
                    "--errors", "0"], check=True)
    started = time.perf_counter()
    baseline = subprocess.run([sys.executable, str(TOOLS / "baseline_load.py"), str(data)],
                              capture_output=True, text=True, check=True)
    base_s = time.perf_counter() - started
    stack = Stack(data_dir=work / f"stack-{n}", web_port=free_port())
    stack.start()
    try:
        client = Client(f"http://127.0.0.1:{stack.web_port}")
        time.sleep(6)  # let every worker finish joining its consumer group first
        started = time.perf_counter()
        job = client.submit(data, "SENR", "1964733", None)
        job = client.wait(int(job["id"]), timeout=3600)
        e2e_s = time.perf_counter() - started
        peaks = {name: peak_rss_mb(p.pid) for name, p in stack.children.items()}
    finally:
        stack.stop()
    print(f"N={n}: baseline {base_s:.1f} s ({baseline.stdout.strip()}); "
          f"edcs upload->{job['status']} {e2e_s:.1f} s; ratio {e2e_s / base_s:.2f}; "
          f"{n / e2e_s:,.0f} records/s end to end")
    print("  peak RSS MB: " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))


def main() -> None:
    """Run every N given on the command line."""
    sizes = [int(a) for a in sys.argv[1:]] or [100_000]
    with tempfile.TemporaryDirectory(prefix="edcs-bench-") as tmp:
        for n in sizes:
            run(n, Path(tmp))


if __name__ == "__main__":
    main()
