"""A job's errors as Review Errors and Download Errors show them: grouped by code with counts
and descriptions, or every one in a csv, txt or xml file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.web.formats import delimited, xml_document
from shared.catalog.loader import Catalog
from shared.db.issue_counts import totals
from shared.db.models import SubmissionIssue

COLUMNS = ("row", "field", "field_name", "code", "severity", "message", "rule_id")


def issue_json(issue: SubmissionIssue) -> dict[str, Any]:
    """One issue as the API shows it."""
    return {"row": issue.row, "field": issue.field, "field_name": issue.field_name,
            "code": issue.code, "severity": issue.severity, "message": issue.message,
            "rule_id": issue.rule_id}


def issue_groups(session: Session, catalog: Catalog, submission_id: int
                 ) -> list[dict[str, Any]]:
    """The job's issues by code, most frequent first, with the code's title and description
    (all counts, also beyond the rows kept per code)."""
    groups = []
    for code, count in sorted(totals(session, submission_id).items(),
                              key=lambda item: (-item[1], item[0])):
        kind = catalog.issue_types.get(code)
        severity = session.scalar(select(SubmissionIssue.severity).where(
            SubmissionIssue.submission_id == submission_id, SubmissionIssue.code == code)
            .limit(1))
        groups.append({"code": code, "count": count,
                       "severity": severity or (kind.severity.value if kind else "fatal"),
                       "title": kind.title if kind else code,
                       "description": kind.description if kind else ""})
    return groups


def issue_file(session: Session, submission_id: int, fmt: str) -> Iterator[str]:
    """Every kept issue of the job, in file order, as csv, txt or xml."""
    query = (select(*(getattr(SubmissionIssue, c) for c in COLUMNS))
             .where(SubmissionIssue.submission_id == submission_id)
             .order_by(SubmissionIssue.row.is_not(None), SubmissionIssue.row,
                       SubmissionIssue.id))
    rows = (tuple(r) for r in session.execute(query.execution_options(yield_per=2000)))
    if fmt == "xml":
        yield from xml_document("errors", "error", COLUMNS, rows,
                                {"submission": str(submission_id)})
        return
    yield from delimited(rows, fmt, COLUMNS)
