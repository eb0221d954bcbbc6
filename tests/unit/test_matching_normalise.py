"""Comparison keys (design.md §5): what counts as the same name, date, id and SSN."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.matching.compare import Compare, Comparer, similar_dob, similar_name
from shared.matching.nicknames import default_nicknames
from shared.matching.normalise import (
    SsnHasher,
    code_key,
    gender_key,
    id_key,
    iso_date,
    mmddyyyy_date,
    name_key,
    ssn_digits,
    ssn_hash,
)
from tests.unit.matching_support import student


@pytest.mark.parametrize(("a", "b"), [
    ("José", "JOSE"),
    ("Zoë", "zoe"),
    ("Nguyễn", "Nguyen"),
    ("Çelik", "celik"),
    ("Straße", "STRASSE"),  # case-folding, not lower-casing
    ("O'Brien", "OBrien"),
    ("O\u2019Brien", "o brien"),  # typographic apostrophe
    ("Garcia-Lopez", "Garcia Lopez"),
    ("Garcia\u2013Lopez", "garcialopez"),  # en dash
    ("  Smith ", "smith"),
    ("St. John", "St John"),
    ("\uff2a\uff4f\uff48\uff4e", "John"),  # full-width letters (NFKC)
    ("Ελένη", "ΕΛΕΝΗ"),  # Greek: accent and case
    ("Йосиф", "йосиф"),  # Cyrillic: case
    ("Hawai\u02bbi", "Hawaii"),  # okina as an apostrophe
    ("Mu\u0308ller", "Müller"),  # decomposed and composed
])
def test_names_that_compare_equal(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)
    assert name_key(a) != ""


@pytest.mark.parametrize(("a", "b"), [
    ("Smith", "Smyth"),
    ("Ann", "Anne"),
    ("李", "王"),
    ("किरण", "करण"),  # Devanagari vowel signs are letters' vowels, not accents
    ("สมชาย", "สมชัย"),  # Thai vowel marks too
])
def test_names_that_stay_different(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


@pytest.mark.parametrize("name", ["王芳", "محمد", "김민준", "Иван", "Αλέξης", "किरण"])
def test_names_in_other_scripts_keep_their_letters(name: str) -> None:
    key = name_key(name)
    assert key
    assert not key.isascii()
    assert name_key(name.upper()) == key


def test_arabic_vowel_points_are_accents() -> None:
    assert name_key("مُحَمَّد") == name_key("محمد")


@pytest.mark.parametrize("name", ["", "   ", "-", "'", "...", "--", "' - .", "\u2019", "/"])
def test_a_name_of_punctuation_only_is_blank(name: str) -> None:
    assert name_key(name) == ""


def test_a_blank_never_equals_a_blank() -> None:
    a = student("", "", "", dob="", gender="")
    b = student("", "-", "...", dob="", gender="")
    comparer = Comparer(list(Compare), default_nicknames())
    assert comparer.mask(a, b) == comparer.bits[Compare.NO_DOB]  # "unknown" is all they share
    literal = Comparer(list(Compare)[:10], default_nicknames(), blank_matches_blank=True)
    assert literal.mask(a, b) == sum(literal.bits.values())  # Appendix E literally: all equal


@pytest.mark.parametrize(("text", "key"), [
    ("2012-02-29", "20120229"),
    (" 2012-03-14 ", "20120314"),
    ("", ""),
    ("   ", ""),
    ("2013-02-29", None),  # not a leap year
    ("2012-13-01", None),
    ("2012-00-10", None),
    ("2012-04-31", None),
    ("1899-12-31", None),  # before any student's birth
    ("2012-3-14", None),
    ("03/14/2012", None),
    ("20120314", None),
    ("2O12-03-14", None),  # letter O
    ("\uff12\uff10\uff11\uff12-\uff10\uff13-\uff11\uff14", None),  # full-width digits
])
def test_iso_dates(text: str, key: str | None) -> None:
    assert iso_date(text) == key


@pytest.mark.parametrize(("text", "key"), [
    ("03142012", "20120314"), ("02292012", "20120229"), ("02292013", None),
    ("13012012", None), ("3142012", None), ("", ""),
])
def test_mmddyyyy_dates_as_ode_files_write_them(text: str, key: str | None) -> None:
    assert mmddyyyy_date(text) == key


def test_an_impossible_date_is_reported_and_not_matched_on() -> None:
    from tests.unit.matching_support import READER

    person, problems = READER.read(["", "Smith", "Ann", "", "", "2013-02-29", "F", "", "", ""],
                                   line=7)
    assert person.dob == ""
    assert [(p.row, p.field, p.code) for p in problems] == [(7, "dob", "invalid-date")]
    assert "2013" not in problems[0].message  # no birth date in messages (design.md §6)


@pytest.mark.parametrize(("text", "digits"), [
    ("123-45-6789", "123456789"), ("123 45 6789", "123456789"), ("123456789", "123456789"),
    ("", ""), ("000-00-0000", ""), ("999999999", ""), ("666-12-3456", ""), ("900-12-3456", ""),
    ("123-00-4567", ""), ("123-45-0000", ""),  # never issued: fillers, blank
    ("12345678", None), ("1234567890", None), ("12345678S", None),
])
def test_ssn_digits(text: str, digits: str | None) -> None:
    assert ssn_digits(text) == digits


@given(digits=st.text("0123456789", min_size=9, max_size=9),
       key=st.binary(min_size=0, max_size=100))
def test_ssn_hash_is_hmac_sha256_and_the_fast_hasher_agrees(digits: str, key: bytes) -> None:
    expected = hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()
    assert ssn_hash(key, digits) == expected
    assert SsnHasher(key)(digits) == expected


def test_ssn_hash_depends_on_the_key_and_is_blank_for_blank() -> None:
    assert ssn_hash(b"a", "123456789") != ssn_hash(b"b", "123456789")
    assert ssn_hash(b"a", "") == SsnHasher(b"a")("") == ""


def test_ids_and_codes() -> None:
    assert id_key("00123") == id_key("123") == id_key(" 123 ") == "123"
    assert id_key("A-7") == "a-7"
    assert id_key("000") == "0"
    assert id_key("") == ""
    assert code_key("02180") == "2180"
    assert [gender_key(g) for g in ("M", "f", " X ", "Female", "male")] == ["m", "f", "x", "f",
                                                                             "m"]


@pytest.mark.parametrize(("a", "b", "near"), [
    ("smith", "smyth", True), ("garcialopez", "lopez", True), ("garcialopez", "garcia", True),
    ("christopher", "christophre", True), ("mia", "ma", True), ("alexandria", "alexandrea", True),
    ("emma", "olivia", False), ("li", "lu", True), ("a", "b", False), ("", "", False),
    ("jo", "joe", True), ("johnson", "jackson", False),
])
def test_near_names(a: str, b: str, near: bool) -> None:
    assert similar_name(a, b) is near


@pytest.mark.parametrize(("a", "b", "near"), [
    ("20130409", "20130904", True),  # day and month swapped
    ("20130409", "20310409", True),  # year digits swapped
    ("20130409", "20130408", True),  # one digit
    ("20130409", "20140510", False),
    ("20130409", "", False),
])
def test_near_birth_dates(a: str, b: str, near: bool) -> None:
    assert similar_dob(a, b) is near


def test_nicknames() -> None:
    nick = default_nicknames()
    assert nick.equivalent(name_key("Bill"), name_key("William"))
    assert nick.equivalent(name_key("Lupe"), name_key("Guadalupe"))
    assert nick.equivalent(name_key("José"), name_key("Pepe"))
    assert not nick.equivalent(name_key("Christopher"), name_key("Christina"))  # both "Chris"
    assert not nick.equivalent("", "")
    assert set(nick.canonical(name_key("Chris"))) >= {"christopher", "christina"}
