"""``edcs validate`` against the single-process baseline on one SENR file (issue 12's target).

Usage: python bench/validate.py [N] [--file PATH] [--repeat R] [--before TREE]
(default 500000 records)

Writes an N-record SENR file with ``edcs sample SENR N`` (or uses ``--file``), then runs
``../shared/tools/baseline_load.py FILE`` and ``edcs validate --collection SENR FILE`` R times
each, as separate processes, and keeps the best run of each. Both are measured in CPU seconds
(user + system, from the child's resource usage), which other work on a shared machine does not
inflate; wall seconds are printed too. The RATIO line is baseline CPU / edcs CPU: 1.0 or more
means ``edcs validate`` is at least as fast as the baseline (which also inserts into SQLite).
``--before TREE`` also runs the ``edcs validate`` of another revision's source tree (e.g.
``git archive HEAD~1 | tar -x -C TREE``), on the same file, to compare the engine before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "shared" / "tools"
EDCS = Path(sys.executable).with_name("edcs")


def timed(command: list[str], tree: Path | None = None) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run of the command, its output discarded; ``tree``:
    run it in that source tree (its packages first on the path)."""
    env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False, env=env, cwd=tree)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # edcs validate exits 1 when the file has issues
        sys.exit(f"{command[0]} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def best(command: list[str], repeat: int, tree: Path | None = None) -> tuple[float, float]:
    """The run with the least CPU time."""
    return min(timed(command, tree) for _ in range(repeat))


def main() -> None:
    """Measure both, print records/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=500_000)
    parser.add_argument("--file", type=Path, help="an existing SENR CSV file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another revision's source tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        path = args.file
        if path is None:
            path = Path(work) / "senr.csv"
            subprocess.run([str(EDCS), "sample", "SENR", str(args.n), "--out", str(path)],
                           check=True)
        path = path.resolve()
        records = sum(1 for _ in path.open("rb"))
        baseline = best([sys.executable, str(TOOLS / "baseline_load.py"), str(path)],
                        args.repeat)
        validate = ["validate", "--collection", "SENR", "--format", "json", str(path)]
        edcs = best([str(EDCS), *validate], args.repeat)
        runs = [("baseline_load.py", baseline), ("edcs validate", edcs)]
        if args.before is not None:
            main_of = "from edcs.cli import main; main()"  # -c: the tree is the current dir
            runs.append(("  before", best([sys.executable, "-c", main_of, *validate],
                                          args.repeat, args.before.resolve())))
    for name, (cpu, wall) in runs:
        print(f"{name:17} {records} records: {cpu:6.2f} s CPU ({records / cpu:9,.0f} "
              f"records/s), {wall:6.2f} s wall, best of {args.repeat}")
    print(f"RATIO {baseline[0] / edcs[0]:.2f} (baseline CPU / edcs validate CPU; >= 1.00: "
          f"edcs validate is at least as fast) on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
