"""The validate engine's shortcuts give the plain answer: each record rule runs when its condition
holds (the engine tests conditions only from the values it reads, services/validate/rules/record.py
RuleSet) and each field is checked (values that passed before are remembered, engine.py).

The plain answer is computed here the long way: every field checked by its compiled check,
every rule's condition and test evaluated, rules reading a failed field skipped, in rule order.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from edcs.sample import Sampler
from services.validate.engine import Context, Validator
from services.validate.rules.field import compile_field
from services.validate.rules.registry import COMPILERS, condition
from shared.catalog.base import Condition
from shared.catalog.loader import default_catalog
from shared.catalog.models import Layout
from shared.catalog.rule_kinds import Conditional
from shared.within_file import is_delete

TODAY = dt.date(2026, 3, 1)
CONTEXT = Context(institution_id=None, submitted_on=TODAY)
CATALOG = default_catalog()
LAYOUTS = sorted(t for t, layout in CATALOG.layouts.items() if layout.record_rules)
# One validator per layout for the whole run, so values remembered by earlier examples count.
VALIDATORS = {t: Validator(CATALOG.layouts[t], CATALOG) for t in LAYOUTS}


# Values that fail some field's checks only after others pass (the engine's field loop tests
# a value in one expression and asks the full check only for one that fails it).
ODD = ("x" * 300, "Jos\u00e9", "\x08", "O'Brien", "1.5", "20230229")


def _pool(layout: Layout) -> list[list[str]]:
    """Values worth trying in each field: blanks, the values the rules name, a few codes."""
    named: dict[str, set[str]] = {f.name: {"", " ", "X", "9", "20250101", "2025-2026", *ODD}
                                  for f in layout.fields}
    for rule in layout.record_rules:
        for when in vars(rule.params).values():  # when, and any further condition (also)
            if isinstance(when, Condition):
                named[when.field] |= set(when.in_ or ())
                named[when.field] |= {f"{b:g}" for b in when.between or ()}
        field = getattr(rule.params, "field", None)
        if field is not None:
            named[field] |= set(getattr(rule.params, "values", ()))
    for spec in layout.fields:
        codes = CATALOG.codesets[spec.codeset].values if spec.codeset else spec.allowed or ()
        named[spec.name] |= set(list(codes)[:3])
    return [sorted(named[f.name]) for f in layout.fields]


POOLS = {t: _pool(CATALOG.layouts[t]) for t in LAYOUTS}
BASES = {t: [Sampler(CATALOG.layouts[t], CATALOG, "1964733", TODAY, seed).record(1)
             for seed in range(3)] for t in LAYOUTS}


def plain(layout: Layout, fields: list[str]) -> list[tuple[str | None, str, str | None]]:
    """(field id, code, rule id) of every issue, the long way."""
    found: list[tuple[str | None, str, str | None]] = []
    failed: set[str] = set()
    for spec, value in zip(layout.fields, fields, strict=True):
        problem = compile_field(spec, CATALOG.codesets)(value, 1)
        if problem is not None and (value or spec.required):
            found.append((problem.field, problem.code, None))
            failed.add(spec.name)
    index = {f.name: i for i, f in enumerate(layout.fields)}
    by_name = {f.name: f for f in layout.fields}
    for rule in layout.record_rules:
        if failed & set(rule.reads()):
            continue
        params = rule.params
        if isinstance(params, Conditional) and not condition(params.when, index)(fields):
            continue
        if not COMPILERS[type(params)](params, index)(fields, TODAY):
            found.append((by_name[rule.about].id, rule.code, rule.spec_rule_id or rule.id))
    return found


@st.composite
def records(draw: st.DrawFn) -> tuple[str, list[str]]:
    record_type = draw(st.sampled_from(LAYOUTS))
    fields = list(draw(st.sampled_from(BASES[record_type])))
    pool = POOLS[record_type]
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(fields) - 1))
        fields[at] = draw(st.sampled_from(pool[at]))
    return record_type, fields


@settings(max_examples=400, deadline=None)
@given(records())
def test_engine_gives_the_plain_answer(record: tuple[str, list[str]]) -> None:
    record_type, fields = record
    layout = CATALOG.layouts[record_type]
    operation = layout.operation_field
    if operation is not None and is_delete(fields[[f.name for f in layout.fields].index(
            operation)]):
        return  # a Delete checks fewer fields and rules (tests/unit/test_validate_engine.py)
    issues = VALIDATORS[record_type].validate(fields, 1, CONTEXT)
    assert [(i.field, i.code, i.rule_id) for i in issues] == plain(layout, fields)
