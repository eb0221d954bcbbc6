"""The Oregon Type A header: ``CollectionName=``, ``InstID=`` lines, then ``~~`` (seed 003).

"The files must contain a header above the data that includes the InstID (Institution ID of the
Submitting Institution, not the DataCenter), CollectionName ... and the Double Tilde to separate
the header lines from the data lines." edcs reads ``CollectionName`` as the collection code
(case-insensitive) and ``InstID`` as the institution the file is submitted for: a file whose
InstID is not the submitting institution is refused with Oregon's message.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.catalog.models import Collection, Layout, Severity
from shared.issues import Issue

KEYS = ("collectionname", "instid")
MAX_LINES = 10  # the header has two key lines; a few blank ones are forgiven


@dataclass(frozen=True)
class TypeA:
    """A parsed Type A header: what it names and how many physical lines it takes."""

    collection_name: str
    inst_id: str
    lines: int


def starts_type_a(first_line: bytes) -> bool:
    """Whether a file's first non-blank line opens a Type A header."""
    key = first_line.split(b"=", 1)[0].strip().lower()
    return b"=" in first_line and key in (k.encode() for k in KEYS)


def _bad(message: str, row: int | None = None) -> Issue:
    return Issue(row=row, field=None, field_name=None, code="type-a-header",
                 severity=Severity.FATAL, message=message)


def parse(lines: list[bytes]) -> tuple[TypeA | None, list[Issue]]:
    """The Type A header at the start of these physical lines (None with issues if broken)."""
    values: dict[str, str] = {}
    for row, raw in enumerate(lines[:MAX_LINES], 1):
        line = raw.decode("utf-8", "replace").removeprefix("\ufeff").strip()
        if not line:
            continue
        if line == "~~":
            missing = [k for k, name in zip(KEYS, ("CollectionName", "InstID"), strict=True)
                       if not values.get(k)]
            if missing:
                names = " and ".join("CollectionName" if k == KEYS[0] else "InstID"
                                     for k in missing)
                return None, [_bad(f"The Type A header has no {names}.", row)]
            return TypeA(values[KEYS[0]], values[KEYS[1]], row), []
        key, eq, value = line.partition("=")
        if not eq or key.strip().lower() not in KEYS:
            return None, [_bad(f"Row {row} of the Type A header must be CollectionName=..., "
                               "InstID=... or the ~~ line that ends the header.", row)]
        values[key.strip().lower()] = value.strip()
    return None, [_bad("The Type A header (CollectionName=, InstID=) is not ended by a ~~ "
                       "line.")]


def check(header: TypeA, layout: Layout, collection: Collection,
          institution_id: str | None) -> list[Issue]:
    """What the header names, against the collection and the submitting institution."""
    if not layout.framing.type_a:
        return [_bad(f"Files of {collection.code} do not take a Type A header "
                     "(CollectionName=, InstID=, ~~); remove it.", 1)]
    issues: list[Issue] = []
    if header.collection_name.upper() != collection.code.upper():
        issues.append(Issue(
            row=1, field=None, field_name=None, code="type-a-collection",
            severity=Severity.FATAL,
            message=f"The Type A header names the collection '{header.collection_name}', but "
                    f"the file was submitted to {collection.code}."))
    if institution_id is not None and header.inst_id != institution_id:
        issues.append(Issue(
            row=1, field=None, field_name=None, code="type-a-institution",
            severity=Severity.FATAL,
            message=f"You do not have rights to submit this Institution ID: the Type A header "
                    f"names InstID={header.inst_id}, and the file was submitted for "
                    f"institution {institution_id}."))
    return issues
