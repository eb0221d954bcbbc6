"""The in-memory registry: what it stores (never a clear SSN) and where candidates come from."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from shared.matching.blocking import identity_keys, probe_keys
from shared.matching.index import MemoryIndex
from shared.matching.nicknames import default_nicknames
from shared.matching.offline import OFFLINE_SSN_KEY, Summary, load_registry
from shared.matching.person import FIELDS, Person, Reader
from shared.matching.ssid import new_ssid
from tests.unit.matching_support import student

HEADER = ",".join(FIELDS)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list):
        return [s for v in value for s in _strings(v)]
    return []


def test_the_registry_never_holds_an_ssn_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(f"{HEADER}\n1234567890,Smith,John,,,2012-03-14,M,536-22-1408,2180,A1\n"
                    "1000000001,Lee,Ann,,,2011-01-01,F,412783305,2180,A2\n", encoding="utf-8")
    index = load_registry(path, Reader(OFFLINE_SSN_KEY), default_nicknames(), print, Summary())
    stored = _strings(list(index.rows())) + [k for k in vars(index) if isinstance(k, str)]
    stored += [s for v in vars(index).values() if isinstance(v, dict) for k in v
               for s in _strings(k)]
    assert stored  # the scan sees the rows
    for clear in ("536221408", "536-22-1408", "412783305"):
        assert not any(clear in s for s in stored), clear
    # What is kept is the keyed hash: 64 hex digits, and it still compares.
    ssns = [p.ssn for p in index.rows()]
    assert all(len(h) == 64 for h in ssns)
    probe = student("", "Smith", "John", dob="2012-03-14", gender="M", ssn="536221408")
    assert {c.ssid for c in index.candidates(probe)} >= {"1234567890"}
    # Bucket keys are hashes (ints), not the key tuples with the SSN hash in them.
    assert all(isinstance(k, int) for k in index._buckets)


names = st.sampled_from(["", "smith", "lee", "o", "garcialopez", "bill", "william", "chris"])
people = st.builds(
    Person, ssid=st.just("1234567890"), legal_last=names, legal_first=names,
    preferred_last=names, preferred_first=names,
    dob=st.sampled_from(["", "20120314", "20121203", "20130229"]),
    gender=st.sampled_from(["", "m", "f"]), ssn=st.sampled_from(["", "ab" * 32]),
    resident_district=st.sampled_from(["", "2180"]),
    district_student_id=st.sampled_from(["", "a1"]))


@given(person=people)
def test_a_record_looks_under_every_key_its_own_identity_is_filed_under(person: Person) -> None:
    nick = default_nicknames()
    filed = set(identity_keys(person, nick))
    looked = set(probe_keys(person, nick, years=["2012"], undated=True, genders=["m", "f"]))
    assert filed <= looked
    assert len(filed) == len(identity_keys(person, nick))  # each key once


def test_an_overfull_key_is_skipped_and_other_keys_still_find_the_student() -> None:
    index = MemoryIndex(default_nicknames(), max_bucket=3)
    # Five students share a filler SSN; each has its own district id.
    for n in range(5):
        assert index.add(student(new_ssid(100_000_000 + n), f"Last{n}", f"First{n}",
                                 dob="2012-01-01", gender="F", ssn="123-45-6789",
                                 district="2180", dsid=f"D{n}"))
    probe = student("", "Last4", "First4", dob="2013-05-05", gender="M", ssn="123-45-6789",
                    district="2180", dsid="D4")
    assert [c.ssid for c in index.candidates(probe)] == [new_ssid(100_000_004)]


def test_an_ssid_in_use_is_refused() -> None:
    index = MemoryIndex(default_nicknames())
    assert index.add(student("1234567890", "Smith", "John"))
    assert not index.add(student("1234567890", "Other", "Kid"))
    assert not index.merge("1000000001", "9999999990")  # no such survivor
    assert index.merge("1000000001", "1234567890")
    assert index.current_ssid("1000000001") == "1234567890"
    assert index.highest_ssid == "1234567890"
