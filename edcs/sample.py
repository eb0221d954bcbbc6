"""``edcs sample``: synthetic records of any collection, valid against its own layout and rules.

Values come from the layout alone (code sets, allowed lists, patterns, dates, checks), so a new
collection in the catalog gets a generator with no code. Optional fields stay blank (so the
conditional rules they would trigger do not fire); each record is checked with the validator
the pipeline runs, and a field that fails is drawn again until the record passes. Fields the
file must not repeat (``unique_in_file``, the operational key, SSIDs) carry the record's number.
With ``errors``, that fraction of records gets one deliberate error: a required field blanked
or a value too long, so the file is rejected with known counts.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from collections.abc import Iterator

from services.validate.engine import Context, Validator
from shared import institutions
from shared.catalog.loader import Catalog
from shared.catalog.models import FieldCheck, FieldSpec, FieldType, Layout
from shared.catalog.rule_kinds import (
    AgeOn,
    AgeOnWhen,
    AllowedWhen,
    AllowedWhenBoth,
    AtMost,
    AtMostDifference,
    OpenRange,
    RangeWhen,
)
from shared.matching.ssid import new_ssid
from shared.windows import Window, academic_year, required_year

ATTEMPTS = 40
NAMES = ("Garcia", "Nguyen", "Smith", "Lopez", "Kim", "Patel", "Brown", "Rivera", "Chen")
FIRST = ("Maria", "Ana", "James", "Wei", "Sofia", "Omar", "Lena", "Mateo", "Ava", "Noah")


class Sampler:
    """Draws records of one layout."""

    def __init__(self, layout: Layout, catalog: Catalog, institution: str, today: dt.date,
                 seed: int, windows: tuple[Window, ...] = ()) -> None:
        self.layout = layout
        self.catalog = catalog
        self.institution = institution
        self.today = today
        self.rng = random.Random(seed)
        self.validator = Validator(layout, catalog)
        window_year = required_year(layout, windows, layout.record_type, today)
        self.context = Context(institution_id=institution if layout.lea_field else None,
                               submitted_on=today, collection_year=window_year)
        self.year = academic_year(today)
        self.first_year = int(self.year[:4])
        self.window_year = window_year.years[0] if window_year else self.year
        self.id_base = self.rng.randrange(1, 9_000) * 100_000
        self.unique = {n for group in layout.unique_in_file for n in group}
        self.unique |= set(layout.operational_key)
        # One school for the file, unless the school field is what identifies each record.
        self.school = "" if (self.layout.school_field,) in (
            *layout.unique_in_file, layout.operational_key) else self._school()

    def _school(self) -> str:
        """A school of the institution from the reference file (the demo hierarchy), if it
        has one that fits the field, else a drawn value."""
        spec = next((f for f in self.layout.fields if f.name == self.layout.school_field), None)
        if spec is None:
            return ""
        for row in institutions.read_file(institutions.DEFAULT_FILE):
            if row.parent_id == self.institution and row.kind == "school" and (
                    not spec.pattern or re.fullmatch(spec.pattern, row.id)):
                return row.id
        return self._pattern_value(spec, 0) if spec.pattern else "3001"

    def _date(self, spec: FieldSpec) -> str:
        if "birth" in spec.name or spec.name == "dob":
            day = dt.date(2008, 1, 1) + dt.timedelta(days=self.rng.randrange(1500))
        else:  # in the current academic year, not after today
            start = dt.date(self.first_year, 8, 1)
            span = max(1, min((self.today - start).days, 200))
            day = start + dt.timedelta(days=self.rng.randrange(span))
        return day.strftime("%Y%m%d" if spec.date_format == "CCYYMMDD" else "%m%d%Y")

    def _pattern_value(self, spec: FieldSpec, n: int) -> str:
        pattern = re.compile(spec.pattern or ".*")
        lengths = [spec.max_length] + [int(x) for x in re.findall(r"\{(\d+)", spec.pattern or "")]
        prefix = re.match(r"(?:\(\?:)?(\d*)", spec.pattern or "")
        lead = prefix.group(1) if prefix else ""
        for attempt in range(300):
            size = lengths[attempt % len(lengths)]
            body = "".join(self.rng.choice(string.digits) for _ in range(size))
            if attempt < 3 and spec.name in self.unique:
                body = ("1" + str(n).rjust(size - 1, "0"))[-size:]  # 1, 11 stay apart
            if attempt == 0 and spec.name == self.layout.lea_field:
                body = self.institution
            for value in (body, (lead + body)[:size]):
                if value and pattern.fullmatch(value):
                    return value
        return ""

    def _date_value(self, spec: FieldSpec) -> str:
        value = self._date(spec)
        if not spec.pattern or re.fullmatch(spec.pattern, value):
            return value
        for _ in range(300):  # a pattern bounds the dates (SDIS: incidents before July 2019)
            day = dt.date(2000, 1, 1) + dt.timedelta(days=self.rng.randrange(9000))
            value = day.strftime("%Y%m%d" if spec.date_format == "CCYYMMDD" else "%m%d%Y")
            if re.fullmatch(spec.pattern, value):
                return value
        return value

    def value(self, spec: FieldSpec, n: int) -> str:
        """A value of one field for record ``n`` (blank for optional fields)."""
        if spec.name == self.layout.lea_field:
            return self.institution.ljust(spec.max_length, "0")[:spec.max_length] if (
                self.layout.lea_length) else self.institution
        if spec.name == self.layout.school_field and self.school:
            return self.school
        if not spec.required:
            return ""
        return self._required_value(spec, n)

    def _required_value(self, spec: FieldSpec, n: int) -> str:
        if FieldCheck.SSID in spec.checks:
            return new_ssid(100_000_000 + n)
        if spec.name == self.layout.window_year_field:
            return self.window_year  # the collection's window's, not the date's
        if FieldCheck.ACADEMIC_YEAR in spec.checks:
            return self.year
        codes = [c for c in self.catalog.codesets[spec.codeset].values
                 if c.strip()] if spec.codeset is not None else []
        if codes:
            return self.rng.choice(codes)
        if spec.allowed is not None:
            return self.rng.choice([v for v in spec.allowed if v.strip()] or [""])
        if spec.type is FieldType.DT:
            return self._date_value(spec)
        if spec.pattern:
            return self._pattern_value(spec, n)
        if spec.type is FieldType.NU:
            return str(n) if spec.name in self.unique else str(self.rng.randrange(1, 99))
        return self._text(spec, n)

    def _text(self, spec: FieldSpec, n: int) -> str:
        if "first" in spec.name:
            word = self.rng.choice(FIRST)
        elif "last" in spec.name or "name" in spec.name:
            word = self.rng.choice(NAMES)
        elif spec.name.endswith("_id") or "identifier" in spec.name:
            word = str(self.id_base + n)  # the seed's own students: ids differ between files
        else:
            word = f"S{n}" if spec.name in self.unique else "Sample"
        if any(w in spec.name for w in ("name", "first", "last")):
            # No two students of a file share a name, nor (but by chance) of two files.
            word += _letters(n) + "".join(self.rng.choice(string.ascii_lowercase)
                                          for _ in range(3))
        return word[:spec.max_length]

    def record(self, n: int) -> list[str]:
        """Record number ``n`` (1-based), valid against the layout's rules."""
        fields = [self.value(spec, n) for spec in self.layout.fields]
        for _ in range(ATTEMPTS):
            # warnings too: a sample says nothing a district would be asked about
            issues = self.validator.validate(fields, n, self.context)
            if not issues:
                return fields
            for issue in issues:
                self._repair(fields, issue.field, issue.code, issue.rule_id, n)
        return fields

    def _repair(self, fields: list[str], field_id: str | None, code: str,
                rule_id: str | None, n: int) -> None:
        index = next((i for i, f in enumerate(self.layout.fields) if f.id == field_id), None)
        if index is None:
            return
        spec = self.layout.fields[index]
        rule = next((r for r in self.layout.record_rules if r.id == rule_id), None)
        params = rule.params if rule is not None else None
        if code == "conditional-value" and isinstance(params, AllowedWhen | AllowedWhenBoth):
            fields[index] = self.rng.choice(params.values)
        elif isinstance(params, RangeWhen):
            value = f"{params.minimum:g}"  # the lowest number the rule allows, in the field's form
            if spec.pattern and not re.fullmatch(spec.pattern, value):
                value = value.zfill(spec.max_length)
            fields[index] = value
        elif isinstance(params, AtMost):  # the largest number the rule allows
            fields[index] = next(fields[i] for i, f in enumerate(self.layout.fields)
                                 if f.name == params.other)
        elif isinstance(params, AtMostDifference):
            fields[index] = "0"  # at most any difference the others leave ("may be 0")
        elif isinstance(params, OpenRange):
            fields[index] = f"{(params.above + params.below) / 2:g}"
        elif isinstance(params, AgeOn | AgeOnWhen):
            self._born_for(fields, params)
        elif code == "conditional-blank" or (not spec.required and code not in (
                "required", "conditional-required")):
            fields[index] = ""
        else:
            fields[index] = self._required_value(spec, n)

    def _born_for(self, fields: list[str], params: AgeOn | AgeOnWhen) -> None:
        """A birth date that makes the age on the rule's date its lowest allowed (or highest,
        when the rule gives only a maximum)."""
        names = [f.name for f in self.layout.fields]
        at = fields[names.index(params.at if isinstance(params, AgeOn) else params.field)]
        age = params.minimum if params.minimum is not None else params.maximum or 0
        if len(at) == 8:
            day = "0228" if at[4:] == "0229" else at[4:]
            fields[names.index(params.born)] = f"{int(at[:4]) - age:04d}{day}"

    def broken(self, fields: list[str]) -> list[str]:
        """The record with one deliberate error: a required field blanked, or one too long."""
        fields = [*fields]
        choices = [i for i, f in enumerate(self.layout.fields)
                   if f.required and i > 0 and f.name != self.layout.lea_field]
        index = self.rng.choice(choices or [len(fields) - 1])
        spec = self.layout.fields[index]
        fields[index] = "" if spec.required else "9" * (spec.max_length + 1)
        return fields


def _letters(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 26)
        out += string.ascii_lowercase[r]
        if not n:
            return out


def sample_records(layout: Layout, catalog: Catalog, count: int, *, institution: str,
                   errors: float = 0.0, seed: int = 7,
                   today: dt.date | None = None,
                   windows: tuple[Window, ...] = ()) -> Iterator[list[str]]:
    """``count`` records, ``errors`` of them (a fraction) with one deliberate error each;
    ``windows`` give the collection's academic year (shared.windows.collection_year)."""
    sampler = Sampler(layout, catalog, institution, today or dt.date.today(), seed, windows)
    bad = set(sampler.rng.sample(range(1, count + 1), round(count * errors)))
    for n in range(1, count + 1):
        fields = sampler.record(n)
        yield sampler.broken(fields) if n in bad else fields
