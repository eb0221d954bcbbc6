"""Each match level matches what Appendix E (or design.md §5 for 4-6) says, and not more.

Cases are written from the text of the levels (requirements.md §7.1, quoted in
shared/catalog/matching.yaml), one registry student at a time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.matching.engine import Decision
from shared.matching.levels import RulesetError, appendix_e_ruleset, default_ruleset, load_ruleset
from shared.matching.person import Person
from tests.unit.matching_support import registry, student

JOHN = student("1234567890", "Smith", "John", dob="2012-03-14", gender="M", ssn="123-45-6789",
               district="2180", dsid="A100")


def level_of(probe: dict[str, str], who: Person = JOHN) -> tuple[Decision, int | None]:
    outcome = registry(who).match(student(**probe))
    return outcome.decision, outcome.level


# Level 1: "SSID and any three of Legal Last Name, District Student Identifier, SSN, DOB, and
# Gender must match."
@pytest.mark.parametrize("fields", [
    {"last": "Smith", "dob": "2012-03-14", "gender": "M"},
    {"dsid": "A100", "district": "9999", "ssn": "123-45-6789", "dob": "2012-03-14"},
    {"last": "Smith", "ssn": "123456789", "gender": "M"},
    {"last": "Smyth", "dsid": "A100", "district": "9999", "ssn": "123-45-6789", "gender": "M"},
])
def test_level_1_ssid_and_any_three_of_five(fields: dict[str, str]) -> None:
    assert level_of({"ssid": "1234567890", "first": "John", **fields}) == (Decision.HARD, 1)


def test_level_1_needs_three_not_two_then_it_is_our_level_4_suggestion() -> None:
    # design.md §5: L4 = SSID plus exactly two of the five: a suggestion, never a merge.
    assert level_of({"ssid": "1234567890", "first": "John", "last": "Smith",
                     "dob": "2012-03-14", "gender": "F"}) == (Decision.SUGGESTED, 4)


def test_level_1_does_not_count_fields_blank_on_both_sides() -> None:
    ann = {"ssid": "1000000001", "last": "Lee", "first": "Ann", "dob": "2011-01-01",
           "gender": "F"}  # no SSN, no district id
    probe = {**ann, "dob": "2011-05-05", "gender": "M"}
    # Appendix E read literally: SSID + last + SSN (blank = blank) + district id (blank =
    # blank) is "three of five".
    literal = registry(student(**ann, literal=True), rules=appendix_e_ruleset())
    assert literal.match(student(**probe, literal=True)).decision is Decision.HARD
    # edcs: a blank never equals a blank, so only the last name counts.
    assert registry(student(**ann)).match(student(**probe)).decision is not Decision.HARD


# Level 2: "Resident District Institution ID and District Student Identifier, plus any two of
# Legal Last Name, SSN, DOB, and Gender must match."
@pytest.mark.parametrize("fields", [
    {"last": "Smith", "dob": "2012-03-14"},
    {"ssn": "123-45-6789", "gender": "M", "last": "Smithe"},
    {"dob": "2012-03-14", "gender": "M", "last": "Jones"},
])
def test_level_2_district_and_id_plus_any_two(fields: dict[str, str]) -> None:
    probe = {"first": "John", "district": "2180", "dsid": "A100", **fields}
    assert level_of(probe) == (Decision.HARD, 2)


def test_level_2_with_one_of_four_is_our_level_5_suggestion() -> None:
    assert level_of({"first": "John", "last": "Jones", "district": "2180", "dsid": "A100",
                     "dob": "2001-01-01", "gender": "M"}) == (Decision.SUGGESTED, 5)


def test_level_2_needs_the_same_district_for_the_district_id() -> None:
    decision, level = level_of({"first": "Jon", "last": "Jones", "district": "3001",
                                "dsid": "A100", "dob": "2001-01-01", "gender": "M"})
    assert level not in (2, 5)
    assert decision is Decision.NEW


# Level 3: "SSN, DOB, Gender, and either Legal Last Name or Preferred Last Name must match."
def test_level_3_ssn_dob_gender_and_legal_last() -> None:
    assert level_of({"first": "John", "last": "Smith", "ssn": "123-45-6789",
                     "dob": "2012-03-14", "gender": "M"}) == (Decision.HARD, 3)


def test_level_3_through_the_preferred_last_name() -> None:
    maria = student("1000000012", "Garcia", "Maria", plast="Lopez", dob="2010-10-10",
                    gender="F", ssn="222-33-4444")
    probe = {"last": "Garcia-Lopez", "plast": "Lopez", "first": "Maria", "ssn": "222334444",
             "dob": "2010-10-10", "gender": "F"}
    assert level_of(probe, maria) == (Decision.HARD, 3)


def test_level_3_with_another_gender_is_our_level_6_suggestion() -> None:
    # design.md §5: L6 = SSN and DOB match while gender or last name differs.
    assert level_of({"first": "John", "last": "Smith", "ssn": "123-45-6789",
                     "dob": "2012-03-14", "gender": "F"}) == (Decision.SUGGESTED, 6)
    assert level_of({"first": "John", "last": "Mwangi", "ssn": "123-45-6789",
                     "dob": "2012-03-14", "gender": "M"}) == (Decision.SUGGESTED, 6)


# Level 7: "Resident District Institution ID, Gender, and one each from all three of the
# following pairs: (DOB or SSN); (Legal Last Name or Preferred Last Name); and (Legal First
# Name or Preferred First Name)."  Level 8: the same without the district.
def test_level_7_district_gender_and_one_of_each_pair() -> None:
    assert level_of({"last": "Smith", "first": "John", "dob": "2012-03-14", "gender": "M",
                     "district": "2180"}) == (Decision.SUGGESTED, 7)


def test_level_8_without_the_district_and_with_the_ssn_for_the_dob() -> None:
    assert level_of({"last": "Smith", "first": "John", "dob": "2009-09-09", "gender": "M",
                     "ssn": "123-45-6789", "district": "3001"}) == (Decision.SUGGESTED, 8)


def test_level_8_through_the_preferred_first_name() -> None:
    rob = student("1000000023", "Jones", "Robert", pfirst="Bobby", dob="2014-02-02", gender="M")
    assert level_of({"last": "Jones", "first": "Roberto", "pfirst": "Bobby",
                     "dob": "2014-02-02", "gender": "M"}, rob) == (Decision.SUGGESTED, 8)


def test_no_level_when_only_the_last_name_and_birth_date_agree() -> None:
    # Levels 7 and 8 need a first name too; our near-miss levels need it near.
    decision, _ = level_of({"last": "Smith", "first": "Wilhelmina", "dob": "2012-03-14",
                            "gender": "F", "district": "3001"})
    assert decision is Decision.NEW


def test_the_catalog_quotes_appendix_e_for_its_levels() -> None:
    for rules in (default_ruleset(), appendix_e_ruleset()):
        quoted = {lv.level: lv.text for lv in rules.levels if lv.source == "Appendix E"}
        assert set(quoted) == {1, 2, 3, 7, 8}
        assert quoted[1] == ("SSID and any three of Legal Last Name, District Student "
                             "Identifier, SSN, DOB, and Gender must match.")
    assert [lv.level for lv in appendix_e_ruleset().levels] == [1, 2, 3, 7, 8]
    hard = [lv.level for lv in default_ruleset().levels if lv.decision == "hard"]
    assert hard == [1, 2, 3]


@pytest.mark.parametrize(("text", "problem"), [
    ("levels: []\nname: x\ndescription: x\nkeys: edcs\nsurprise: 1\n", "surprise"),
    ("name: x\ndescription: x\nkeys: edcs\nlevels:\n"
     "  - {level: 1, decision: suggested, source: edcs, text: t, require: [ssid]}\n"
     "  - {level: 2, decision: hard, source: edcs, text: t, require: [ssn]}\n",
     "before the suggested"),
    ("name: x\ndescription: x\nkeys: edcs\nlevels:\n"
     "  - {level: 1, decision: hard, source: edcs, text: t,"
     " any_of: [{count: 3, of: [ssn, dob]}]}\n", "can never hold"),
    ("name: x\ndescription: x\nkeys: edcs\nlevels:\n"
     "  - {level: 1, decision: hard, source: edcs, text: t, require: [shoe_size]}\n",
     "shoe_size"),
    ("name: x\ndescription: x\nkeys: edcs\nlevels:\n"
     "  - {level: 1, decision: hard, source: edcs, text: t}\n", "would match anyone"),
])
def test_a_broken_catalog_file_is_refused_with_the_reason(tmp_path: Path, text: str,
                                                          problem: str) -> None:
    path = tmp_path / "matching.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesetError, match=problem):
        load_ruleset(path)

