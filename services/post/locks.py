"""Posting locks: two barriers that write records of one type at one school run one after the
other (PostgreSQL).

Files of two districts may post at once on two post workers. Under PostgreSQL's read committed
each statement of a barrier sees what others committed before it began, so a key another
barrier commits between this one's update step and its insert step was neither updated nor
inserted: ``ON CONFLICT DO NOTHING`` skipped it, and the later file's record was lost while the
file counted it as posted. A barrier therefore takes, before its first write to the store, a
transaction-scoped advisory lock for each school of its records (the layout's key holds the
school, so equal keys have equal schools), in one order, so barriers at different schools never
wait for each other and those at a common school post as if one after the other.

A file at more than ``SCHOOL_LOCKS`` schools (the server's lock table is shared and bounded:
``max_locks_per_transaction`` x connections) locks the whole record type instead; so does a
layout whose key does not hold the school. Every barrier first takes the type's lock shared, so
a whole-type lock waits for the school-by-school ones and they for it. SQLite has one writer at
a time: nothing to take.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

SCHOOL_LOCKS = 1000  # schools a barrier locks one by one; above: the whole record type

_SHARED = text("SELECT pg_advisory_xact_lock_shared(hashtextextended(:name, 0))")
_WHOLE = text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))")
# unnest yields the names in the array's order, so every barrier locks in one (sorted) order
_SCHOOLS = text("SELECT count(pg_advisory_xact_lock(hashtextextended(name, 0))) "
                "FROM unnest(CAST(:names AS text[])) AS name")


def hold_schools(session: Session, record_type: str,
                 schools_of: Callable[[], Sequence[str]] | None) -> None:
    """Lock the store's records of ``record_type`` at the schools ``schools_of`` lists (None:
    every school) for writing until the transaction ends; waits for a barrier that holds any of
    them. (The schools are asked for only where there is something to lock.)"""
    if session.get_bind().dialect.name != "postgresql":
        return
    whole = f"{record_type}|*"
    schools = schools_of() if schools_of is not None else None
    if schools is None or len(schools) > SCHOOL_LOCKS:
        session.execute(_WHOLE, {"name": whole})
        return
    session.execute(_SHARED, {"name": whole})
    session.execute(_SCHOOLS, {"names": sorted({f"{record_type}|{s}" for s in schools})})
