"""How fast ``edcs match`` is: 100,000 incoming records against a 1,000,000-student registry.

Usage: python bench/match_speed.py [--registry N] [--incoming M] [--seed S] [--dir DIR]

Generates the registry and the incoming records (bench/match_data.py: existing students with
the accuracy bench's slips, and new students), writes them as CSV (into DIR, reused when the
files are already there), then runs the real command, ``edcs match``, in a child process and
prints its registry load time, match time, the total, records per second, the child's CPU
time and peak RSS. Target (on the 2-core, 24 GiB machine): <= 30 s total and <= 2.5 GB.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from match_data import Generator, incoming, write_csv

EDCS = [sys.executable, "-c", "from edcs.cli import main; main()"]


def generate(work: Path, registry: int, records: int, seed: int) -> tuple[Path, Path]:
    """Write (or reuse) the registry and incoming CSVs."""
    reg, inc = work / f"registry-{registry}-{seed}.csv", work / f"incoming-{records}-{seed}.csv"
    if not (reg.exists() and inc.exists()):
        started = time.perf_counter()
        gen = Generator(seed)
        students = gen.registry(registry)
        write_csv(reg, (s.values for s in students))
        write_csv(inc, (r.values for r in incoming(gen, students, records)))
        print(f"generated {registry:,} + {records:,} records in "
              f"{time.perf_counter() - started:.1f} s")
    return reg, inc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=int, default=1_000_000)
    parser.add_argument("--incoming", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="match-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    reg, inc = generate(work, args.registry, args.incoming, args.seed)
    started = time.perf_counter()
    done = subprocess.run([*EDCS, "match", "--registry", str(reg), "--input", str(inc),
                           "--out", str(work / "out.csv")],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    print(done.stdout.strip())
    if done.returncode == 2:
        sys.exit(done.stderr)
    times = re.search(r"loaded in ([\d.]+) s, matched in ([\d.]+) s", done.stdout)
    load, match = (float(times[1]), float(times[2])) if times else (float("nan"),) * 2
    print(f"registry load   {load:6.1f} s   ({args.registry / load:,.0f} students/s)")
    print(f"match           {match:6.1f} s   ({args.incoming / match:,.0f} records/s)")
    print(f"total           {load + match:6.1f} s   (process wall clock {wall:.1f} s, "
          f"{args.incoming / wall:,.0f} records/s)")
    print(f"CPU time        {cpu:6.1f} s   (of the edcs match process; one core)")
    print(f"peak RSS        {peak_mb:6.0f} MB")


if __name__ == "__main__":
    main()
