"""Tables of the state's store: submissions, their issues, staged and posted records, history.

Posted records are generic: one row per record with its operational key and its fields (in
layout order) as JSON, so every collection posts through the same code (design.md §2).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


FINAL_STATUSES = frozenset({"posted", "rejected", "failed"})
"""A submission in one of these statuses will not change again (but for a replay)."""


def utcnow() -> dt.datetime:
    """Timestamps are stored in UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}  # noqa: RUF012


class Institution(Base):
    """An LEA, school or the state; users and tokens belong to one."""

    __tablename__ = "institutions"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("institutions.id"))
    contact_email: Mapped[str] = mapped_column(String(320))
    # state, esd (county office), district or school (shared.institutions)
    kind: Mapped[str] = mapped_column(String(20), default="district", server_default="district")


class Submission(Base):
    """One uploaded file and what happened to it."""

    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(20))
    institution_id: Mapped[str] = mapped_column(String(20), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(default=0)
    submitted_by: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    expected_records: Mapped[int | None]
    staged_records: Mapped[int] = mapped_column(default=0)
    # The staged records' summary (services.post.tables.StagedSummary): the OR of their marks
    # and how many records it covers; NULL for a submission of an earlier version.
    staged_marks: Mapped[int | None] = mapped_column(default=0)
    marked_records: Mapped[int | None] = mapped_column(default=0)
    records: Mapped[int] = mapped_column(default=0)
    posted: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)
    held: Mapped[int] = mapped_column(default=0)  # records kept to be fixed (valid-records-post)
    # A correction of one held record of an earlier submission (valid-records-post).
    fixes_submission_id: Mapped[int | None]
    fixes_row: Mapped[int | None]
    # A person's choice for a record of Review Suggestions, posted as a file of one record.
    resolves_suggestion_id: Mapped[int | None]
    suggested: Mapped[int] = mapped_column(default=0)  # records waiting in Review Suggestions
    # The failure lifecycle (shared.db.lifecycle): when the file last moved on, how often the
    # watchdog or a restart re-drove it, and how often an operator replayed it.
    progress_at: Mapped[dt.datetime | None]
    redrives: Mapped[int] = mapped_column(default=0)
    replays: Mapped[int] = mapped_column(default=0)
    # An EDFacts file's reporting period (CCYY-CCYY, from its header record at upload): its
    # records are keyed by it and a full replacement replaces that period only.
    period: Mapped[str | None] = mapped_column(String(9))


class SubmissionEvent(Base):
    """What happened to a submission, oldest first: the job's history (received, re-driven,
    replayed, failed, posted, email problems), each with a message a person can act on."""

    __tablename__ = "submission_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)


class SubmissionIssue(Base):
    """A located problem of a submission (file-level when row is None)."""

    __tablename__ = "submission_issues"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    row: Mapped[int | None]
    field: Mapped[str | None] = mapped_column(String(10))
    field_name: Mapped[str | None] = mapped_column(String(120))
    code: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    rule_id: Mapped[str | None] = mapped_column(String(40))


class IssueCount(Base):
    """How many issues of each code a submission has: all of them, also beyond the cap of
    issue rows kept per code (design.md §4b)."""

    __tablename__ = "issue_counts"
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    total: Mapped[int] = mapped_column(default=0)


class StagedRecord(Base):
    """A validated record waiting for the rest of its file (the posting barrier)."""

    __tablename__ = "staged_records"
    # One secondary index: posting reads a file's records in its order (``INDEX_ORDER`` in
    # services.post.tables), files posted school by school read one school's records through
    # it. Each index costs every staged record a random insert (migration 0014).
    __table_args__ = (Index("ix_staged_records_school", "submission_id", "school", "action",
                            "op_key"),)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    row: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str | None] = mapped_column(String(1))  # normalised: D, A or R; None if fatal
    op_key: Mapped[str | None] = mapped_column(String(200))
    set_key: Mapped[str | None] = mapped_column(String(200))
    lea: Mapped[str | None] = mapped_column(String(20))
    school: Mapped[str | None] = mapped_column(String(20))
    fields: Mapped[list[str] | None] = mapped_column(JSON)
    fatal: Mapped[bool]
    warnings: Mapped[int] = mapped_column(default=0)
    # A fatal record's own issues (JSON list), so a held record shows all of them, uncapped.
    issues: Mapped[list[dict[str, str | None]] | None] = mapped_column(JSON)
    # What the barrier looks for, found when the record was staged (services.post.planner
    # MATCH, effect_mark); NULL for records staged by an earlier version.
    marks: Mapped[int | None] = mapped_column()


class PostedSchool(Base):
    """One school of a very large file, posted in a transaction of its own (the row is written
    in that transaction, so a school posts once even across crashes and workers)."""

    __tablename__ = "posted_schools"
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    school: Mapped[str] = mapped_column(String(20), primary_key=True)
    posted: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[int] = mapped_column(default=0)
    effects: Mapped[int] = mapped_column(default=0)


class HeldRecord(Base):
    """A record with errors of a valid-records-post collection, kept until it is fixed or the
    district deletes it (Oregon "Review Errors" and "Housekeeping")."""

    __tablename__ = "held_records"
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    row: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[str] = mapped_column(String(20), index=True)
    collection: Mapped[str] = mapped_column(String(20))
    fields: Mapped[list[str] | None] = mapped_column(JSON)
    issues: Mapped[list[dict[str, str | None]]] = mapped_column(JSON)
    # The correction of this record in flight, if any: a second fix of the row while it runs is
    # answered with that one (the same values) or refused (other values).
    fixing_submission_id: Mapped[int | None]


class OdsRecord(Base):
    """A posted record: the state's current data."""

    __tablename__ = "ods_records"
    # An institution's records in key order (Production Download pages, district-wide
    # posting methods): by district and by school.
    __table_args__ = (UniqueConstraint("record_type", "op_key"),
                      Index("ix_ods_records_lea_key", "record_type", "lea", "op_key"),
                      Index("ix_ods_records_school_key", "record_type", "school", "op_key"),
                      Index("ix_ods_records_set", "record_type", "set_key"))
    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(10))
    op_key: Mapped[str] = mapped_column(String(200))
    set_key: Mapped[str | None] = mapped_column(String(200))
    lea: Mapped[str] = mapped_column(String(20))
    school: Mapped[str | None] = mapped_column(String(20))
    fields: Mapped[list[str]] = mapped_column(JSON)
    submission_id: Mapped[int]
    row: Mapped[int]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RecordHistory(Base):
    """Every change to a posted record: which submission, when, before and after.

    An 'add' row stores no ``after``: read it with ``shared.db.history.after_image``."""

    __tablename__ = "record_history"
    __table_args__ = (Index("ix_record_history_key", "record_type", "op_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(10))
    op_key: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(10))
    before: Mapped[list[str] | None] = mapped_column(JSON)
    after: Mapped[list[str] | None] = mapped_column(JSON)
    submission_id: Mapped[int] = mapped_column(index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Email(Base):
    """Every email edcs owes or sent, kept for Review Email: one per submission, milestone and
    round (a replay starts a new round).

    The row is written in the same transaction as the milestone it tells of (the outbox of
    emails), so no milestone goes untold; notify claims a row before sending it, so two notify
    workers never send the same email.
    """

    __tablename__ = "emails"
    __table_args__ = (UniqueConstraint("submission_id", "milestone", "round"),
                      Index("ix_emails_status", "status", "next_attempt_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    # None for an email that is not about a submission (a download is ready): its subject and
    # body are written with the row, and it belongs to ``institution_id``.
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    institution_id: Mapped[str | None] = mapped_column(String(20), index=True)
    milestone: Mapped[str] = mapped_column(String(20))
    round: Mapped[int] = mapped_column(default=0)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10))  # pending, sending, retry, sent, failed
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[dt.datetime | None]  # pending/retry: not before; sending: lease end
    sent_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)  # why the last attempt failed (no values)


class DeadLetter(Base):
    """An event a stage could not process, kept for the operator (``edcs dlq``).

    Also published to the topic's dead-letter twin. ``value`` is the event as it was received:
    it can hold student data, so only operators may read it; ``reason`` never does.
    """

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    stage: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(100))
    partition: Mapped[int]
    offset: Mapped[int]
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    value: Mapped[bytes | None] = mapped_column(LargeBinary)
    submission_id: Mapped[int | None] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(Text)
    replayed_at: Mapped[dt.datetime | None]


class OutboxMessage(Base):
    """An event written in the same transaction as the change it announces, published after the
    commit and then deleted; whatever a crash leaves here is published at the next start."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    topic: Mapped[str] = mapped_column(String(100))
    key: Mapped[bytes] = mapped_column(LargeBinary)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class Identity(Base):
    """One student of the state: an SSID with the demographics matching compares (as the
    normalised keys of ``shared.matching.person.Person``; the SSN only as its keyed hash).

    A merged SSID keeps its row with ``merged_into`` set: it redirects to the survivor.
    """

    __tablename__ = "identities"
    ssid: Mapped[str] = mapped_column(String(10), primary_key=True)
    merged_into: Mapped[str | None] = mapped_column(String(10), index=True)
    person: Mapped[list[str]] = mapped_column(JSON)  # Person fields in order, ssid first
    institution_id: Mapped[str] = mapped_column(String(20), index=True)  # whose record it is
    record_type: Mapped[str] = mapped_column(String(10))  # the layout of ``fields``
    fields: Mapped[list[str]] = mapped_column(JSON)  # the current record as submitted
    submission_id: Mapped[int]  # which submission wrote the current record
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IdentityKey(Base):
    """A blocking key an identity is filed under (``shared.matching.blocking``): candidates
    come from here, never from a scan of the registry."""

    __tablename__ = "identity_keys"
    __table_args__ = (Index("ix_identity_keys_ssid", "ssid"),)  # re-filing, merging
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    ssid: Mapped[str] = mapped_column(String(10), primary_key=True)


class IdentityChange(Base):
    """Every change to an identity: created, updated (its record moved to history), merged."""

    __tablename__ = "identity_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    ssid: Mapped[str] = mapped_column(String(10), index=True)
    action: Mapped[str] = mapped_column(String(10))
    before: Mapped[list[str] | None] = mapped_column(JSON)
    after: Mapped[list[str] | None] = mapped_column(JSON)
    other_ssid: Mapped[str | None] = mapped_column(String(10))  # merges: the other SSID
    submission_id: Mapped[int | None]
    by: Mapped[str | None] = mapped_column(String(320))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SsidCounter(Base):
    """Where new SSIDs come from: one row holding the next sequence number (a portable
    sequence: updated in the posting transaction, which also serialises identity creation)."""

    __tablename__ = "ssid_counter"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_number: Mapped[int]


class Suggestion(Base):
    """A record whose match was suggested, waiting for a person (Oregon Review Suggestions)."""

    __tablename__ = "suggestions"
    __table_args__ = (UniqueConstraint("submission_id", "row"),
                      Index("ix_suggestions_waiting", "institution_id", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    row: Mapped[int]
    institution_id: Mapped[str] = mapped_column(String(20))
    collection: Mapped[str] = mapped_column(String(20))
    fields: Mapped[list[str]] = mapped_column(JSON)
    level: Mapped[int | None]
    candidates: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))  # waiting, excluded, matched, new
    chosen_ssid: Mapped[str | None] = mapped_column(String(10))
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RegistrySync(Base):
    """How far the registry has read the posted records (``ods_records.id``): posted SSIDs it
    does not hold yet are filed from there on."""

    __tablename__ = "registry_sync"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_id: Mapped[int] = mapped_column(default=0)


class DuplicatePair(Base):
    """Two SSIDs that are likely one student (Oregon Resolve Duplicates), found as identities
    are filed and by the full scan. ``low`` is the lower SSID (the one that would survive).

    Each district votes for its own student (``low_vote``, ``high_vote``: Y or N). Two Y votes
    merge them; two N votes mean they are different students, and the pair is never shown
    again (``status``: waiting, merged, distinct).
    """

    __tablename__ = "duplicate_pairs"
    __table_args__ = (Index("ix_duplicate_pairs_status", "status"),)
    low: Mapped[str] = mapped_column(String(10), primary_key=True)
    high: Mapped[str] = mapped_column(String(10), primary_key=True)
    level: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    low_vote: Mapped[str | None] = mapped_column(String(1))
    high_vote: Mapped[str | None] = mapped_column(String(1))
    low_voter: Mapped[str | None] = mapped_column(String(320))
    high_voter: Mapped[str | None] = mapped_column(String(320))
    found_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]
