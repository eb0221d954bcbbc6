"""Offline validation of a file (``edcs validate``): the pipeline's checks without a broker.

Runs the same preliminary checks, reader and rules as ingest and validate, so a file that passes
here passes there (except for rules that need the state's store, which run only in the pipeline).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.validate.engine import Context, validator_for
from shared.catalog.loader import Catalog
from shared.catalog.models import Acceptance, Layout, Method
from shared.formats.source import read_file
from shared.intake import check_upload
from shared.issues import Issue
from shared.windows import Window, required_year
from shared.within_file import Repeats

# A file that cannot be read as records at all: exit 2 (design.md §8), whatever its format.
UNREADABLE = {"binary-file", "unknown-collection", "unsupported-format", "unsupported-extension",
              "archive-unreadable", "archive-members", "archive-nested", "archive-encrypted",
              "archive-too-large", "macro-workbook", "xlsx-unreadable", "xml-malformed",
              "xml-forbidden"}


@dataclass
class Report:
    """The outcome of validating one file offline."""

    collection: str
    records: int = 0
    issues: list[Issue] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    rejected_records: int = 0
    acceptance: Acceptance | None = None

    skipped: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """Whether the file would post: all-or-nothing, with no fatal issue at all; where valid
        records post (ODE-SSID), with no file-level fatal issue and one valid record or more."""
        if self.records == 0 or any(i.fatal and i.row is None for i in self.issues):
            return False
        if self.acceptance is Acceptance.VALID_RECORDS_POST:
            return self.rejected_records < self.records
        return self.rejected_records == 0 and not any(i.fatal for i in self.issues)

    @property
    def unreadable(self) -> bool:
        """The file cannot be read as records of the collection at all."""
        return any(i.code in UNREADABLE for i in self.issues)

    def to_json(self) -> dict[str, Any]:
        """The JSON contract of design.md §8."""
        return {
            "collection": self.collection, "records": self.records, "accepted": self.accepted,
            "rejected_records": self.rejected_records,
            # "field" is the seed's name (design.md §8); field_id and field_name as the API has
            "errors": [{"row": i.row, "field": i.field_name, "field_id": i.field,
                        "field_name": i.field_name,
                        "code": i.code, "severity": i.severity.value, "message": i.message,
                        "rule_id": i.rule_id} for i in self.issues],
            "counts": dict(self.counts), "skipped": self.skipped,
        }


def store_rules(layout: Layout, catalog: Catalog) -> list[str]:
    """What only the pipeline checks for this layout, because it needs what is already posted
    or reference data in the store (``store_rules.yaml``, the CDS directory)."""
    said = [f"{r.id} {r.code}: {r.message.split('. ')[0].rstrip('.')}"
            for r in catalog.store_rules(layout.record_type)]
    if layout.matching is not None:
        said.append("SSID matching (needs the state's registry): a record may be matched, "
                    "given a new SSID or wait for review")
    if layout.method is Method.REPLACEMENT:
        said.append("replace-missing: a Delete or Replace whose key has nothing posted")
    if layout.method is Method.EFFECTIVE_DATE:
        said.append("delete-last-record: a Delete that would empty a posted timeline")
    return said


def validate_file(path: Path, collection_code: str, catalog: Catalog,
                  max_issues_per_code: int = 1000, today: dt.date | None = None,
                  institution_id: str | None = None,
                  max_unpacked: int = 2_000_000_000,
                  windows: tuple[Window, ...] | None = None) -> Report:
    """Check a file; every issue is reported, up to a cap per code (counted beyond it).

    ``institution_id`` is the submitter, when given: the Reporting LEA and a Type A header's
    InstID are checked against it, as at upload. ``windows``: the collection windows the
    collection's academic year comes from (None: the shipped file), as in the pipeline.
    """
    report = Report(collection=collection_code.upper())
    with path.open("rb") as stream:
        intake = check_upload(catalog, collection_code, stream, filename=path.name,
                              institution_id=institution_id, max_unpacked=max_unpacked)
        report.acceptance = intake.collection.acceptance if intake.collection else None
        if not intake.accepted or intake.layout is None or intake.format is None:
            report.issues = intake.issues
            report.counts.update(i.code for i in intake.issues)
            return report
        report.skipped = store_rules(intake.layout, catalog)
        validator = validator_for(intake.layout, catalog)
        repeats = Repeats(intake.layout)
        # An all-or-nothing file is rejected by any error: rows with errors are compared too
        # (on the fields that passed), so a repeat is said in the same round as the errors.
        every_row = (intake.collection is not None
                     and intake.collection.acceptance is Acceptance.ALL_OR_NOTHING)
        repeated_rows: set[int] = set()  # rows counted as rejected that an earlier can name
        day = today or dt.date.today()
        year = required_year(intake.layout, windows, report.collection, day)
        context = Context(institution_id=institution_id, submitted_on=day, collection_year=year)
        for raw in read_file(stream, intake.layout, intake.format,
                             max_unpacked=max_unpacked):
            report.records += 1
            issues, earlier = raw.issues, []
            if raw.fields is not None:
                issues = issues + validator.validate(raw.fields, raw.row, context)
                failed = (frozenset(i.field or "" for i in issues if i.fatal) if issues
                          else _NONE_FAILED)
                repeated = ([] if failed and not every_row
                            else repeats.check(raw.row, raw.fields, failed))
                if failed and every_row:
                    repeated_rows.add(raw.row)  # counted below; not again as an earlier
                if repeated:
                    earlier = [i for i in repeated if i.row != raw.row]
                    own = [i for i in repeated if i.row == raw.row]
                    issues = issues + own
                    if own:
                        repeated_rows.add(raw.row)  # counted below; not again as an earlier
            if not issues and not earlier:
                continue  # the common case, kept short: this runs for every record
            if _fatal(issues):
                report.rejected_records += 1
            # An earlier row of a repeated operational key was valid on its own until now.
            newly = {i.row for i in earlier if i.row is not None} - repeated_rows
            report.rejected_records += len(newly)
            repeated_rows.update(newly)
            for issue in issues + earlier:
                report.counts[issue.code] += 1
                if report.counts[issue.code] <= max_issues_per_code:
                    report.issues.append(issue)
    return report


_NONE_FAILED: frozenset[str] = frozenset()


def _fatal(issues: list[Issue]) -> bool:
    return bool(issues) and any(i.fatal for i in issues)
