"""Very large files, posted school by school (design.md §3: "or per school, for very large
files").

Only where every key the layout's method matches on contains the school, so the result equals
posting the whole file at once. The acceptance decision is taken first for the whole file
(``decision.decide``). Schools are posted in parts: consecutive schools (in code order) together
until a part holds ``PART_RECORDS`` records, so a file spread over 10,000 small schools does not
take 10,000 transactions, and a transaction stays bounded (one school larger than that is a part
of its own). Each part's transaction writes a ``posted_schools`` row per school (the part's
counts on its first school's row), so a school posts once across workers and crashes, and
``post_by_school`` also resumes a half-posted file.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.post.decision import Decision, Outcome, finish, posted_outcome, staged_counts
from services.post.effects import apply_effects
from services.post.posting import Poster
from services.post.tables import STAGED
from shared.catalog.loader import Catalog
from shared.catalog.models import Collection, Layout, Method, Posting
from shared.db.models import PostedSchool, Submission, Suggestion, utcnow

log = logging.getLogger(__name__)

PART_RECORDS = 20_000  # records per transaction when posting school by school, at least


def can_post_by_school(layout: Layout, collection: Collection) -> bool:
    """Whether posting one school at a time gives the same store as the whole file at once:
    every key the method matches on contains the school, and nothing spans schools."""
    school = layout.school_field
    return (school is not None and layout.method is not Method.EFFECTIVE_DATE
            and collection.posting is Posting.BY_METHOD and school in layout.row_key
            and (not layout.group_key or school in layout.group_key))


def post_schools(session: Session, catalog: Catalog, submission_id: int, layout: Layout,
                 schools: tuple[str, ...], max_issues_per_code: int) -> bool:
    """Post some schools of a very large file in the caller's transaction; False when another
    worker has any of them."""
    taken = session.scalar(select(func.count()).select_from(PostedSchool).where(
        PostedSchool.submission_id == submission_id, PostedSchool.school.in_(schools)))
    if taken:
        return False
    # Two workers at once: the second insert waits for the first transaction and then fails
    # on the primary key (the caller skips the part).
    session.add_all([PostedSchool(submission_id=submission_id, school=school)
                     for school in schools])
    session.flush()
    poster = Poster(session, submission_id, layout, max_issues_per_code, schools=schools)
    posted = poster.post()
    effects = apply_effects(session, catalog, submission_id, layout, poster.now,
                            schools=schools)
    session.execute(update(PostedSchool).where(
        PostedSchool.submission_id == submission_id, PostedSchool.school == schools[0]).values(
        posted=posted, warnings=poster.warnings, effects=effects))
    return True


def schools_to_post(session: Session, submission_id: int) -> list[tuple[str, int]]:
    """The schools of a file with records to post that are not posted yet, in code order,
    each with its number of records to post."""
    done = select(PostedSchool.school).where(PostedSchool.submission_id == submission_id)
    return [(school, count) for school, count in session.execute(
        select(STAGED.school, func.count()).where(
            STAGED.submission_id == submission_id, STAGED.action.is_not(None),
            STAGED.school.is_not(None), STAGED.school.not_in(done))
        .group_by(STAGED.school).order_by(STAGED.school)) if school is not None]


def parts(schools: list[tuple[str, int]], at_least: int = PART_RECORDS) -> list[tuple[str, ...]]:
    """Consecutive schools together until a part has ``at_least`` records (the last part may
    have fewer)."""
    found: list[tuple[str, ...]] = []
    part: list[str] = []
    size = 0
    for school, count in schools:
        part.append(school)
        size += count
        if size >= at_least:
            found.append(tuple(part))
            part, size = [], 0
    return [*found, tuple(part)] if part else found


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
    """Post the schools of a claimed large file not posted yet, a part per transaction, then
    finish it (also resumes a file a crash left half-way). A part another worker has a school
    of is skipped; its other schools are parted again in the next round, until a round posts
    nothing (what is left is the other worker's)."""
    progressed = True
    while progressed:
        progressed = False
        with sessions() as session:
            left = schools_to_post(session, submission_id)
        total = len(left)
        done = 0
        for part in parts(left):
            try:
                with sessions.begin() as session:
                    if post_schools(session, catalog, submission_id, layout, part,
                                    max_issues_per_code):
                        progressed = True
                        done += len(part)
                        session.execute(
                            update(Submission).where(Submission.id == submission_id)
                            .values(message=f"Posting school by school: {done} of {total} "
                                            "schools posted.", progress_at=utcnow()))
            except IntegrityError:
                log.info("a part of submission %s is posted by another worker", submission_id)
    with sessions.begin() as session:
        submission = session.get(Submission, submission_id, populate_existing=True)
        if submission is None:
            return None
        return finish_by_school(session, submission, collection)
