"""``/api/v1/reference``: a state operator loads reference data the seeds do not give (``edcs
reference load FILE``): the CDS directory (``shared.directory``), the institution hierarchy
(``shared.institutions``) or the collection windows (``shared.windows``, stored by
``shared.db.windows``), told apart by the file's header row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.web.context import WebContext
from services.web.problems import Problem
from services.web.security import api_principal, require
from shared import directory, institutions, windows
from shared.accounts import Principal
from shared.db import windows as stored_windows
from shared.db.models import Institution
from shared.reference_file import ReferenceFileError

Caller = Annotated[Principal, Depends(api_principal)]
LIMIT = 20_000_000  # bytes: the state's whole CDS directory is a few MB
KINDS = {"directory": directory.COLUMNS, "institutions": institutions.COLUMNS,
         "windows": windows.COLUMNS}


def kind_of(text: str) -> str | None:
    """Which reference file this is, by the columns of its header row."""
    try:
        first = next(csv.reader(io.StringIO(text.removeprefix("\ufeff"))), [])
    except csv.Error:
        return None
    names = {c.strip() for c in first}
    return next((kind for kind, columns in KINDS.items() if set(columns) <= names), None)


def directory_router(web: WebContext) -> APIRouter:
    """The routes."""
    router = APIRouter(prefix="/api/v1", tags=["reference"])

    @router.post("/reference", summary="Load a reference file: the CDS directory, the "
                                       "institutions or the collection windows (operator)")
    def load_reference(principal: Caller, file: Annotated[UploadFile, File()]
                       ) -> dict[str, Any]:
        require(principal, "operate")
        data = file.file.read(LIMIT + 1)
        if len(data) > LIMIT:
            raise Problem(413, f"A reference file may be up to {LIMIT // 1_000_000} MB.")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Problem(422, f"The reference file is not UTF-8 text (byte {exc.start + 1})."
                          ) from None
        kind = kind_of(text)
        if kind is None:
            raise Problem(422, "The header row names neither a directory file ("
                               f"{','.join(directory.COLUMNS)}), an institutions file ("
                               f"{','.join(institutions.COLUMNS)}) nor a windows file ("
                               f"{','.join(windows.COLUMNS)}).")
        with web.sessions.begin() as session:
            if kind == "directory":
                added, updated = load_directory_text(session, text)
            elif kind == "windows":
                added, updated = load_windows_text(session, text, web.catalog.collections)
            else:
                added, updated = load_institutions_text(session, text)
        return {"kind": kind, "added": added, "updated": updated}

    return router


def _refused(problems: list[dict[str, Any]]) -> Problem:
    shown = problems[:1000]
    more = f" ({len(problems) - len(shown)} more not shown)" if len(problems) > len(shown) else ""
    return Problem(422, f"The file has {len(problems)} problems; nothing was loaded{more}.",
                   shown)


def load_directory_text(session: Session, text: str) -> tuple[int, int]:
    """Load a directory file's entries (all or none); returns (added, updated)."""
    try:
        entries, problems = directory.check(text, directory.known_leas(session))
    except ReferenceFileError as exc:
        raise Problem(422, f"The directory file cannot be read: {exc}.") from None
    if problems:
        raise _refused([{"line": p.line, "column": p.column, "message": str(p)}
                        for p in problems])
    return directory.load(session, entries)


def load_institutions_text(session: Session, text: str) -> tuple[int, int]:
    """Load an institutions file's rows (all or none); returns (added, updated)."""
    try:
        rows = institutions.parse(text)
    except ReferenceFileError as exc:
        raise Problem(422, f"The institutions file cannot be read: {exc}.") from None
    problems = institutions.check_rows(rows, session.scalars(select(Institution.id)))
    if problems:
        raise _refused([{"message": p} for p in problems])
    return institutions.load(session, rows)


def load_windows_text(session: Session, text: str, known: Iterable[str]) -> tuple[int, int]:
    """Load a windows file's windows (all or none); returns (added, updated)."""
    try:
        found, problems = windows.check(text, known)
    except ReferenceFileError as exc:
        raise Problem(422, f"The windows file cannot be read: {exc}.") from None
    if problems:
        raise _refused([{"line": line, "message": f"line {line}: {message}"}
                        for line, message in problems])
    return stored_windows.load(session, found)
