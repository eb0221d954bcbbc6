"""Collection windows as reference data (shared/windows.py, shared/reference/windows.csv)."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.catalog.loader import default_catalog
from shared.reference_file import ReferenceFileError
from shared.windows import (
    DEFAULT_FILE,
    Window,
    by_collection,
    collection_year,
    overlay,
    parse,
    read_file,
)

HEADER = "collection,academic_year,window,opens,closes\n"


def test_the_shipped_windows_cover_every_collection_of_the_catalog() -> None:
    catalog = default_catalog()
    windows = by_collection(read_file(DEFAULT_FILE, catalog.collections))
    assert sorted(windows) == sorted(catalog.collections)


def test_a_window_is_open_from_its_first_to_its_last_day() -> None:
    window = Window("SENR", "2026-2027", "Fall 1", dt.date(2026, 10, 7), dt.date(2026, 12, 18))
    assert window.state(dt.date(2026, 10, 6)) == "not yet open"
    assert window.state(dt.date(2026, 10, 7)) == "open"
    assert window.state(dt.date(2026, 12, 18)) == "open"
    assert window.state(dt.date(2026, 12, 19)) == "closed"


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = HEADER + ("NOPE,2026-2027,Fall 1,2026-10-07,2026-12-18\n"
                     "SENR,2026-2028,Fall 1,2026-10-07,2026-12-18\n"
                     "SENR,2026-2027,,07/10/2026,2026-12-18\n"
                     "SENR,2026-2027,Fall 2,2026-12-18,2026-10-07\n"
                     "SPRG,2026-2027,Fall 1,2026-10-07,2026-12-18\n"
                     "SPRG,2026-2027,Fall 1,2026-10-07,2026-12-18\n")
    with pytest.raises(ReferenceFileError) as refused:
        parse(text, {"SENR", "SPRG"})
    assert str(refused.value).split("; ") == [
        "line 2: collection is not a collection of the catalog",
        "line 3: academic_year is not of the form YYYY-YYYY (consecutive years)",
        "line 4: window (its name) is blank", "line 4: opens is not a date YYYY-MM-DD",
        "line 5: closes before it opens",
        "line 7: the same window of the collection twice"]


def test_a_file_without_the_columns_is_refused() -> None:
    with pytest.raises(ReferenceFileError, match="missing opens, closes"):
        parse("collection,academic_year,window\nSENR,2026-2027,Fall 1\n")


def test_windows_are_listed_by_year_and_opening_day() -> None:
    found = by_collection(parse(HEADER + "SENR,2026-2027,Fall 2,2026-10-08,2027-03-05\n"
                                         "SENR,2025-2026,Fall 1,2025-10-01,2025-12-19\n"
                                         "SENR,2026-2027,Fall 1,2026-10-07,2026-12-18\n"))
    assert [(w.academic_year, w.name) for w in found["SENR"]] == [
        ("2025-2026", "Fall 1"), ("2026-2027", "Fall 1"), ("2026-2027", "Fall 2")]


def test_a_window_name_longer_than_the_store_keeps_is_a_problem() -> None:
    with pytest.raises(ReferenceFileError, match=r"line 2: window \(its name\) is longer than 100"):
        parse(HEADER + f"SENR,2026-2027,{'x' * 101},2026-10-07,2026-12-18\n")
    assert parse(HEADER + f"SENR,2026-2027,{'x' * 100},2026-10-07,2026-12-18\n")


def test_a_loaded_window_replaces_the_files_window_of_the_same_name_and_year() -> None:
    shipped = parse(HEADER + "SSCE,2026-2027,Seal,2027-01-11,2027-06-11\n"
                             "SENR,2026-2027,Fall 1,2026-10-07,2026-12-18\n")
    loaded = parse(HEADER + "SSCE,2026-2027,Seal,2026-11-02,2027-06-11\n"  # opened earlier
                            "SSCE,2027-2028,Seal,2027-11-01,2028-06-09\n")
    found = by_collection(overlay(shipped, loaded))
    assert [(w.academic_year, str(w.opens)) for w in found["SSCE"]] == [
        ("2026-2027", "2026-11-02"), ("2027-2028", "2027-11-01")]
    assert [w.name for w in found["SENR"]] == ["Fall 1"]  # the file's other windows stay
    on = dt.date(2026, 12, 1)
    assert collection_year(shipped, "SSCE", on).said.endswith("opens 2027-01-11")
    assert collection_year(found["SSCE"], "SSCE", on).said.endswith("open until 2027-06-11")
