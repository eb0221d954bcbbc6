"""New SSIDs carry the design's check digit (design.md §5): values computed by hand here."""

from __future__ import annotations

import pytest

from shared.matching.ssid import SsidSequence, new_ssid, ssid_problem


def test_the_designs_published_example() -> None:
    # design.md §5 / CFS 1.08: 123 + 456 + 789 = 1368, 1368 mod 9 = 0, d9 = 9 != 0: d10 = 0.
    assert new_ssid(123_456_789) == "1234567890"


@pytest.mark.parametrize(("number", "ssid", "why"), [
    (100_000_000, "1000000001", "100+000+000 = 100, r = 1, d9 = 0"),
    (100_000_007, "1000000078", "100+000+007 = 107, r = 8, d9 = 7"),
    (200_000_001, "2000000013", "200+000+001 = 201, r = 3, d9 = 1"),
    (987_654_321, "9876543210", "987+654+321 = 1962, r = 0, d9 = 1"),
    (999_999_999, "9999999990", "999*3 = 2997, r = 0, d9 = 9"),
    (108_000_004, "1080000049", "108+000+004 = 112, r = 4 = d9: so 9"),
    (123_456_786, "1234567869", "123+456+786 = 1365, r = 6 = d9: so 9"),
])
def test_hand_computed_new_ssids(number: int, ssid: str, why: str) -> None:
    assert new_ssid(number) == ssid, why
    assert ssid_problem(ssid) is None


@pytest.mark.parametrize("number", [0, 99_999_999, 1_000_000_000, -5])
def test_a_number_outside_nine_digits_is_refused(number: int) -> None:
    with pytest.raises(ValueError, match="9 digits"):
        new_ssid(number)


def test_a_sequence_continues_after_the_highest_ssid() -> None:
    seq = SsidSequence.after("1234567890")
    # 123+456+790 = 1369, r = 1, d9 = 0; then 123+456+791 = 1370, r = 2, d9 = 1.
    assert [seq.take(), seq.take()] == ["1234567901", "1234567912"]


def test_an_empty_registry_starts_at_the_first_nine_digit_number() -> None:
    assert SsidSequence.after(None).take() == "1000000001"
