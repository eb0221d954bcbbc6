"""``edcs match``: match a CSV of students against a registry CSV, offline (design.md §8).

The registry is loaded into a :class:`~shared.matching.index.MemoryIndex` (SSNs hashed at load
with a fixed offline key, never kept in clear); the input is streamed row by row; the output
has one row per input data row. Rows with a data problem are reported on the error stream with
their row and line, and come out as ``error`` with the candidates the rest of the row finds.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from shared.issues import Issue
from shared.matching.csvio import (
    MERGED_INTO,
    CsvRow,
    CsvSource,
    UnreadableFileError,
    open_source,
    write_outcomes,
)
from shared.matching.engine import Decision, FileMatcher, Matcher, Outcome
from shared.matching.index import MemoryIndex
from shared.matching.levels import Ruleset, default_ruleset
from shared.matching.nicknames import Nicknames, default_nicknames
from shared.matching.person import REQUIRED, Reader
from shared.matching.ssid import SsidSequence

OFFLINE_SSN_KEY = b"edcs-match-offline-ssn-key-v1"
"""The HMAC key ``edcs match`` hashes SSNs with. Fixed, so runs are repeatable; it protects
nothing beyond the process (the pipeline's key comes from settings, design.md §6)."""

Report = Callable[[str], None]
"""Where located problem messages go (the command's error stream)."""


@dataclass
class Summary:
    """What one run did."""

    registry: int = 0
    merged: int = 0
    rows: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    problems: int = 0
    load_seconds: float = 0.0
    match_seconds: float = 0.0

    def describe(self) -> str:
        """One line for the person who ran the command."""
        counts = ", ".join(f"{self.decisions[d.value]} {d.value}" for d in Decision)
        merged = f" (+{self.merged} merged SSIDs)" if self.merged else ""
        return (f"edcs match: {self.rows} rows against {self.registry} registry "
                f"students{merged}: {counts}; {self.problems} data problems; "
                f"loaded in {self.load_seconds:.1f} s, matched in {self.match_seconds:.1f} s")

    @property
    def exit_code(self) -> int:
        """0 when no row had a data problem, 1 otherwise (design.md §8)."""
        return 1 if self.problems else 0


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Millions of small tuples and no reference cycles: the cyclic collector would only walk
    the index over and over (a third of the load time). Objects that live on are frozen out
    of later collections."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _say(report: Report, path: Path, row: CsvRow, message: str) -> None:
    report(f"{path}: row {row.row} (line {row.line}): {message}")


def _row_problems(report: Report, path: Path, row: CsvRow, expected: int,
                  issues: list[Issue]) -> int:
    if row.values is None:
        _say(report, path, row, f"{row.width} fields, expected {expected}; row not read")
        return 1
    messages = [i.message for i in issues]
    if row.damaged:
        messages.insert(0, "bytes that are not UTF-8 (shown as U+FFFD)")
    for message in messages:
        _say(report, path, row, message)
    return len(messages)


def load_registry(path: Path, reader: Reader, nicknames: Nicknames, report: Report,
                  summary: Summary) -> MemoryIndex:
    """Load a registry CSV into an index (optional column ``merged_into``: retired SSIDs).

    A row without a usable SSID, or with an SSID already loaded, is reported and left out;
    other unusable values are reported and left blank.

    Raises:
        UnreadableFileError: see :class:`~shared.matching.csvio.CsvSource`.
    """
    index = MemoryIndex(nicknames)
    merges: list[tuple[CsvRow, str, str]] = []
    with open_source(path) as fh:
        source = CsvSource(path, fh, optional=(MERGED_INTO,))
        for row in source.rows():
            _file_row(source, row, reader, index, merges, report, summary)
    _merge(path, index, merges, report, summary)
    summary.registry = len(index)
    return index


def _file_row(source: CsvSource, row: CsvRow, reader: Reader, index: MemoryIndex,
              merges: list[tuple[CsvRow, str, str]], report: Report, summary: Summary) -> None:
    path = source.path
    if row.values is None:
        summary.problems += _row_problems(report, path, row, source.width, [])
        return
    person, issues = reader.read(row.values, row.line)
    if issues or row.damaged:
        summary.problems += _row_problems(report, path, row, source.width, issues)
    if not person.ssid:
        if not any(i.field == "ssid" for i in issues):
            _say(report, path, row, "ssid is blank; a registry row needs one")
            summary.problems += 1
    elif row.merged_into:
        merges.append((row, person.ssid, row.merged_into))
    elif not index.add(person):
        _say(report, path, row, "ssid appears on an earlier row; row left out")
        summary.problems += 1


def _merge(path: Path, index: MemoryIndex, merges: list[tuple[CsvRow, str, str]],
           report: Report, summary: Summary) -> None:
    survivors = {retired: survivor for _, retired, survivor in merges}
    for row, retired, survivor in merges:
        final, seen = survivor, {retired}
        while final in survivors and final not in seen:  # merged into a merged SSID
            seen.add(final)
            final = survivors[final]
        if index.merge(retired, final):
            summary.merged += 1
        else:
            _say(report, path, row, "merged_into names no current SSID; row left out")
            summary.problems += 1


def match_rows(path: Path, matcher: Matcher, reader: Reader, report: Report,
               summary: Summary) -> list[Outcome]:
    """Decide every data row of an input CSV, streamed; then reconcile the file's claims.

    Raises:
        UnreadableFileError: see :class:`~shared.matching.csvio.CsvSource`.
    """
    outcomes: list[Outcome] = []
    session = FileMatcher(matcher)
    with open_source(path) as fh:
        source = CsvSource(path, fh)
        for row in source.rows():
            if row.values is None:
                summary.problems += _row_problems(report, path, row, source.width, [])
                outcomes.append(Outcome(Decision.ERROR, None, "", ()))
                continue
            person, issues = reader.read(row.values, row.line)
            problems = _row_problems(report, path, row, source.width, issues)
            summary.problems += problems
            outcomes.append(session.match(row.row, person, held=problems > 0))
    for row_number, outcome in session.reconcile().items():
        outcomes[row_number - 1] = outcome
    summary.rows = len(outcomes)
    summary.decisions.update(o.decision.value for o in outcomes)
    return outcomes


def run(registry: Path, incoming: Path, out: Path, report: Report,
        ruleset: Ruleset | None = None) -> Summary:
    """Match ``incoming`` against ``registry`` and write ``out`` (the ``edcs match`` command).

    Args:
        registry: the registry CSV (design.md §8 columns, optional ``merged_into``).
        incoming: the records to match.
        out: where the output CSV goes (written only when both files could be read).
        report: receives one located message per data problem.
        ruleset: the levels (default ``shared/catalog/matching.yaml``).

    Raises:
        UnreadableFileError: a file could not be read or the output could not be written.
    """
    rules = ruleset or default_ruleset()
    nicknames = default_nicknames()
    summary = Summary()
    started = time.perf_counter()
    with _no_gc_pauses():
        index = load_registry(registry, Reader(OFFLINE_SSN_KEY, rules.keys), nicknames, report,
                              summary)
    loaded = time.perf_counter()
    summary.load_seconds = loaded - started
    matcher = Matcher(rules, index, SsidSequence.after(index.highest_ssid), nicknames)
    with _no_gc_pauses():
        outcomes = match_rows(incoming, matcher,
                              Reader(OFFLINE_SSN_KEY, rules.keys, required=REQUIRED), report,
                              summary)
    try:
        with out.open("w", encoding="utf-8", newline="") as fh:
            write_outcomes(fh, outcomes)
    except OSError as exc:
        raise UnreadableFileError(f"{out}: {exc.strerror or exc}") from exc
    summary.match_seconds = time.perf_counter() - loaded
    return summary
