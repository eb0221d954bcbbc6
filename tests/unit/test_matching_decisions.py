"""What a user notices about decisions: no merge on a guess, near misses reach a person, one
SSID per new student (design.md §5)."""

from __future__ import annotations

import pytest

from shared.matching.engine import Decision
from shared.matching.levels import Demotion
from shared.matching.ssid import ssid_problem
from tests.unit.matching_support import registry, student

EMMA = student("1000000012", "Nguyen", "Emma", dob="2015-06-01", gender="F", ssn="111-22-3333",
               district="2180", dsid="B1")
OLIVIA = student("1000000023", "Nguyen", "Olivia", dob="2015-06-01", gender="F",
                 ssn="111-22-4444", district="2180", dsid="B2")
AIDEN = student("1000000034", "Park", "Aiden", dob="2016-02-02", gender="M", ssn="555-66-7777",
                district="2180", dsid="P1")


def test_a_twin_sent_with_the_other_twins_ssid_is_not_merged() -> None:
    # Olivia's record with Emma's SSID: Level 1 on Emma (SSID, last, DOB, gender) -- but the
    # first names disagree, so it is a suggestion, and Olivia is the better candidate.
    probe = student("1000000012", "Nguyen", "Olivia", dob="2015-06-01", gender="F",
                    district="2180")
    outcome = registry(EMMA, OLIVIA).match(probe)
    assert outcome.decision is Decision.SUGGESTED
    assert outcome.demoted is Demotion.FIRST_NAME_CONFLICT
    assert outcome.level == 1
    assert outcome.ssid == ""
    assert outcome.candidates == ("1000000023", "1000000012")


def test_a_new_twin_of_a_registry_student_gets_a_new_ssid() -> None:
    sophia = student("", "Nguyen", "Sophia", dob="2015-06-01", gender="F", district="2180")
    outcome = registry(EMMA, OLIVIA).match(sophia)
    assert outcome.decision is Decision.NEW
    assert outcome.ssid not in {EMMA.ssid, OLIVIA.ssid}


def test_a_twin_whose_name_is_one_letter_off_is_not_merged_either() -> None:
    # Aidan, Aiden's twin, sent with Aiden's SSID: Level 1, first names one letter apart and
    # nothing twins never share (SSN, district id) to vouch for it.
    aidan = student("1000000034", "Park", "Aidan", dob="2016-02-02", gender="M",
                    district="2180", dsid="P2")
    outcome = registry(AIDEN).match(aidan)
    assert (outcome.decision, outcome.demoted) == (Decision.SUGGESTED,
                                                   Demotion.FIRST_NAME_CONFLICT)


def test_a_mistyped_first_name_with_the_same_ssn_still_matches() -> None:
    typo = student("", "Park", "Aidne", dob="2016-02-02", gender="M", ssn="555667777")
    outcome = registry(AIDEN).match(typo)
    assert (outcome.decision, outcome.level, outcome.ssid) == (Decision.HARD, 3, AIDEN.ssid)


def test_a_nickname_is_the_same_first_name_for_a_hard_match() -> None:
    will = student("1000000045", "Okafor", "William", dob="2013-04-09", gender="M",
                   district="2180", dsid="C7")
    bill = student("", "Okafor", "Bill", dob="2013-04-09", gender="M", district="2180",
                   dsid="C7")
    assert registry(will).match(bill).decision is Decision.HARD


def test_a_hard_match_on_two_current_ssids_is_only_a_suggestion() -> None:
    # One student issued two SSIDs (a duplicate not yet resolved): SSN, DOB, gender and last
    # name meet Level 3 on both. Never merge on ambiguity.
    first = student("1000000001", "Kim", "Min", dob="2014-08-08", gender="F", ssn="321-54-9876")
    second = student("1000000012", "Kim", "Min", dob="2014-08-08", gender="F", ssn="321549876",
                     district="2180")
    probe = student("", "Kim", "Min", dob="2014-08-08", gender="F", ssn="321-54-9876")
    outcome = registry(first, second).match(probe)
    assert outcome.decision is Decision.SUGGESTED
    assert outcome.demoted is Demotion.AMBIGUOUS
    assert set(outcome.candidates) == {"1000000001", "1000000012"}


CHIDI = student("1000000001", "Okafor", "Chidi", dob="2013-04-09", gender="M",
                district="2180", dsid="C7")
WILL = student("1000000012", "Brennan", "William", dob="2012-11-20", gender="M",
               district="2180", dsid="W3")


@pytest.mark.parametrize(("why", "fields"), [
    ("one typo in the last name", {"last": "Okafro"}),
    ("one typo in the first name", {"first": "Chdi"}),
    ("an OCR slip in the last name", {"last": "0kafor"}),
    ("day and month swapped", {"dob": "2013-09-04"}),
    ("two digits of the year swapped", {"dob": "2031-04-09"}),
    ("moved: new district and district id", {"district": "3001", "dsid": "Z9"}),
    ("last and first names the other way round", {"last": "Chidi", "first": "Okafor"}),
    ("hyphenated surname", {"last": "Okafor-Bello"}),
    ("changed surname", {"last": "Adeyemi"}),
    ("gender typed wrong", {"gender": "F"}),
    ("typo and moved", {"first": "Chidii", "district": "3001", "dsid": "Z9"}),
])
def test_near_misses_are_suggested_not_new(why: str, fields: dict[str, str]) -> None:
    probe = {"last": "Okafor", "first": "Chidi", "dob": "2013-04-09", "gender": "M",
             "district": "2180", **fields}
    outcome = registry(CHIDI, WILL).match(student(**probe))
    assert outcome.decision is Decision.SUGGESTED, why
    assert outcome.candidates[0] == CHIDI.ssid, why


def test_a_nickname_is_suggested() -> None:
    probe = student("", "Brennan", "Bill", dob="2012-11-20", gender="M", district="3001")
    outcome = registry(CHIDI, WILL).match(probe)
    assert (outcome.decision, outcome.candidates) == (Decision.SUGGESTED, (WILL.ssid,))


def test_a_new_student_gets_a_valid_ssid_after_the_registrys_highest() -> None:
    outcome = registry(CHIDI, WILL).match(student("", "Quispe", "Ana", dob="2017-01-01",
                                                  gender="F", district="2180"))
    assert outcome.decision is Decision.NEW
    assert ssid_problem(outcome.ssid) is None
    assert outcome.ssid > WILL.ssid
    assert outcome.candidates == ()


def test_the_same_new_student_twice_in_a_file_gets_one_ssid() -> None:
    ana = student("", "Quispe", "Ana", dob="2017-01-01", gender="F", district="2180",
                  dsid="Q1")
    first, second = registry(CHIDI).file(ana, ana)
    assert first.decision is Decision.NEW
    assert (second.decision, second.ssid) == (Decision.HARD, first.ssid)


def test_the_same_new_student_twice_without_ids_is_never_given_two_ssids() -> None:
    # No district id or SSN: Level 7 on the first row's new identity, a suggestion.
    ana = student("", "Quispe", "Ana", dob="2017-01-01", gender="F", district="2180")
    typo = student("", "Quispe", "Anna", dob="2017-01-01", gender="F", district="2180")
    first, second, third = registry(CHIDI).file(ana, ana, typo)
    assert first.decision is Decision.NEW
    assert (second.decision, second.candidates) == (Decision.SUGGESTED, (first.ssid,))
    assert (third.decision, third.candidates) == (Decision.SUGGESTED, (first.ssid,))


def test_rows_of_one_file_claiming_one_ssid_for_different_students_are_all_suggested() -> None:
    # Two different Pat Smiths (other birth dates) sent with one SSID and district id: each
    # row alone meets Level 1; together they would put two children on one SSID.
    pat = student("1234567890", "Smith", "Pat", dob="2012-01-01", gender="X", district="2180",
                  dsid="S1")
    same = student("1234567890", "Smith", "Pat", dob="2012-01-01", gender="X", district="2180",
                   dsid="S1")
    other = student("1234567890", "Smith", "Pat", dob="2014-07-07", gender="X",
                    district="2180", dsid="S1")
    alone = registry(pat).file(same, same)
    assert [o.decision for o in alone] == [Decision.HARD, Decision.HARD]
    both = registry(pat).file(same, other)
    assert [(o.decision, o.demoted) for o in both] == [
        (Decision.SUGGESTED, Demotion.CONFLICTING_CLAIMS)] * 2
    assert all(o.candidates[0] == pat.ssid for o in both)


def test_a_merged_ssid_redirects_to_the_survivor() -> None:
    survivor = student("1000000001", "Okafor", "Chidi", dob="2013-04-09", gender="M")
    reg = registry(survivor, merged={"1000000045": "1000000001"})
    probe = student("1000000045", "Okafor", "Chidi", dob="2013-04-09", gender="M")
    outcome = reg.match(probe)
    assert (outcome.decision, outcome.ssid) == (Decision.HARD, "1000000001")
    # New SSIDs continue after every SSID in use, merged ones included.
    assert reg.match(student("", "Quispe", "Ana", dob="2017-01-01", gender="F")).ssid == (
        "1000000056")


def test_a_held_record_gets_candidates_and_nothing_else() -> None:
    reg = registry(CHIDI)
    probe = student("", "Okafor", "Chidi", dob="2013-04-09", gender="M", district="2180",
                    dsid="C7")
    held = reg.matcher.match(probe, held=True)
    assert (held.decision, held.ssid, held.candidates) == (Decision.ERROR, "", (CHIDI.ssid,))
    assert len(reg.index) == 1
