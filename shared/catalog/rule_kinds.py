"""The closed vocabulary of record-rule kinds: one parameter model per kind, and RecordRule.

A layout writes a rule flat (``kind: required-when``, ``field: ...``, ``when: ...``); the keys
that are not common to every rule are the kind's parameters, validated by the kind's model in
``RULE_KINDS``. Each kind is compiled by ``services/validate/rules/record.py`` (a unit test
checks both lists are the same). A kind whose message is boilerplate has a ``template`` that
fills a rule's message when the layout gives none, naming fields by their titles.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field, ValidationError, model_validator

from shared.catalog.base import Condition, Severity, Strict, either


class _Reads:
    """Marks a parameter that names a field of the record (RecordRule.reads)."""


READS = _Reads()
FieldName = Annotated[str, READS]
YearStart = Annotated[str, Field(pattern=r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")]


class RuleParams(Strict):
    """Base of the parameter models. ``about`` names the parameter holding the field an issue
    is reported on; ``template`` is the kind's message (``{parameter}`` placeholders)."""

    kind: ClassVar[str]
    about: ClassVar[str] = "field"
    template: ClassVar[str | None] = None


class Conditional(RuleParams):
    """Base of the kinds that apply only when ``when`` holds (the engine tests ``when``)."""

    field: FieldName
    when: Condition


class RequiredWhen(Conditional):
    """``field`` must be populated when ``when`` holds."""

    kind = "required-when"
    template = "{field} is required when {when}."


class BlankWhen(Conditional):
    """``field`` must be blank when ``when`` holds."""

    kind = "blank-when"
    template = "{field} must be blank when {when}."


class AllowedWhen(Conditional):
    """``field`` must be one of ``values`` when ``when`` holds."""

    kind = "allowed-when"
    template = "{field} must be {values} when {when}."
    values: tuple[str, ...] = Field(min_length=1)


class ExcludedWhen(Conditional):
    """``field`` must not be one of ``values`` when ``when`` holds."""

    kind = "excluded-when"
    template = "{field} must not be {values} when {when}."
    values: tuple[str, ...] = Field(min_length=1)


class RangeWhen(Conditional):
    """``field`` must be a number from ``minimum`` to ``maximum`` (inclusive) when ``when``
    holds; blank or not a number fails."""

    kind = "range-when"
    template = "{field} must be a number from {minimum} to {maximum} when {when}."
    minimum: float
    maximum: float


class CurrentYearWhen(Conditional):
    """``field`` (an academic year CCYY-CCYY) must be the academic year of the submission date
    when ``when`` holds; a year starts on ``year_starts`` (MM-DD)."""

    kind = "current-year-when"
    year_starts: YearStart = "07-01"


class DateOrder(RuleParams):
    """``later`` must be after ``earlier`` (or equal when ``or_equal``), except when ``unless``
    holds (the seed's "If ... THEN ... ELSE must be greater than": the ELSE branch)."""

    kind = "date-order"
    about = "later"
    earlier: FieldName
    later: FieldName
    or_equal: bool = False
    unless: Condition | None = None


class DateWindow(RuleParams):
    """``field`` must not be later than the submission date plus ``days``."""

    kind = "date-window"
    field: FieldName
    days: int


class YearWindow(RuleParams):
    """``field`` (an academic year CCYY-CCYY) must not be later than the academic year of the
    submission date plus ``years`` (0: not in the future); a year starts on ``year_starts``."""

    kind = "year-window"
    field: FieldName
    years: int
    year_starts: YearStart = "07-01"


class Different(RuleParams):
    """``field`` must not equal ``other`` when both are populated."""

    kind = "different"
    template = "{field} must not be the same as {other}."
    field: FieldName
    other: FieldName


RULE_KINDS: dict[str, type[RuleParams]] = {k.kind: k for k in (
    RequiredWhen, BlankWhen, AllowedWhen, ExcludedWhen, RangeWhen, CurrentYearWhen,
    DateOrder, DateWindow, YearWindow, Different)}
_COMMON = frozenset({"id", "spec_rule_id", "kind", "code", "severity", "message", "source"})


class RecordRule(Strict):
    """A rule across fields of one record: common keys, and ``params`` of its kind's model.

    Rules are skipped when a field they read has already failed its own field checks.
    """

    id: str  # our id, e.g. "SENR-R001"
    spec_rule_id: str | None = None  # the state's rule id, verbatim, when it publishes one
    kind: str
    params: RuleParams
    code: str
    severity: Severity = Severity.FATAL
    message: str | None = None  # what the user reads; None: the kind's template
    source: str  # where in the seed, e.g. "CFS Table 3-1, 1.22"

    @model_validator(mode="before")
    @classmethod
    def _params_of_kind(cls, data: Any) -> Any:
        """Gather the keys that are not common to all rules and validate them by the kind."""
        if not isinstance(data, dict):
            return data
        where = f"rule {data.get('id')} ({data.get('kind')})"
        model = RULE_KINDS.get(data.get("kind"))  # type: ignore[arg-type]
        if model is None:
            raise ValueError(f"{where}: unknown kind; the kinds are {', '.join(RULE_KINDS)}")
        params = data.get("params", {k: v for k, v in data.items() if k not in _COMMON})
        if not isinstance(params, model):
            try:
                params = model.model_validate(params)
            except ValidationError as exc:
                raise ValueError(f"{where}: " + "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                ) from None
        if data.get("message") is None and model.template is None:
            raise ValueError(f"{where}: needs a message (the kind has no template)")
        return {k: v for k, v in data.items() if k in _COMMON} | {"params": params}

    def reads(self) -> tuple[str, ...]:
        """Names of the fields the rule reads (the engine skips it when one already failed)."""
        names: list[str] = []
        for name, info in type(self.params).model_fields.items():
            value = getattr(self.params, name)
            if isinstance(value, Condition):
                names.append(value.field)
            elif READS in info.metadata:
                names.append(value)
        return tuple(names)

    @property
    def about(self) -> str:
        """The field an issue of the rule is reported on."""
        name: str = getattr(self.params, type(self.params).about)
        return name

    def text(self, titles: Mapping[str, str]) -> str:
        """The message: the layout's, or the kind's template with fields named by ``titles``."""
        if self.message is not None:
            return self.message
        words: dict[str, str] = {}
        for name, info in type(self.params).model_fields.items():
            value = getattr(self.params, name)
            if isinstance(value, Condition):
                words[name] = value.said(titles[value.field])
            elif READS in info.metadata:
                words[name] = titles[value]
            elif isinstance(value, tuple):
                words[name] = either(value)
            else:
                words[name] = f"{value:g}" if isinstance(value, float) else str(value)
        return str(type(self.params).template).format_map(words)


# Kinds added for SINF and SPRG (issue 12). They are registered here, after RecordRule, so
# kinds other layouts add can sit beside them without touching the lines above.


class AgeOn(RuleParams):
    """The age in whole years on the date ``at``, of someone born on ``born`` (both CCYYMMDD),
    must be at least ``minimum`` and, when given, at most ``maximum``. A birthday on 29 February
    comes on 1 March in other years. A blank date is its own field's business."""

    kind = "age-on"
    about = "at"
    born: FieldName
    at: FieldName
    minimum: int = Field(ge=0)
    maximum: int | None = None


class DateInYear(RuleParams):
    """``field`` (a CCYYMMDD date) must fall within the academic year CCYY-CCYY that ``year``
    names; a year starts on ``year_starts`` (MM-DD). Either one blank: not checked."""

    kind = "date-in-year"
    template = "{field} must be within the academic year given in {year}."
    field: FieldName
    year: FieldName
    year_starts: YearStart = "07-01"


class CurrentYearDateWhen(Conditional):
    """``field`` (a CCYYMMDD date) must fall within the academic year of the submission date
    when ``when`` holds; a year starts on ``year_starts`` (MM-DD). A blank date is not
    checked."""

    kind = "current-year-date-when"
    year_starts: YearStart = "07-01"


RULE_KINDS.update({k.kind: k for k in (AgeOn, DateInYear, CurrentYearDateWhen)})

# Kinds added for SPED and SDEM (issue 12), after RecordRule so kinds other layouts add sit
# beside them.


class AtMost(RuleParams):
    """``field`` (a number) must not be greater than ``other`` (a number) of the same record.
    Either one blank or not a number: not checked (its own field's business)."""

    kind = "at-most"
    template = "{field} must not be greater than {other}."
    field: FieldName
    other: FieldName


class RequiredWhenBoth(Conditional):
    """``field`` must be populated when ``when`` and ``also`` both hold: a condition on two
    fields (the engine tests ``when``, the rule ``also``)."""

    kind = "required-when-both"
    template = "{field} is required when {when} and {also}."
    also: Condition


RULE_KINDS.update({k.kind: k for k in (AtMost, RequiredWhenBoth)})

# Kinds added in the new-user trial (issue 12), after RecordRule as above.


class DateNearWhen(Conditional):
    """``field`` (a CCYYMMDD date) must be from ``days_before`` days before ``other`` to
    ``days_after`` days after it when ``when`` holds. Either date blank or not a date: not
    checked (its own field's business)."""

    kind = "date-near-when"
    other: FieldName
    days_before: int = Field(default=0, ge=0)
    days_after: int = Field(default=0, ge=0)


RULE_KINDS.update({k.kind: k for k in (DateNearWhen,)})

# Kinds added for STAS and SENR (issue 12), after RecordRule so kinds other layouts add sit
# beside them.


class AtMostDifference(RuleParams):
    """``field`` (a number) must not be greater than ``other`` less ``less`` (numbers of the
    same record: "must be < or = Expected Attendance Days less Days Attended"), compared as
    decimals. Any of them blank or not a number: not checked (required rules say whether one
    must be there)."""

    kind = "at-most-difference"
    template = "{field} must not be greater than {other} less {less}."
    field: FieldName
    other: FieldName
    less: FieldName


class OpenRange(RuleParams):
    """``field`` (a number) must be greater than ``above`` and less than ``below`` (neither
    bound allowed: "must be > 0 and < 256"). A blank is not checked."""

    kind = "open-range"
    template = "{field} must be greater than {above} and less than {below}."
    field: FieldName
    above: float
    below: float


class MonthDayWhen(Conditional):
    """``field`` (a CCYYMMDD date) must fall from ``starts`` to ``ends`` (MM-DD, both days
    included) of its own year when ``when`` holds ("Enrollment Exit Date must be between March
    31st and August 15"); a window with ``starts`` after ``ends`` runs over the new year. A
    blank date is not checked."""

    kind = "month-day-when"
    starts: YearStart
    ends: YearStart


class AgeOnWhen(Conditional):
    """``age-on`` under a condition: the age in whole years on the date ``field``, of someone
    born on ``born``, must be at least ``minimum`` and at most ``maximum`` (each when given)
    when ``when`` holds, and ``also`` when given (a condition on a second field: the engine
    tests ``when``, the rule ``also``). A blank date is its own field's business."""

    kind = "age-on-when"
    born: FieldName
    minimum: int | None = Field(default=None, ge=0)
    maximum: int | None = None
    also: Condition | None = None


class AllowedWhenBoth(Conditional):
    """``field`` must be one of ``values`` when ``when`` and ``also`` both hold: an
    ``allowed-when`` on two fields (the engine tests ``when``, the rule ``also``)."""

    kind = "allowed-when-both"
    template = "{field} must be {values} when {when} and {also}."
    values: tuple[str, ...] = Field(min_length=1)
    also: Condition


RULE_KINDS.update({k.kind: k for k in (AtMostDifference, OpenRange, MonthDayWhen, AgeOnWhen,
                                       AllowedWhenBoth)})
