"""Reading a reference CSV file (institutions, collection windows, the directory), and the
error of one edcs cannot load.

Its own module, free of the database, so that reading a windows file (``edcs validate``,
``edcs sample``) does not import SQLAlchemy.
"""

from __future__ import annotations

import csv
import io


class ReferenceFileError(ValueError):
    """The reference file has problems; the message lists every one."""


def read_rows(text: str, columns: tuple[str, ...], optional: tuple[str, ...] = ()
              ) -> list[tuple[int, dict[str, str]]]:
    """The rows of a reference CSV file's text, each with its line number (the header is line
    1) and its value of every column and ``optional`` column, stripped (blank when absent). A
    byte order mark is ignored; a file that is not CSV, or whose header lacks a column (an
    ``optional`` one may be left out: older files), raises ReferenceFileError."""
    try:
        reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ReferenceFileError(f"the header must name the columns {', '.join(columns)}; "
                                     f"missing {', '.join(missing)}")
        return [(line, {c: (row.get(c) or "").strip() for c in columns + optional})
                for line, row in enumerate(reader, start=2)]
    except csv.Error as exc:
        raise ReferenceFileError(f"the file is not a CSV file edcs can read ({exc})") from None
