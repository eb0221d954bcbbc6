"""Runs one benchmark on another revision and on this tree in turn (A B A B ...), so the two
meet the same machine: on a shared 2-core VM one tree's runs drift 5-20 % within an hour, and a
set of runs of one tree followed by a set of the other compares the hours, not the trees.

Usage: python bench/ab.py REV [--runs N] [--grep REGEX] SCRIPT [ARGS ...]
       e.g. python bench/ab.py HEAD~1 barrier.py --postgres 1 500000
            python bench/ab.py main --runs 2 e2e.py --postgres 500000

REV gets a detached git worktree next to this project (``../edcs-ab-<commit>``, so both trees
find ``../shared/tools``), removed at the end. Each run is ``python bench/SCRIPT ARGS`` of that
tree, with the tree first on PYTHONPATH (the stack's workers inherit it), using this project's
virtualenv. The lines of each run that match REGEX (default: the ratio and barrier lines) are
printed under the run's label, and at the end the first ``ratio N`` or ``barriers N s`` figure
of every run, side by side.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURE = re.compile(r"ratio (\d+\.\d+)|barriers (\d+\.\d+) s")


def worktree(rev: str) -> Path:
    """A detached worktree of REV beside this project (created if missing)."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=10", rev],
                            check=True, capture_output=True, text=True).stdout.strip()
    path = ROOT.parent / f"edcs-ab-{commit}"
    if not path.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path),
                        commit], check=True, capture_output=True)
    return path


def run(tree: Path, script: str, args: list[str], grep: re.Pattern[str]) -> float | None:
    """One run of the script in ``tree``; prints its matching lines, returns its first
    figure."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tree), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, str(tree / "bench" / script), *args], env=env,
                          cwd=tree, capture_output=True, text=True)
    figure = None
    for line in done.stdout.splitlines():
        if grep.search(line):
            print(f"    {line}", flush=True)
        found = FIGURE.search(line)
        if figure is None and found:
            figure = float(found.group(1) or found.group(2))
    if done.returncode != 0:
        print(f"    (exit {done.returncode}) {done.stderr.strip().splitlines()[-1:]}")
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--grep", default=r"RATIO|ratio|barriers|^file \d+:")
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    other = worktree(options.rev)
    grep = re.compile(options.grep)
    sides = {f"{options.rev} ({other.name})": other, "this tree": ROOT}
    figures: dict[str, list[float]] = {label: [] for label in sides}
    try:
        for i in range(options.runs):
            for label, tree in sides.items():
                print(f"run {i + 1}, {label}:", flush=True)
                figure = run(tree, options.script, options.args, grep)
                if figure is not None:
                    figures[label].append(figure)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)],
                       check=False, capture_output=True)
    for label, found in figures.items():
        median = f"median {statistics.median(found):.2f}" if found else "no figure"
        print(f"{label}: {' / '.join(f'{f:.2f}' for f in found)} ({median})")


if __name__ == "__main__":
    main()
