"""Rules that need what is already in the store (``store_rules.yaml``): posted enrollments and
the CDS directory.

They run at the post barrier, read-only, over the staged records of the whole file
(``services/post/store_rules.py``); ``edcs validate`` has no store and lists them as skipped.
Kinds, a closed vocabulary like the record rules':

- ``enrollment``: the student (the record's ``ssid``) has an enrollment posted for the same
  ``scope`` (``school``: the School of Attendance and Reporting LEA; ``lea``: the Reporting LEA);
  with ``covers``, one whose start date is on or before the record's date field ``covers`` and
  whose exit date is blank or on or after it. ``when`` limits the rule to some records.
- ``no-overlap`` (the enrollments' own record type): the record's enrollment (from its start
  date to its exit date, open when blank) must not overlap another enrollment of the student
  posted at the same School of Attendance and Reporting LEA. Enrollments that touch on one day
  (one's exit date is the other's start date) do not overlap. Not compared: the record's own
  stored enrollment (the same operational key: an update), and what the file removes (its
  Deletes, and the replace sets of its Replaces). A blank SSID (to be matched) is not checked.
- ``in-directory``: the code in ``field`` (the layout's school field unless said) is an
  ``entry`` (``school`` or ``lea``) of the CDS directory, active on the day the file was
  received; a school must report to the Reporting LEA unless ``reporting: false`` (an NPS
  reports to none); with ``category``, the entry must be of it (``charter``, ``nps``), with
  ``not_category`` it must not (an NPS is no School of Course Delivery). A blank
  code is not checked (the record rules say when it is required). ``exempt``: codes that are
  not entries of the directory (NPS ``0000001``...).
- ``reports-as-itself``: if the code in ``field`` is an LEA of the directory of ``category``
  (an independently reporting charter: ``charter``), the Reporting LEA is that code.

The directory kinds apply only to a Reporting LEA the directory lists (a directory that does
not list an LEA says nothing about its records).

Delete records are not checked (a Delete removes what the store has).
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from shared.catalog.base import Condition, Severity, Strict
from shared.catalog.models import FieldSpec, FieldType, Layout


class Enrollments(Strict):
    """Where the enrollments are: the posted records of ``record_type`` and the names of the
    fields that hold the student, the dates (CCYYMMDD) and the places."""

    record_type: str
    ssid: str
    starts: str
    ends: str


class StoreRule(Strict):
    """One rule of ``store_rules.yaml``."""

    id: str  # our id, e.g. "SPRG-S001"
    spec_rule_id: str | None = None
    record_type: str
    kind: Literal["enrollment", "in-directory", "reports-as-itself", "no-overlap"]
    scope: Literal["school", "lea"] = "school"
    ssid: str = "ssid"  # the record's field that names the student
    covers: str | None = None
    when: Condition | None = None
    exempt: tuple[str, ...] = ()
    field: str | None = None  # the directory kinds: the code's field (default: the school)
    entry: Literal["school", "lea"] = "school"
    reporting: bool = True
    category: Literal["charter", "nps"] | None = None
    not_category: Literal["charter", "nps"] | None = None
    code: str
    severity: Severity = Severity.FATAL
    message: str  # what the user reads; "Row N: " goes before it
    source: str

    @model_validator(mode="after")
    def _condition_in_sql(self) -> StoreRule:
        if self.when is not None and self.when.between is not None:
            raise ValueError(f"rule {self.id}: 'when' may test 'in' or 'populated' only")
        if self.kind == "reports-as-itself" and self.category is None:
            raise ValueError(f"rule {self.id}: reports-as-itself needs a category")
        if self.kind == "enrollment" and self.field is not None:
            raise ValueError(f"rule {self.id}: an enrollment rule has no field")
        return self

    def reads(self) -> tuple[str, ...]:
        """Names of the record's fields the rule reads."""
        names = (self.ssid if self.kind in ("enrollment", "no-overlap") else None, self.covers,
                 self.when.field if self.when else None, self.field)
        return tuple(n for n in names if n is not None)


class StoreRules(Strict):
    """The whole ``store_rules.yaml``."""

    enrollments: Enrollments
    rules: tuple[StoreRule, ...]


def check_store_rules(store: StoreRules, layouts: dict[str, Layout], codes: set[str]
                      ) -> list[str]:
    """Every problem of the file against the layouts and the issue codes."""
    problems: list[str] = []
    source = layouts.get(store.enrollments.record_type)
    if source is None:
        return [f"store_rules.yaml: no layout {store.enrollments.record_type} for enrollments"]
    fields = {f.name: f for f in source.fields}
    said = store.enrollments
    problems += [f"store_rules.yaml: enrollments name unknown field {n}"
                 for n in (said.ssid, said.starts, said.ends) if n not in fields]
    problems += _ccyymmdd("enrollments", fields, (said.starts, said.ends))
    if source.school_field is None or source.lea_field is None:
        problems.append("store_rules.yaml: enrollments need a layout with a school and an LEA")
    ids = [r.id for r in store.rules]
    problems += [f"store_rules.yaml: rule {i} listed twice" for i in sorted(set(ids))
                 if ids.count(i) > 1]
    for rule in store.rules:
        where = f"store_rules.yaml rule {rule.id}"
        layout = layouts.get(rule.record_type)
        if layout is None:
            problems.append(f"{where}: no layout {rule.record_type}")
            continue
        mine = {f.name: f for f in layout.fields}
        problems += [f"{where}: unknown field {n}" for n in rule.reads() if n not in mine]
        problems += _ccyymmdd(where, mine, (rule.covers,))
        if layout.lea_field is None or (rule.scope == "school" and layout.school_field is None):
            problems.append(f"{where}: layout {rule.record_type} has no school or LEA field")
        if rule.code not in codes:
            problems.append(f"{where}: unregistered issue code {rule.code}")
        if rule.kind == "no-overlap" and rule.record_type != said.record_type:
            problems.append(f"{where}: no-overlap compares enrollments, records of "
                            f"{said.record_type}")
    return problems


def _ccyymmdd(where: str, fields: dict[str, FieldSpec], names: tuple[str | None, ...]
              ) -> list[str]:
    """Dates are compared as text in the store, which holds only for CCYYMMDD."""
    return [f"{where}: {n} is not a CCYYMMDD date field" for n in names
            if n in fields and (fields[n].type is not FieldType.DT
                                or fields[n].date_format != "CCYYMMDD")]
