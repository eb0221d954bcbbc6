"""What a principal may see: rows of the institutions it acts for, and nothing else.

A row outside the principal's scope is answered exactly as a row that does not exist (404 with
the same message), so another district's job ids, rows or SSIDs cannot even be probed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.orm import Session

from services.web.problems import Problem
from shared.accounts import Principal
from shared.db.models import OdsRecord, Submission


def within(column: Any, principal: Principal) -> ColumnElement[bool]:
    """A condition: the column's institution is in the principal's scope."""
    if principal.scope is None:
        return true()
    return column.in_(sorted(principal.scope))  # type: ignore[no-any-return]


def records_within(principal: Principal) -> ColumnElement[bool]:
    """Posted records whose district or school the principal acts for (Appendix F: "Resident
    or Attending School Institution ID equals or is administered by" the login institution)."""
    if principal.scope is None:
        return true()
    scope = sorted(principal.scope)
    return or_(OdsRecord.lea.in_(scope), OdsRecord.school.in_(scope))


def submission_of(session: Session, principal: Principal, submission_id: int) -> Submission:
    """The submission, if the principal may see it."""
    found = session.get(Submission, submission_id)
    if found is None or not principal.covers(found.institution_id):
        raise Problem(404, f"There is no submission {submission_id} (of an institution you "
                           "act for).")
    return found
