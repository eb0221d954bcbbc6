"""The CSV files of ``edcs match`` (design.md §8): header, streamed rows, the output file.

Input and registry files have a header row naming at least the ten matching columns (any
order, case and surrounding spaces ignored; a UTF-8 BOM is accepted; other columns are ignored,
except a registry's ``merged_into``). Rows are streamed one at a time. A row with the wrong
number of fields is reported, never read from shifted columns; blank lines are not data rows.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from shared.matching.engine import Outcome
from shared.matching.person import FIELDS

OUTPUT_COLUMNS = ("row", "level", "decision", "ssid", "candidates")
MERGED_INTO = "merged_into"


_UNDECODABLE = "edcs-match-undecodable"
_undecodable = [0]  # bytes replaced so far, by any source: rows need scanning only after one


def _replace_and_count(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _undecodable[0] += 1
    return "\ufffd", exc.end


codecs.register_error(_UNDECODABLE, _replace_and_count)


class UnreadableFileError(Exception):
    """A file that cannot be read as an ``edcs match`` CSV at all (exit code 2)."""


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row of a file.

    Attributes:
        row: 1-based data row (the header and blank lines not counted), as in the output.
        line: the physical line the row ends on.
        values: the ten matching fields in :data:`~shared.matching.person.FIELDS` order, or
            None when the row has the wrong number of fields.
        merged_into: a registry row's survivor SSID (``""`` when current).
        width: how many fields the row has.
        damaged: the row had bytes that are not UTF-8.
    """

    row: int
    line: int
    values: Sequence[str] | None
    merged_into: str
    width: int
    damaged: bool


class CsvSource:
    """An open ``edcs match`` CSV file whose header has been read."""

    def __init__(self, path: Path, fh: TextIO, optional: Sequence[str] = ()) -> None:
        """Read and check the header.

        Raises:
            UnreadableFileError: no header, a missing matching column, or a column named twice.
        """
        self.path = path
        self._replaced = _undecodable[0]  # before the first byte is decoded
        self._reader = csv.reader(fh)
        header = self._next()
        while header is not None and not any(v.strip() for v in header):
            header = self._next()
        if header is None:
            raise UnreadableFileError(f"{path}: empty file, expected a header row naming "
                                 + ", ".join(FIELDS))
        names = [h.strip().casefold() for h in header]
        twice = sorted({n for n in names if n and names.count(n) > 1})
        missing = [f for f in FIELDS if f not in names]
        if twice or missing:
            what = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + (
                [f"column(s) named twice: {', '.join(twice)}"] if twice else [])
            raise UnreadableFileError(f"{path}: header row: {'; '.join(what)} (expected "
                                 f"{', '.join(FIELDS)})")
        self.width = len(names)
        self._positions = [names.index(f) for f in FIELDS]
        self._merged = names.index(MERGED_INTO) if MERGED_INTO in optional and (
            MERGED_INTO in names) else None

    def _next(self) -> list[str] | None:
        try:
            return next(self._reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            raise UnreadableFileError(f"{self.path}: line {self._reader.line_num}: {exc}") from exc

    def rows(self) -> Iterator[CsvRow]:
        """The data rows, in order."""
        row = 0
        width, positions, merged = self.width, self._positions, self._merged
        in_order = positions == list(range(len(FIELDS))) and width == len(FIELDS)
        reader, replaced = self._reader, self._replaced
        while (fields := self._next()) is not None:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            row += 1
            # Text is decoded ahead of the rows, so a row with a replaced byte always comes
            # after the count went up: clean files are never scanned.
            damaged = _undecodable[0] != replaced and "\ufffd" in "".join(fields)
            if len(fields) != width:
                yield CsvRow(row, reader.line_num, None, "", len(fields), damaged)
                continue
            values = fields if in_order else [fields[i] for i in positions]
            yield CsvRow(row, reader.line_num, values,
                         fields[merged].strip() if merged is not None else "", width, damaged)


def open_source(path: Path) -> TextIO:
    """Open a CSV for :class:`CsvSource` (bytes that are not UTF-8 become U+FFFD, reported).

    Raises:
        UnreadableFileError: the file is missing or cannot be opened.
    """
    try:
        return path.open(encoding="utf-8-sig", errors=_UNDECODABLE, newline="")
    except OSError as exc:
        raise UnreadableFileError(f"{path}: {exc.strerror or exc}") from exc


def write_outcomes(fh: TextIO, outcomes: Sequence[Outcome]) -> None:
    """Write the output file: one row per input data row, in input order (design.md §8)."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    writer.writerows(
        (row, "" if o.level is None else o.level, o.decision.value, o.ssid, ";".join(o.candidates))
        for row, o in enumerate(outcomes, start=1))
