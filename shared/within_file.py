"""Rules across the records of one file (``unique_in_file``): the one home of what they say.

The pipeline decides them at the post barrier over the staged rows (records of one file are
validated on several workers; ``services/post/prechecks.py``); ``edcs validate`` decides them
while it reads the file (``Repeats``). Both find the same rows and say the same words.
"""

from __future__ import annotations

import hashlib

from shared.catalog.models import FieldSpec, Layout, Severity
from shared.issues import Issue

DUPLICATE_IN_FILE = "duplicate-in-file"


def repeat_issue(row: int, earlier: int, group: tuple[FieldSpec, ...]) -> dict[str, str]:
    """The issue of a row that repeats the values of ``group`` of an earlier row, as the staged
    rows keep issues (field, field_name, code, message; no value: they may be private)."""
    titles = " and ".join(f.title for f in group)
    return {"field": group[0].id, "field_name": group[0].title, "code": DUPLICATE_IN_FILE,
            "message": f"Row {row} repeats the {titles} of row {earlier}; each may appear "
                       "only once in a file."}


class Repeats:
    """Finds, while a file streams, the rows repeating an earlier row's ``unique_in_file`` group
    (a blank value never repeats). Keeps a 16-byte digest and a row number per distinct value,
    not the values themselves."""

    def __init__(self, layout: Layout) -> None:
        by_name = {f.name: (i, f) for i, f in enumerate(layout.fields)}
        self._groups = [(tuple(by_name[n][0] for n in group),
                         tuple(by_name[n][1] for n in group)) for group in layout.unique_in_file]
        self._seen: list[dict[bytes, int]] = [{} for _ in self._groups]

    def check(self, row: int, fields: list[str]) -> list[Issue]:
        """The issues of this record (valid on its own) against the records read before it."""
        found: list[Issue] = []
        for (positions, specs), seen in zip(self._groups, self._seen, strict=True):
            values = [fields[p].strip() if p < len(fields) else "" for p in positions]
            if not all(values):
                continue
            digest = hashlib.blake2b("\x1f".join(values).encode(), digest_size=16).digest()
            earlier = seen.setdefault(digest, row)
            if earlier != row:
                said = repeat_issue(row, earlier, specs)
                found.append(Issue(row=row, field=said["field"], field_name=said["field_name"],
                                   code=DUPLICATE_IN_FILE, severity=Severity.FATAL,
                                   message=said["message"]))
        return found
