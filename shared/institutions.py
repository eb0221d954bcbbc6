"""The institution hierarchy: the state, ESDs (county offices), districts and schools.

It is reference data, loaded from a CSV file with the columns ``id, name, kind, parent_id,
contact_email`` (``shared/reference/institutions.csv`` is a small fictional set for the embedded
default). An institution administers its children and, through them, their children: a user of
a district acts for the district and its schools, an ESD user for its districts and their
schools (the Oregon seed's "equals or is administered by", design.md §6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from shared.db.models import Institution
from shared.reference_file import ReferenceFileError, read_rows

KINDS = ("state", "esd", "district", "school")
DEFAULT_FILE = Path(__file__).with_name("reference") / "institutions.csv"
COLUMNS = ("id", "name", "kind", "parent_id", "contact_email")
NO_RIGHTS = "You do not have rights to submit this Institution ID."


@dataclass(frozen=True)
class Row:
    """One institution of a reference file."""

    id: str
    name: str
    kind: str
    parent_id: str | None
    contact_email: str


def parse(text: str) -> list[Row]:
    """The rows of a reference file's text (problems of the rows are for ``check_rows``)."""
    return [Row(id=v["id"], name=v["name"], kind=v["kind"].lower(),
                parent_id=v["parent_id"] or None, contact_email=v["contact_email"])
            for _, v in read_rows(text, COLUMNS)]


def read_file(path: Path) -> list[Row]:
    """The rows of a reference file; raises ReferenceFileError listing every problem."""
    try:
        rows = parse(path.read_text(encoding="utf-8"))
    except ReferenceFileError as exc:
        raise ReferenceFileError(f"{path}: {exc}") from None
    problems = check_rows(rows)
    if problems:
        raise ReferenceFileError(f"{path}: " + "; ".join(problems))
    return rows


def check_rows(rows: list[Row], known: Iterable[str] = ()) -> list[str]:
    """Every problem of a set of rows (ids, kinds, parents that exist, no cycles)."""
    problems: list[str] = []
    ids = [r.id for r in rows]
    every = set(ids) | set(known)
    seen: set[str] = set()
    for line, row in enumerate(rows, 2):
        if not row.id or len(row.id) > 20:
            problems.append(f"line {line}: an id of 1 to 20 characters is required")
        if row.id in seen:
            problems.append(f"line {line}: id {row.id} appears twice")
        seen.add(row.id)
        if row.kind not in KINDS:
            problems.append(f"line {line}: kind must be one of {', '.join(KINDS)}")
        if row.parent_id is not None and row.parent_id not in every:
            problems.append(f"line {line}: parent {row.parent_id} is not an institution")
        if not row.name:
            problems.append(f"line {line}: a name is required")
    parents = {r.id: r.parent_id for r in rows}
    for start in parents:
        walked, at = {start}, parents.get(start)
        while at is not None and at in parents:
            if at in walked:
                problems.append(f"institution {start} is its own ancestor")
                break
            walked.add(at)
            at = parents[at]
    return problems


def load(session: Session, rows: list[Row]) -> tuple[int, int]:
    """Add the rows' institutions and update the ones already known (parents first, so the
    foreign keys hold); returns (added, updated)."""
    by_id = {r.id: r for r in rows}
    ordered: list[Row] = []
    placed: set[str] = set()

    def place(row: Row) -> None:
        if row.id in placed:
            return
        placed.add(row.id)
        if row.parent_id in by_id:
            place(by_id[row.parent_id])
        ordered.append(row)

    for row in rows:
        place(row)
    added = updated = 0
    for row in ordered:
        found = session.get(Institution, row.id)
        if found is None:
            session.add(Institution(id=row.id, name=row.name, kind=row.kind,
                                    parent_id=row.parent_id, contact_email=row.contact_email))
            added += 1
        elif (found.name, found.kind, found.parent_id, found.contact_email) != (
                row.name, row.kind, row.parent_id, row.contact_email):
            found.name, found.kind = row.name, row.kind
            found.parent_id, found.contact_email = row.parent_id, row.contact_email
            updated += 1
        session.flush()
    return added, updated


def administered(session: Session, institution_id: str) -> frozenset[str]:
    """The institution and every institution it administers, however deep."""
    tree = (select(literal(institution_id).label("id"))
            .cte("tree", recursive=True))
    tree = tree.union(select(Institution.id).where(Institution.parent_id == tree.c.id))
    return frozenset(session.scalars(select(tree.c.id)))


def is_root(session: Session, institution_id: str) -> bool:
    """Whether the institution is the top of the hierarchy (the state): it administers all."""
    found = session.get(Institution, institution_id)
    return found is not None and found.parent_id is None and found.kind == "state"
