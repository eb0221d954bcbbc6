"""A field's checks written out two ways agree: the engine's one-expression test of a value
(services/validate/rules/field.py ``passes``, inlined in the engine's generated field loop) lets
through exactly the values the field's full check finds no issue in, for every field of every
layout and values a district or an attacker might send."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from services.validate.codegen import Source
from services.validate.rules.field import compile_field, passes
from shared.catalog.loader import default_catalog
from shared.catalog.models import FieldSpec
from shared.privacy import Hasher

CATALOG = default_catalog()
ALL_SPECS = [f for layout in CATALOG.layouts.values() for f in layout.fields]


def fast_test(spec: FieldSpec) -> Callable[[str], bool]:
    source = Source()
    source.add(1, f"return bool({passes(spec, CATALOG.codesets, source)})")
    test: Callable[[str], bool] = source.function("fast", "v")
    return test


FAST = [(spec, fast_test(spec), compile_field(spec, CATALOG.codesets)) for spec in ALL_SPECS]


def _codes(spec: FieldSpec) -> list[str]:
    if spec.codeset is not None:
        return sorted(CATALOG.codesets[spec.codeset].values)[:5]
    return list(spec.allowed or ())[:5]


HASHED = Hasher(b"k" * 32).ssn("123456789")
values = st.one_of(
    st.sampled_from(["", " ", "  x ", "20250101", "20240229", "20230229", "0229 2024",
                     "2025-2026", "2025-2027", "1554409530", "1554409531", "0554409530",
                     "O'Brien-Smith", "Jos\u00e9", "Jose\u0301", "\uff38", "Mary Ann", "a/b",
                     "1.5", "1.5.5", "-3", "x" * 300, "\x00", "\u2019", HASHED, f" {HASHED} "]),
    st.text(alphabet="0123456789-./' AZaz\u00e9\u0301", max_size=12),
    st.text(max_size=12),
    st.integers(0, len(ALL_SPECS) - 1).map(lambda i: (_codes(ALL_SPECS[i]) or ["X"])[0]),
)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(FAST) - 1), values)
def test_the_engines_test_of_a_value_is_the_full_checks_answer(at: int, value: str) -> None:
    spec, fast, check = FAST[at]
    assert fast(value) == (bool(value.strip()) and check(value, 1) is None), (spec.name, value)


def test_the_codes_of_every_coded_field_pass_both_ways() -> None:
    """Not vacuous: the fast test lets values through (the first few codes of every coded
    field, which all but a pattern's exceptions pass)."""
    passed = 0
    for spec, fast, check in FAST:
        for code in _codes(spec):
            expected = bool(code.strip()) and check(code, 1) is None
            assert fast(code) == expected, (spec.name, code)
            passed += fast(code)
    assert passed > 400
