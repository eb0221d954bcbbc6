"""Collection windows: when each collection may be submitted (CFS §1.5.2 Table 1-2: Fall 1,
Fall 2, End of Year 1-4; Oregon's collections have their own dates).

Reference data, like the institutions: a CSV file with the columns ``collection,
academic_year, window, opens, closes`` (dates ``YYYY-MM-DD``, both days included;
``academic_year`` ``YYYY-YYYY``). ``shared/reference/windows.csv`` is a fictional set for the
embedded default; ``Settings.windows_file`` (``EDCS_WINDOWS_FILE``) names another. A state
operator may also load a windows file into the running stack (``edcs reference load``,
``shared.db.windows``): a loaded window replaces the file's window of the same collection, year
and name (``overlay``). A file with any problem is refused whole, with every problem listed. The
windows are shown; uploads outside a window are not refused (the state operator opens and closes
windows by editing the file or loading new dates).

A collection's academic year on a day (``collection_year``) is its window's: a file whose year
field is the collection's (SSCE's ``academic_year``, ``Layout.window_year_field``) must carry it,
the same in ``edcs validate`` and in the pipeline (docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from shared.catalog.models import Layout
from shared.reference_file import ReferenceFileError, read_rows

DEFAULT_FILE = Path(__file__).with_name("reference") / "windows.csv"
COLUMNS = ("collection", "academic_year", "window", "opens", "closes")
_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
NAME_LENGTH = 100  # a window's name, as the store keeps it (shared.db.windows)


@dataclass(frozen=True)
class Window:
    """One submission window of a collection."""

    collection: str
    academic_year: str
    name: str
    opens: dt.date
    closes: dt.date  # the last day it is open

    def state(self, today: dt.date) -> str:
        """``open``, ``closed`` or ``not yet open`` on the day."""
        if today < self.opens:
            return "not yet open"
        return "open" if today <= self.closes else "closed"


def check(text: str, known: Iterable[str] | None = None
          ) -> tuple[list[Window], list[tuple[int, str]]]:
    """The windows of a file's text and every problem of its rows, each with its line (the
    header is line 1); ``known``: the collection codes that exist. A file that is not CSV or
    lacks a column raises ReferenceFileError."""
    rows = read_rows(text, COLUMNS)
    codes = set(known) if known is not None else None
    found: list[Window] = []
    problems: list[tuple[int, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for line, values in rows:
        wrong = _problems(values, codes)
        key = (values["collection"], values["academic_year"], values["window"])
        if key in seen:
            wrong.append("the same window of the collection twice")
        seen.add(key)
        if wrong:
            problems.extend((line, w) for w in wrong)
            continue
        found.append(Window(values["collection"], values["academic_year"], values["window"],
                            dt.date.fromisoformat(values["opens"]),
                            dt.date.fromisoformat(values["closes"])))
    return found, problems


def parse(text: str, known: Iterable[str] | None = None) -> list[Window]:
    """The windows of a file's text; ``known``: the collection codes that exist. Raises
    ReferenceFileError listing every problem."""
    found, problems = check(text, known)
    if problems:
        raise ReferenceFileError("; ".join(f"line {line}: {w}" for line, w in problems))
    return found


def overlay(base: Iterable[Window], loaded: Iterable[Window]) -> list[Window]:
    """The windows of ``base`` (the configured file) with ``loaded`` ones over them: a loaded
    window replaces the base's window of the same collection, academic year and name."""
    found = {(w.collection, w.academic_year, w.name): w for w in base}
    found.update({(w.collection, w.academic_year, w.name): w for w in loaded})
    return list(found.values())


def _problems(values: dict[str, str], codes: set[str] | None) -> list[str]:
    wrong = []
    if codes is not None and values["collection"] not in codes:
        wrong.append("collection is not a collection of the catalog")
    year = _YEAR.match(values["academic_year"])
    if year is None or int(year[2]) != int(year[1]) + 1:
        wrong.append("academic_year is not of the form YYYY-YYYY (consecutive years)")
    if not values["window"]:
        wrong.append("window (its name) is blank")
    elif len(values["window"]) > NAME_LENGTH:
        wrong.append(f"window (its name) is longer than {NAME_LENGTH} characters")
    dates = []
    for column in ("opens", "closes"):
        try:
            dates.append(dt.date.fromisoformat(values[column]))
        except ValueError:
            wrong.append(f"{column} is not a date YYYY-MM-DD")
    if len(dates) == 2 and dates[0] > dates[1]:
        wrong.append("closes before it opens")
    return wrong


def read_file(path: Path, known: Iterable[str] | None = None) -> list[Window]:
    """The windows of a reference file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceFileError(f"{path} cannot be read ({type(exc).__name__})") from None
    return parse(text, known)


def by_collection(windows: Iterable[Window]) -> dict[str, list[Window]]:
    """Each collection's windows, by academic year and opening day."""
    found: dict[str, list[Window]] = {}
    for w in sorted(windows, key=lambda w: (w.academic_year, w.opens, w.name)):
        found.setdefault(w.collection, []).append(w)
    return found


def academic_year(today: dt.date, starts: str = "07-01") -> str:
    """The academic year CCYY-CCYY a date falls in; a year starts on ``starts`` (MM-DD)."""
    month, day = (int(part) for part in starts.split("-"))
    first = today.year if (today.month, today.day) >= (month, day) else today.year - 1
    return f"{first}-{first + 1}"


@dataclass(frozen=True)
class CollectionYear:
    """The academic years a file of a collection submitted on a day may be for, and which
    windows say so (in words, for the message)."""

    years: tuple[str, ...]
    said: str


def collection_year(windows: Iterable[Window], collection: str, on: dt.date) -> CollectionYear:
    """The collection's academic year on the day: the year of its open windows; when none is
    open, of the next one to open (files sent between windows are for the coming one); when none
    is to open, of the last one to close; with no window at all, the academic year (July to
    June) of the day itself (CFS §1.3: the current year "is based on the processing date")."""
    own = [w for w in windows if w.collection == collection]
    chosen = [w for w in own if w.state(on) == "open"]
    if not chosen:
        coming = sorted((w for w in own if on < w.opens), key=lambda w: w.opens)
        closed = sorted(own, key=lambda w: w.closes)
        chosen = coming[:1] or closed[-1:]
    if not chosen:
        return CollectionYear((academic_year(on),),
                              f"no {collection} window is set: the academic year of {on}")
    years = tuple(sorted({w.academic_year for w in chosen}))
    said = "; ".join(f"{collection} window {w.name} {w.academic_year}, {_when(w, on)}"
                     for w in chosen)
    return CollectionYear(years, said)


def required_year(layout: Layout, windows: Iterable[Window] | None, collection: str,
                  on: dt.date) -> CollectionYear | None:
    """The academic year a file of the layout sent on the day must carry in its
    ``window_year_field`` (None: the layout has none); ``windows`` None: the configured ones."""
    if layout.window_year_field is None:
        return None
    return collection_year(configured() if windows is None else windows, collection, on)


def _when(window: Window, on: dt.date) -> str:
    state = window.state(on)
    if state == "open":
        return f"open until {window.closes}"
    return f"opens {window.opens}" if state == "not yet open" else f"closed {window.closes}"


@functools.cache
def configured(path: Path | None = None) -> tuple[Window, ...]:
    """The windows of the configured file (``Settings.windows_file``; None: the shipped one),
    read once per process."""
    return tuple(read_file(path or DEFAULT_FILE))
