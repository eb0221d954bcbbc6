"""The CDS directory: the LEA and school codes files may name, and the LEA each school reports to.

CALPADS checks a School of Attendance against the state's County-District-School directory:
"Must be a valid code in CDS and have an active CALPADS reporting relationship with the
Reporting LEA" (CFS 1.05, 2.07, 3.05, 13.05...). The seeds do not give the directory, so it is
reference data: a CSV file with the columns ``kind, code, name, parent, status, starts, ends``
and, optionally (files written before it still load), ``category``:

- ``kind``: ``lea`` (a district or county office, or an independently reporting charter: its
  School code is its LEA code, and it is listed as a school of itself too) or ``school``;
- ``parent``: the LEA a school reports to (blank for an LEA);
- ``status``: ``active`` or ``closed``; ``starts``/``ends`` (``YYYY-MM-DD``, optional, both days
  included) bound the reporting relationship;
- ``category``: what else the code is, for the store rules: for a school ``charter`` (a charter
  school, SASS 8.05) or ``nps`` (a non-public school, the codes "School of Attendance NPS" may
  name: SPED 14.06, SSRV 15.06, PSTS 17.06, WBLR 21.06); for an LEA ``charter`` (an
  independently reporting charter: SPED 14.04, SSRV 15.04); blank otherwise.

``shared/reference/directory.csv`` is a small fictional set loaded by ``edcs up``; ``edcs
reference load FILE`` loads another (state operator). A file with any problem is refused whole,
every problem listed with its line and column. Rows are added or updated by (kind, code); a
code never disappears (a closed school is loaded as ``closed``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.directory import DirectoryEntry
from shared.reference_file import ReferenceFileError, read_rows

DEFAULT_FILE = Path(__file__).with_name("reference") / "directory.csv"
COLUMNS = ("kind", "code", "name", "parent", "status", "starts", "ends")
OPTIONAL = ("category",)
KINDS = ("lea", "school")
CATEGORIES = {"lea": ("charter",), "school": ("charter", "nps")}
STATUSES = ("active", "closed")
_CODE = re.compile(r"^[0-9]{7}$")  # CDS county-district (CD) and school (S) codes, CS7


@dataclass(frozen=True)
class Entry:
    """One code of a directory file."""

    kind: str
    code: str
    name: str
    parent: str | None
    status: str
    starts: dt.date | None
    ends: dt.date | None
    category: str | None = None


@dataclass(frozen=True)
class Problem:
    """A problem of one line of a directory file, at a column."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


def check(text: str, known_leas: Iterable[str] = ()) -> tuple[list[Entry], list[Problem]]:
    """The entries of a directory file's text and every problem of its lines; ``known_leas``:
    LEA codes already loaded (a school's parent may be one of them). A file that is not a
    directory file at all (not CSV, a column missing) raises ReferenceFileError."""
    rows = read_rows(text, COLUMNS, OPTIONAL)
    leas = {v["code"] for _, v in rows if v["kind"].lower() == "lea"} | set(known_leas)
    found: list[Entry] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for line, values in rows:
        wrong = _problems(values, leas)
        key = (values["kind"].lower(), values["code"])
        if key in seen:
            wrong.append(("code", f"{values['kind']} {values['code']} appears twice"))
        seen.add(key)
        problems.extend(Problem(line, column, said) for column, said in wrong)
        if not wrong:
            found.append(Entry(values["kind"].lower(), values["code"], values["name"],
                               values["parent"] or None, values["status"].lower(),
                               _date(values["starts"]), _date(values["ends"]),
                               values["category"].lower() or None))
    if not rows:
        problems.append(Problem(1, "kind", "the file has no entries"))
    return found, problems


def parse(text: str, known_leas: Iterable[str] = ()) -> list[Entry]:
    """The entries of a directory file's text; raises ReferenceFileError listing every
    problem."""
    found, problems = check(text, known_leas)
    if problems:
        raise ReferenceFileError("; ".join(str(p) for p in problems))
    return found


def _date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _problems(values: dict[str, str], leas: set[str]) -> list[tuple[str, str]]:
    wrong: list[tuple[str, str]] = []
    kind = values["kind"].lower()
    if kind not in KINDS:
        wrong.append(("kind", f"must be one of {', '.join(KINDS)}"))
    if not _CODE.match(values["code"]):
        wrong.append(("code", "must be a CDS code of 7 digits"))
    if not values["name"]:
        wrong.append(("name", "is required"))
    if kind == "school" and values["parent"] not in leas:
        wrong.append(("parent", "must be the code of an LEA of the file or already loaded"))
    if kind == "lea" and values["parent"]:
        wrong.append(("parent", "must be blank for an LEA"))
    category = values["category"].lower()
    if category and kind in KINDS and category not in CATEGORIES[kind]:
        wrong.append(("category", f"must be blank or one of {', '.join(CATEGORIES[kind])} "
                                  f"for {'an' if kind == 'lea' else 'a'} {kind}"))
    if values["status"].lower() not in STATUSES:
        wrong.append(("status", f"must be one of {', '.join(STATUSES)}"))
    dates = []
    for column in ("starts", "ends"):
        try:
            dates.append(_date(values[column]))
        except ValueError:
            wrong.append((column, "is not a date YYYY-MM-DD"))
    if len(dates) == 2 and dates[0] and dates[1] and dates[0] > dates[1]:
        wrong.append(("ends", "is before starts"))
    return wrong


def read_file(path: Path) -> list[Entry]:
    """The entries of a directory file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceFileError(f"{path} cannot be read ({type(exc).__name__})") from None
    try:
        return parse(text)
    except ReferenceFileError as exc:
        raise ReferenceFileError(f"{path}: {exc}") from None


def known_leas(session: Session) -> list[str]:
    """The LEA codes already in the directory."""
    return list(session.scalars(select(DirectoryEntry.code).where(DirectoryEntry.kind == "lea")))


def load(session: Session, entries: list[Entry]) -> tuple[int, int]:
    """Add the entries and update the ones already there; returns (added, updated)."""
    stored = {(e.kind, e.code): e for e in session.scalars(select(DirectoryEntry))}
    added = updated = 0
    for entry in entries:
        values = (entry.name, entry.parent, entry.status, entry.starts, entry.ends,
                  entry.category)
        found = stored.get((entry.kind, entry.code))
        if found is None:
            session.add(DirectoryEntry(kind=entry.kind, code=entry.code, name=entry.name,
                                       parent=entry.parent, status=entry.status,
                                       starts=entry.starts, ends=entry.ends,
                                       category=entry.category))
            added += 1
        elif (found.name, found.parent, found.status, found.starts, found.ends,
              found.category) != values:
            (found.name, found.parent, found.status, found.starts, found.ends,
             found.category) = values
            updated += 1
    session.flush()
    return added, updated
