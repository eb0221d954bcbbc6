"""How much of each seed's stated validations the catalog implements (``coverage/*.yaml``).

A coverage file lists, for one layout, every validation its seed states (counted as
docs/decisions.md "Coverage of the seeds' validations" says), each either ``implemented_by``
something of the layout (record rules or rules on the store, a field's check, a
``unique_in_file`` group, a layout setting the engine enforces) or ``missing`` with a reason
from the closed list ``Reason``. A framing or whole-file rule the format readers check (header
row, EDFacts header record, record count, file name) is implemented by ``format``: the stable
issue code (``issues.yaml``) the reader raises. The files are data the ``edcs catalog
coverage`` command reads; ``check_coverage`` keeps them honest against the layouts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from shared.catalog.loader import CATALOG_DIR, Catalog, default_catalog
from shared.catalog.models import FieldSpec, Layout, Strict

COVERAGE_DIR = CATALOG_DIR / "coverage"


class Reason(StrEnum):
    """Why a stated validation is not implemented: the closed list of reason kinds."""

    NEEDS_POSTED_DATA = "needs-posted-data"  # stored records (ODS): enrollments, SSIDs, history
    NEEDS_REFERENCE_DATA = "needs-reference-data"  # CDS, CCTC, Valid Code Combinations, Error List
    CROSS_RECORD = "cross-record"  # compares records of the file and the stored ones
    NO_RULE_KIND = "no-rule-kind"  # one record, but no rule kind says it (age, numeric range...)
    OTHER_RECORD_TYPES = "other-record-types"  # records of another type must exist
    SEED_GARBLED = "seed-garbled"  # the statement has no consequence or does not parse
    SEED_CONTRADICTORY = "seed-contradictory"  # the seed says two things; none is followed
    UI_ONLY = "ui-only"  # applies to the state's web pages, not to files


REASON_TITLES: dict[Reason, str] = {
    Reason.NEEDS_POSTED_DATA: "needs posted data (stored records no file carries)",
    Reason.NEEDS_REFERENCE_DATA: "needs reference data no seed describes",
    Reason.CROSS_RECORD: "compares records across the file and the stored records",
    Reason.NO_RULE_KIND: "no rule kind can say it",
    Reason.OTHER_RECORD_TYPES: "needs records of another type",
    Reason.SEED_GARBLED: "garbled in the seed",
    Reason.SEED_CONTRADICTORY: "contradictory in the seed",
    Reason.UI_ONLY: "for the state's web pages only",
}

# The field attributes a field check of ``implemented_by`` can name.
FieldCheckName = Literal["required", "allowed", "codeset", "pattern", "charset", "type",
                         "max-length", "ssid", "academic-year"]
# Layout settings the engine or posting enforces on every record.
LayoutSetting = Literal["lea_field", "operation_field", "operational_key", "framing",
                        "effective_start_field", "record_rules", "effects",
                        "key_unique_in_file", "window_year_field", "matching",
                        "required_when_repeated"]

# Issue codes a format reader raises only when the layout's framing asks for it: the framing
# attribute that must be set for ``format: <code>`` to be honest.
FORMAT_NEEDS: dict[str, str] = {
    "header": "header", "header-record": "header_record", "record-count": "header_record",
    "file-name": "file_name", "record-length": "fixed_width", "type-a-header": "type_a",
    "type-a-collection": "type_a", "type-a-institution": "type_a",
}


class ImplementedBy(Strict):
    """What implements a stated validation: exactly one of rules, a field check, a
    ``unique_in_file`` group, a layout setting or a format check (the issue code a format
    reader raises: ``header``, ``header-record``, ``record-count``, ``file-name``...)."""

    rules: tuple[str, ...] = ()
    field: str | None = None
    check: FieldCheckName | None = None
    unique_in_file: tuple[str, ...] = ()
    layout: LayoutSetting | None = None
    format: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ImplementedBy:
        given = [bool(self.rules), self.field is not None, bool(self.unique_in_file),
                 self.layout is not None, self.format is not None]
        if sum(given) != 1:
            raise ValueError("implemented_by needs exactly one of rules, field, unique_in_file, "
                             "layout, format")
        if (self.field is None) != (self.check is None):
            raise ValueError("implemented_by: field and check go together")
        return self


class Missing(Strict):
    """Why a stated validation is not implemented."""

    reason: Reason
    also: tuple[Reason, ...] = ()  # further reasons, e.g. reference data besides posted data
    note: str


class Validation(Strict):
    """One stated validation of the seed."""

    id: str  # the seed's id: "12.13 #7", "9.27 Required", "8.15-8.21 #2"
    statement: str  # a short quote or summary
    count: int = Field(default=1, gt=0)  # one entry may stand for repeats on several fields
    implemented_by: tuple[ImplementedBy, ...] = ()
    partial: str | None = None  # what part is implemented, when only a part is
    missing: Missing | None = None

    @model_validator(mode="after")
    def _implemented_or_missing(self) -> Validation:
        if bool(self.implemented_by) == (self.missing is not None):
            raise ValueError(f"validation {self.id}: needs exactly one of implemented_by, "
                             "missing")
        if self.partial is not None and not self.implemented_by:
            raise ValueError(f"validation {self.id}: partial belongs to implemented ones")
        return self

    @property
    def implemented(self) -> bool:
        """Whether the catalog implements it (perhaps only in part)."""
        return self.missing is None


class Coverage(Strict):
    """The coverage record of one layout."""

    record_type: str
    source: str  # the seed and table the validations are counted from
    counted: bool = True  # False: the seed's statements are not all transcribed yet
    note: str | None = None
    validations: tuple[Validation, ...]

    @property
    def stated(self) -> int:
        """How many validations the seed states (as far as transcribed)."""
        return sum(v.count for v in self.validations)

    @property
    def implemented(self) -> int:
        """How many of them are implemented (in whole or in part)."""
        return sum(v.count for v in self.validations if v.implemented)

    def missing_by_reason(self) -> dict[Reason, list[Validation]]:
        """The missing validations grouped by their reason, in the order of ``Reason``."""
        groups: dict[Reason, list[Validation]] = {}
        for reason in Reason:
            found = [v for v in self.validations if v.missing and v.missing.reason is reason]
            if found:
                groups[reason] = found
        return groups


class CoverageError(Exception):
    """The coverage files are inconsistent with the catalog; the message lists every problem."""


def _field_has(spec: FieldSpec, check: str) -> bool:
    has = {
        "required": spec.required, "allowed": spec.allowed is not None,
        "codeset": spec.codeset is not None, "pattern": spec.pattern is not None,
        "charset": spec.charset is not None, "type": spec.type.value in ("DT", "NU"),
        "max-length": True,
    }
    if check in has:
        return has[check]
    return any(c.value == check for c in spec.checks)


def _check_format(layout: Layout, code: str, issue_codes: frozenset[str]) -> list[str]:
    if code not in issue_codes:
        return [f"unknown issue code {code}"]
    needs = FORMAT_NEEDS.get(code)
    if needs is not None and not getattr(layout.framing, needs):
        return [f"format check {code} needs framing {needs}, which is not set"]
    return []


def _check_implementation(layout: Layout, item: ImplementedBy, store_rule_ids: frozenset[str],
                          issue_codes: frozenset[str]) -> list[str]:
    rule_ids = {r.id for r in layout.record_rules} | store_rule_ids
    fields = {f.name: f for f in layout.fields}
    problems = [f"unknown rule {r}" for r in item.rules if r not in rule_ids]
    if item.field is not None and item.check is not None:
        spec = fields.get(item.field)
        if spec is None:
            problems.append(f"unknown field {item.field}")
        elif not _field_has(spec, item.check):
            problems.append(f"field {item.field} has no {item.check} check")
    if item.unique_in_file and item.unique_in_file not in layout.unique_in_file:
        problems.append(f"no unique_in_file group {list(item.unique_in_file)}")
    if item.layout is not None and not getattr(layout, item.layout):
        problems.append(f"layout setting {item.layout} is not set")
    if item.format is not None:
        problems += _check_format(layout, item.format, issue_codes)
    return problems


def check_coverage(coverage: Coverage, layout: Layout,
                   store_rule_ids: frozenset[str] = frozenset(),
                   issue_codes: frozenset[str] = frozenset()) -> list[str]:
    """Every problem of ``coverage`` against its layout (and the ids of its rules on the store,
    ``store_rules.yaml``, and the catalog's issue codes, ``issues.yaml``): unknown rules, fields
    without the named check, unknown ``unique_in_file`` groups, format checks naming an unknown
    issue code or one the layout's framing never raises, repeated ids."""
    where = f"coverage {coverage.record_type}"
    problems: list[str] = []
    ids = [v.id for v in coverage.validations]
    problems += [f"{where}: validation {i} listed twice" for i in sorted(set(ids))
                 if ids.count(i) > 1]
    for validation in coverage.validations:
        for item in validation.implemented_by:
            problems += [f"{where} {validation.id}: {p}"
                         for p in _check_implementation(layout, item, store_rule_ids,
                                                        issue_codes)]
    return problems


@dataclass(frozen=True)
class CoverageReport:
    """Every layout's coverage, keyed by record type."""

    coverages: dict[str, Coverage]


def load_coverage(catalog: Catalog, directory: Path = COVERAGE_DIR) -> CoverageReport:
    """Read every coverage file and check it against ``catalog``; every layout needs one."""
    problems: list[str] = []
    coverages: dict[str, Coverage] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            with path.open(encoding="utf-8") as fh:
                coverage = Coverage.model_validate(yaml.safe_load(fh))
        except (ValidationError, yaml.YAMLError) as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        if path.stem != coverage.record_type:
            problems.append(f"{path.name}: record_type is {coverage.record_type}")
        layout = catalog.layouts.get(coverage.record_type)
        if layout is None:
            problems.append(f"{path.name}: no layout {coverage.record_type}")
            continue
        problems += check_coverage(coverage, layout, frozenset(
            r.id for r in catalog.store_rules(layout.record_type)), frozenset(catalog.issue_types))
        coverages[coverage.record_type] = coverage
    problems += [f"layout {code} has no coverage file" for code in sorted(catalog.layouts)
                 if code not in coverages and not any(p.startswith(f"{code}.yaml")
                                                      for p in problems)]
    if problems:
        raise CoverageError("coverage problems:\n  " + "\n  ".join(problems))
    return CoverageReport(coverages=dict(sorted(coverages.items())))


@functools.cache
def default_coverage() -> CoverageReport:
    """The coverage files shipped with edcs, checked against the shipped catalog."""
    return load_coverage(default_catalog())
