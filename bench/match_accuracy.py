"""How often matching is right, for edcs's rules and for Appendix E taken literally.

Usage: python bench/match_accuracy.py [--registry N] [--incoming M] [--seed S ...] [--by-scenario]

Generates a registry and incoming records with known truth (bench/match_data.py: typos, OCR
slips, swapped names, nicknames, hyphenated and changed surnames, transposed dates, missing and
mistyped SSIDs, moved students, twins and siblings, new students), writes them as CSV and runs
the ``edcs match`` code (shared/matching/offline.py) on them once with
shared/catalog/matching.yaml and once with shared/catalog/matching-appendix-e.yaml. Prints:

- false hard matches: hard decisions whose SSID is not the student's (the worst outcome);
- hard recall: existing students hard-matched to their own SSID;
- suggestion coverage: of the existing students not hard-matched, those whose SSID is among
  the candidates of their suggested (or error) row;
- hard+suggested coverage: existing students whose SSID is the hard match or a candidate;
- duplicate SSIDs: existing students given a new SSID, as % of incoming existing students.
Goals for edcs: 0 false hard matches, coverage >= 99.5 %, duplicates <= 0.3 %.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from match_data import Generator, Incoming, incoming, write_csv

from shared.matching.levels import Ruleset, appendix_e_ruleset, default_ruleset
from shared.matching.offline import run


def outcomes(ruleset: Ruleset, registry: Path, records: Path, out: Path) -> list[dict[str, str]]:
    """Run the matcher as ``edcs match`` does and read its output rows."""
    problems: list[str] = []
    run(registry, records, out, problems.append, ruleset)
    with out.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def score(rows: list[dict[str, str]], truth: list[Incoming]) -> dict[str, Counter[str]]:
    """Counts per scenario (and "all"): existing, hard_ok, false_hard, covered, new (dup)..."""
    by: dict[str, Counter[str]] = defaultdict(Counter)
    for row, rec in zip(rows, truth, strict=True):
        decision, ssid = row["decision"], row["ssid"]
        candidates = row["candidates"].split(";") if row["candidates"] else []
        for key in ("all", rec.scenario):
            c = by[key]
            c["records"] += 1
            c[decision] += 1
            if decision == "hard" and ssid != rec.truth:
                c["false_hard"] += 1
            if not rec.truth:
                continue
            c["existing"] += 1
            if decision == "hard" and ssid == rec.truth:
                c["hard_ok"] += 1
            elif decision in ("suggested", "error") and rec.truth in candidates:
                c["suggested_ok" if decision == "suggested" else "error_ok"] += 1
            if decision == "new":
                c["duplicate"] += 1
    return by


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:6.2f} %" if d else "     - "


def report(name: str, by: dict[str, Counter[str]], seconds: float, scenarios: bool) -> None:
    a = by["all"]
    existing, new = a["existing"], a["records"] - a["existing"]
    covered = a["hard_ok"] + a["suggested_ok"] + a["error_ok"]
    not_hard = existing - a["hard_ok"]
    print(f"  {name}  ({seconds:.1f} s)")
    print(f"    false hard matches        {a['false_hard']:>7}")
    print(f"    hard recall               {pct(a['hard_ok'], existing)}")
    print(f"    suggestion coverage       {pct(a['suggested_ok'] + a['error_ok'], not_hard)}"
          f"   (of {not_hard} existing students not hard-matched)")
    print(f"    hard+suggested coverage   {pct(covered, existing)}   (error rows with the "
          f"student among candidates: {a['error_ok']})")
    print(f"    duplicate SSIDs created   {pct(a['duplicate'], existing)}   ({a['duplicate']})")
    newc = by_new(by)
    print(f"    new students: new {pct(newc['new'], new)}, suggested {pct(newc['suggested'], new)}"
          f", hard {newc['hard']}; error rows (all) {a['error']}")
    if scenarios:
        print("    scenario            n   hard_ok  false_hard  covered  duplicate")
        for key in sorted(k for k in by if k != "all"):
            c = by[key]
            cov = c["hard_ok"] + c["suggested_ok"] + c["error_ok"]
            print(f"    {key:<16} {c['records']:>5} {c['hard_ok']:>8} {c['false_hard']:>10} "
                  f"{pct(cov, c['existing']) if c['existing'] else '   new':>9} "
                  f"{c['duplicate'] if c['existing'] else c['new']:>9}")


def by_new(by: dict[str, Counter[str]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for key in ("fresh", "new_twin", "new_sibling"):
        total.update(by.get(key, Counter()))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=int, default=200_000)
    parser.add_argument("--incoming", type=int, default=20_000)
    parser.add_argument("--seed", type=int, action="append")
    parser.add_argument("--by-scenario", action="store_true")
    args = parser.parse_args()
    for seed in args.seed or [1, 2]:
        gen = Generator(seed)
        students = gen.registry(args.registry)
        records = incoming(gen, students, args.incoming)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            write_csv(work / "registry.csv", (s.values for s in students))
            write_csv(work / "incoming.csv", (r.values for r in records))
            print(f"seed {seed}: {args.registry:,} registry students, {args.incoming:,} "
                  f"incoming ({sum(1 for r in records if r.truth):,} existing)")
            for name, rules in (("edcs", default_ruleset()),
                                ("Appendix E literal", appendix_e_ruleset())):
                started = time.perf_counter()
                rows = outcomes(rules, work / "registry.csv", work / "incoming.csv",
                                work / "out.csv")
                report(name, score(rows, records), time.perf_counter() - started,
                       args.by_scenario)


if __name__ == "__main__":
    main()
