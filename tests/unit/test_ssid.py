"""SSID format and check digit (CFS 1.08; design.md §5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.matching.ssid import ssid_check_digit, ssid_problem


def rule(body: str) -> int:
    """design.md §5, written out: r = (d1-3 + d4-6 + d7-9) mod 9; d10 = 9 if r == d9 else r."""
    r = (int(body[0:3]) + int(body[3:6]) + int(body[6:9])) % 9
    return 9 if r == int(body[8]) else r


def test_the_seeds_own_example_is_valid() -> None:
    # CFS 1.08: "CID=1234567890, so 123 + 456 + 789 = 1368 ... remainder = 0"
    assert ssid_problem("1234567890") is None
    assert ssid_check_digit("123456789") == 0


@pytest.mark.parametrize("ssid", ["1234567891", "4321845701", "9876543216", "2525567891",
                                  "1111111111"])
def test_the_seeds_other_example_ssids_have_a_wrong_check_digit(ssid: str) -> None:
    # 10 digits, no leading zero: well formed, but the last digit is not the check digit.
    assert ssid_problem(ssid) == "ssid-check-digit"


@pytest.mark.parametrize(("ssid", "why"), [
    ("1000000080", "100+000+008 = 108, r = 0, d9 = 8: d10 = r = 0"),
    ("1000000001", "100+000+000 = 100, r = 1, d9 = 0: d10 = r = 1"),
    ("1000000078", "100+000+007 = 107, r = 8, d9 = 7: d10 = r = 8"),
    ("1080000049", "108+000+004 = 112, r = 4, d9 = 4: r equals d9, so d10 = 9"),
])
def test_hand_computed_valid_ssids(ssid: str, why: str) -> None:
    assert ssid_problem(ssid) is None, why


def test_remainder_equal_to_ninth_digit_requires_nine() -> None:
    # 108+000+004 = 112, r = 4 = d9: the last digit must be 9, not the remainder 4.
    assert ssid_problem("1080000044") == "ssid-check-digit"


@pytest.mark.parametrize("value", [
    "0123456789",  # leading zero (gen_senr's deliberate error)
    "0000000000",
    "123456789",  # 9 digits
    "12345678901",  # 11 digits
    "12345678A0",  # a letter
    "123456789O",  # letter O for zero
    " 1234567890",
    "1234567890 ",
    "12345-6789",
    "",
    "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10",  # fullwidth 1234567890
    "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660",  # Arabic-Indic 1234567890
    "123456789\u00b2",  # superscript two
])
def test_malformed_ssids_are_ssid_format(value: str) -> None:
    assert ssid_problem(value) == "ssid-format"


nine_digit_bodies = st.integers(min_value=100_000_000, max_value=999_999_999).map(str)


@given(body=nine_digit_bodies)
def test_exactly_one_last_digit_is_valid_and_it_is_the_rules(body: str) -> None:
    valid = [d for d in "0123456789" if ssid_problem(body + d) is None]
    assert valid == [str(rule(body))]
    assert ssid_check_digit(body) == rule(body)
    for d in "0123456789":
        if d not in valid:
            assert ssid_problem(body + d) == "ssid-check-digit"


@given(value=st.text(max_size=14))
def test_any_text_gets_an_answer_never_an_exception(value: str) -> None:
    assert ssid_problem(value) in {None, "ssid-format", "ssid-check-digit"}
