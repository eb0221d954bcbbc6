"""Very large files, posted one school per transaction (design.md §3: "or per school, for very
large files").

Only where every key the layout's method matches on contains the school, so the result equals
posting the whole file at once. The acceptance decision is taken first for the whole file
(``posting.decide``); each school's transaction writes its ``posted_schools`` row, so a school
posts once across workers and crashes, and ``post_by_school`` also resumes a half-posted file.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.post.effects import apply_effects
from services.post.posting import (
    Decision,
    Outcome,
    Poster,
    finish,
    posted_outcome,
    staged_counts,
)
from services.post.tables import STAGED
from shared.catalog.loader import Catalog
from shared.catalog.models import Collection, Layout, Method, Posting
from shared.db.models import PostedSchool, Submission, Suggestion, utcnow

log = logging.getLogger(__name__)


def can_post_by_school(layout: Layout, collection: Collection) -> bool:
    """Whether posting one school at a time gives the same store as the whole file at once:
    every key the method matches on contains the school, and nothing spans schools."""
    school = layout.school_field
    return (school is not None and layout.method is not Method.EFFECTIVE_DATE
            and collection.posting is Posting.BY_METHOD and school in layout.row_key
            and (not layout.group_key or school in layout.group_key))


def post_school(session: Session, catalog: Catalog, submission_id: int, layout: Layout,
                school: str, max_issues_per_code: int) -> bool:
    """Post one school of a very large file in the caller's transaction; False when another
    worker has it."""
    if session.get(PostedSchool, (submission_id, school)) is not None:
        return False
    # Two workers at once: the second insert waits for the first transaction and then fails
    # on the primary key (the caller skips the school).
    session.add(PostedSchool(submission_id=submission_id, school=school))
    session.flush()
    poster = Poster(session, submission_id, layout, max_issues_per_code, school=school)
    posted = poster.post()
    effects = apply_effects(session, catalog, submission_id, layout, poster.now, school=school)
    session.execute(update(PostedSchool).where(
        PostedSchool.submission_id == submission_id, PostedSchool.school == school).values(
        posted=posted, warnings=poster.warnings, effects=effects))
    return True


def schools_to_post(session: Session, submission_id: int) -> list[str]:
    """The schools of a file with records to post that are not posted yet."""
    done = select(PostedSchool.school).where(PostedSchool.submission_id == submission_id)
    return list(session.scalars(
        select(STAGED.school).where(STAGED.submission_id == submission_id,
                                    STAGED.action.is_not(None), STAGED.school.is_not(None),
                                    STAGED.school.not_in(done))
        .group_by(STAGED.school).order_by(STAGED.school)))


def finish_by_school(session: Session, submission: Submission, collection: Collection
                     ) -> Outcome | None:
    """The outcome of a file posted school by school, once every school is posted."""
    if schools_to_post(session, submission.id):
        return None
    posted, warnings, effects, schools = session.execute(
        select(func.coalesce(func.sum(PostedSchool.posted), 0),
               func.coalesce(func.sum(PostedSchool.warnings), 0),
               func.coalesce(func.sum(PostedSchool.effects), 0), func.count())
        .where(PostedSchool.submission_id == submission.id)).one()
    fatal, staged_warnings = staged_counts(session, submission.id)
    suggested = session.scalar(select(func.count()).select_from(Suggestion).where(
        Suggestion.submission_id == submission.id)) or 0
    decision = Decision(submission.expected_records or 0, fatal, staged_warnings, None,
                        suggested=suggested)
    outcome = posted_outcome(decision, collection, posted, warnings, effects, 0,
                             schools=schools)
    return outcome if finish(session, submission, outcome, decision) else None


def post_by_school(sessions: sessionmaker[Session], catalog: Catalog, submission_id: int,
                   collection: Collection, layout: Layout, max_issues_per_code: int
                   ) -> Outcome | None:
    """Post the schools of a claimed large file not posted yet, each in its own transaction,
    then finish it (also resumes a file a crash left half-way)."""
    with sessions() as session:
        schools = schools_to_post(session, submission_id)
    for number, school in enumerate(schools, 1):
        try:
            with sessions.begin() as session:
                if post_school(session, catalog, submission_id, layout, school,
                               max_issues_per_code):
                    session.execute(update(Submission).where(Submission.id == submission_id)
                                    .values(message=f"Posting school by school: {number} of "
                                                    f"{len(schools)} posted.",
                                            progress_at=utcnow()))
        except IntegrityError:
            log.info("school %s of submission %s is posted by another worker", number,
                     submission_id)
    with sessions.begin() as session:
        submission = session.get(Submission, submission_id, populate_existing=True)
        if submission is None:
            return None
        return finish_by_school(session, submission, collection)
