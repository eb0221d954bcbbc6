"""SSID matching at the posting barrier (design.md §5): every record that asks for it is
matched against the registry in the posting transaction, in file order.

- **hard**: the record takes the matched SSID and posts (ODE-SSID: the identity's current
  record moves to history and the submitted one becomes current; SENR: demographics stay);
- **new**: the record takes the next SSID of the store's sequence and a new identity is filed
  (a later row of the same file, or a later file, matches it);
- **suggested**: the record waits in Review Suggestions (``suggestions``) and does not post
  until a person chooses;
- **error**: a matching field it cannot be matched on makes it a fatal record.

:func:`plan` decides (before the acceptance decision: its errors count); :func:`apply` writes
the outcome once the file is accepted, so a rejected file files no identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.post.planner import ADD, MATCH, REPLACE, KeyMaker
from services.post.tables import STAGED, actions_changed, marked, staged_summary
from shared.catalog.models import Layout, Severity
from shared.db.issue_counts import keep_issues
from shared.db.models import Identity, Submission, Suggestion
from shared.db.registry import StoreRegistry, StoreSequence, file_identity, lock, update_identity
from shared.matching.engine import Decision, FileMatcher, Matcher, Outcome
from shared.matching.levels import Ruleset, default_ruleset
from shared.matching.nicknames import Nicknames, default_nicknames
from shared.matching.person import REQUIRED, Person
from shared.matching.records import PersonReader
from shared.privacy import hmac_key
from shared.settings import Settings

SUGGESTED = "S"  # the staged action of a record waiting in Review Suggestions
PREFETCH = 500  # records whose candidates are read from the registry at once


@dataclass(frozen=True)
class MatchingContext:
    """What matching needs, built once per worker."""

    ssn_key: bytes
    ruleset: Ruleset = field(default_factory=default_ruleset)
    nicknames: Nicknames = field(default_factory=default_nicknames)

    @classmethod
    def from_settings(cls, settings: Settings) -> MatchingContext:
        """The context of a worker: the SSN key from its settings."""
        return cls(ssn_key=hmac_key(settings))


@dataclass
class MatchPlan:
    """The outcome of every matched record of a file."""

    registry: StoreRegistry
    records: dict[int, tuple[Person, list[str], Outcome]] = field(default_factory=dict)
    # Records that gave an SSID merged into another since: row -> (fields, the survivor).
    redirects: dict[int, tuple[list[str], str]] = field(default_factory=dict)
    resolves: Suggestion | None = None  # the suggestion a person's choice decides

    def count(self, decision: Decision) -> int:
        """How many records got this decision."""
        return sum(1 for _, _, o in self.records.values() if o.decision is decision)


def plan(session: Session, submission: Submission, layout: Layout,
         context: MatchingContext) -> MatchPlan | None:
    """Match the file's records that ask for it; marks those that cannot be matched fatal
    (with their issues). None when the layout is not matched."""
    spec = layout.matching
    if spec is None:
        return None
    registry = StoreRegistry(session, context.nicknames)
    matcher = FileMatcher(Matcher(context.ruleset, registry, StoreSequence(session),
                                  context.nicknames))
    reader = PersonReader(layout, context.ssn_key, required=REQUIRED)
    ssid_index = [f.name for f in layout.fields].index(spec.fields["ssid"])
    query = select(STAGED.row, STAGED.fields).where(
        STAGED.submission_id == submission.id, STAGED.action.in_((ADD, REPLACE)),
        STAGED.fatal.is_(False))
    if not spec.every_record:
        query = query.where(marked(MATCH, func.coalesce(
            func.trim(STAGED.fields[ssid_index].as_string()), "") == ""))
    result = MatchPlan(registry)
    if submission.resolves_suggestion_id is not None:
        lock(session)
        return _chosen(session, submission.resolves_suggestion_id, reader, query, result,
                       StoreSequence(session))
    unusable: list[tuple[int, list[str]]] = []
    asks = spec.every_record or staged_summary(session, submission.id).may_have(MATCH)
    rows = [(row, fields) for row, fields in session.execute(query.order_by(STAGED.row))
            if fields is not None] if asks else []  # fatal records lack fields: not matched
    if rows:  # a file with nothing to match files no identity: files post side by side
        lock(session)
    for start in range(0, len(rows), PREFETCH):
        chunk = [(row, fields, *reader.read(fields, row))
                 for row, fields in rows[start:start + PREFETCH]]
        registry.prefetch([person for _, _, person, _ in chunk])
        for row, fields, person, problems in chunk:
            outcome = matcher.match(row, person, held=bool(problems))
            result.records[row] = (person, fields, outcome)
            if problems:
                unusable.append((row, sorted({p.field or "" for p in problems})))
    for row, revised in matcher.reconcile().items():
        person, fields, _ = result.records[row]
        result.records[row] = (person, fields, revised)
    _mark_unusable(session, submission.id, layout, unusable)
    merges = session.scalar(select(Identity.ssid).where(Identity.merged_into.is_not(None))
                            .limit(1))
    if not spec.every_record and merges is not None:  # else no SSID can redirect
        given = STAGED.fields[ssid_index].as_string()
        for row, merged in session.execute(
                select(STAGED.row, STAGED.fields).join(Identity, Identity.ssid == given)
                .where(STAGED.submission_id == submission.id,
                       STAGED.action.in_((ADD, REPLACE)), Identity.merged_into.is_not(None))):
            survivor = registry.current_ssid(merged[ssid_index].strip()) if merged else None
            if merged and survivor is not None:
                result.redirects[row] = (merged, survivor)
    return result


def _chosen(session: Session, suggestion_id: int, reader: PersonReader, query: Any,
            result: MatchPlan, sequence: StoreSequence) -> MatchPlan:
    """A person's choice for a suggested record, sent as a file of one record: it is applied
    as chosen, not matched again (which would suggest the same again)."""
    suggestion = session.get(Suggestion, suggestion_id)
    rows = session.execute(query.order_by(STAGED.row)).all()
    if suggestion is None or not rows or rows[0][1] is None:
        return result
    row, fields = rows[0]
    person = reader.person(fields)
    if suggestion.chosen_ssid:
        chosen = Outcome(Decision.HARD, None, suggestion.chosen_ssid, (suggestion.chosen_ssid,))
    else:
        chosen = Outcome(Decision.NEW, None, sequence.take(), ())
    result.records[row] = (person, fields, chosen)
    result.resolves = suggestion
    return result


def _mark_unusable(session: Session, submission_id: int, layout: Layout,
                   unusable: list[tuple[int, list[str]]]) -> None:
    spec = layout.matching
    if not unusable or spec is None:
        return
    titles = {f.name: f.title for f in layout.fields}
    rows = []
    for row, names in unusable:
        shown = ", ".join(titles.get(spec.fields.get(n, ""), n) for n in names)
        message = (f"Row {row} cannot be matched to an SSID: {shown} cannot be used for "
                   "matching (blank, punctuation only or not a real value).")
        issues = [{"field": None, "field_name": shown, "code": "unmatchable",
                   "severity": "fatal", "message": message}]
        session.execute(update(STAGED).where(STAGED.submission_id == submission_id,
                                             STAGED.row == row)
                        .values(fatal=True, action=None, issues=issues))
        rows.append((submission_id, row, None, shown, "unmatchable", Severity.FATAL.value,
                     message, None))
    keep_issues(session, submission_id, rows, cap=len(rows))
    actions_changed(session, submission_id)


def apply(session: Session, submission: Submission, layout: Layout, match: MatchPlan,
          context: MatchingContext) -> int:
    """Write the outcome of an accepted file: SSIDs into its records, new identities, hard
    matches into the registry (where the layout says so), suggestions. Returns how many
    records wait in Review Suggestions."""
    spec = layout.matching
    if spec is None:
        return 0
    keys = KeyMaker(layout)
    ssid_index = [f.name for f in layout.fields].index(spec.fields["ssid"])
    reader = PersonReader(layout, context.ssn_key)
    waiting = 0
    changed: list[dict[str, Any]] = []  # staged records rewritten, one executemany at the end

    def rewrite(row: int, posted: list[str]) -> None:
        changed.append({"submission_id": submission.id, "row": row, "fields": posted,
                        "op_key": keys.op_key(posted), "set_key": keys.set_key(posted)})

    for row, (fields, survivor) in match.redirects.items():  # a merged SSID posts as its own
        rewrite(row, [*fields[:ssid_index], survivor, *fields[ssid_index + 1:]])
    for row, (person, fields, outcome) in sorted(match.records.items()):
        if outcome.decision is Decision.ERROR:
            continue
        if outcome.decision is Decision.SUGGESTED:
            waiting += 1
            session.add(Suggestion(submission_id=submission.id, row=row,
                                   institution_id=submission.institution_id,
                                   collection=submission.collection, fields=fields,
                                   level=outcome.level, candidates=list(outcome.candidates),
                                   status="waiting"))
            changed.append({"submission_id": submission.id, "row": row, "action": SUGGESTED})
            continue
        posted = list(fields)
        posted[ssid_index] = outcome.ssid
        identity = person._replace(ssid=outcome.ssid)
        if outcome.decision is Decision.NEW:
            file_identity(session, identity, context.nicknames,
                          institution_id=submission.institution_id,
                          record_type=layout.record_type,
                          fields=reader.private(posted, identity), submission_id=submission.id)
        elif spec.updates_identity:
            update_identity(session, identity, context.nicknames,
                            fields=reader.private(posted, identity), submission_id=submission.id)
        rewrite(row, posted)
    for kind in ({"action"}, {"fields", "op_key", "set_key"}):  # executemany wants one shape
        same = [c for c in changed if kind <= c.keys()]
        if same:
            session.execute(update(STAGED), same)
    if any("action" in c for c in changed):  # records held for review have no action now
        actions_changed(session, submission.id)
    _resolve(session, match)
    session.flush()
    return waiting


def _resolve(session: Session, match: MatchPlan) -> None:
    """A posted choice decides its suggestion and leaves the original file's count."""
    if match.resolves is None:
        return
    decided = match.records and next(iter(match.records.values()))[2]
    if decided and decided.decision in (Decision.HARD, Decision.NEW):
        match.resolves.status = "matched" if decided.decision is Decision.HARD else "new"
        match.resolves.chosen_ssid = decided.ssid
        session.execute(update(Submission).where(
            Submission.id == match.resolves.submission_id, Submission.suggested > 0)
            .values(suggested=Submission.suggested - 1))
