"""Student Lookup criteria (Appendix F): prefixes, letter ranges, populations."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import Session

from services.web.problems import Problem
from services.web.search import Search, criteria, school_year_start
from shared.catalog.loader import default_catalog
from shared.db.models import Base, OdsRecord

LAYOUT = default_catalog().layouts["ODE-SSID"]
NAMES = ["Johnston", "Johnston-Smith", "Jones", "smart", "Smith", "Zhang", "Émile"]


@pytest.fixture(scope="module")
def session() -> Session:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    found = Session(engine)
    found.execute(insert(OdsRecord), [
        {"record_type": "ODE-SSID", "op_key": str(i), "lea": "2180", "school": "4001",
         "fields": [str(i), name, "Al", "", "", "01022015", "F", "", "2180", f"d{i}", "2180",
                    "4001", "03"], "submission_id": 1, "row": i + 2,
         "updated_at": dt.datetime(2026, 9, 1) if i % 2 else dt.datetime(2025, 10, 1)}
        for i, name in enumerate(NAMES)])
    return found


def found(session: Session, search: Search) -> list[str]:
    where = criteria(LAYOUT, search, dt.date(2026, 12, 1))
    return sorted(session.scalars(select(OdsRecord.fields[1].as_string()).where(where)))


@pytest.mark.parametrize(("pattern", "names"), [
    ("Johnston", ["Johnston", "Johnston-Smith"]),
    ("jo", ["Johnston", "Johnston-Smith", "Jones"]),
    ("Sm[a-i]", ["Smith", "smart"]),
    ("[s-z]", ["Smith", "Zhang", "smart"]),
    ("Johnston-Smith", ["Johnston-Smith"]),
    ("%", []), ("_", []),
])
def test_names_match_by_prefix_and_a_letter_range(session: Session, pattern: str,
                                                  names: list[str]) -> None:
    assert found(session, Search(last=pattern)) == names


def test_a_backwards_range_is_refused_with_how_to_write_it(session: Session) -> None:
    with pytest.raises(Problem, match=r"\[a-d\]"):
        found(session, Search(last="[d-a]"))


def test_current_and_last_year_students_by_activity_date(session: Session) -> None:
    assert school_year_start(dt.date(2026, 12, 1)) == dt.date(2026, 7, 1)
    assert school_year_start(dt.date(2026, 6, 30)) == dt.date(2025, 7, 1)
    current = found(session, Search(population="current"))
    last = found(session, Search(population="last-year"))
    assert current == sorted(NAMES[1::2]) and last == sorted(NAMES[0::2])
    assert found(session, Search(population="all")) == sorted(NAMES)


def test_a_birth_date_is_matched_in_the_layouts_own_form(session: Session) -> None:
    assert len(found(session, Search(dob="2015-01-02"))) == len(NAMES)
    with pytest.raises(Problem, match="YYYY-MM-DD"):
        found(session, Search(dob="01/02/2015"))
