"""The schools of a file's staged records, which the barrier lists once and asks twice (the
overlap rule, then the Add/Updates: services.post.tables.file_schools), on SQLite and
PostgreSQL: a list read in one transaction is never served to the next."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from services.post.tables import file_schools
from services.post.worker import handle_events
from shared.events.models import Record, RecordBatch
from tests.integration.conftest import LEA
from tests.integration.test_posting_methods import CATALOG, senr, submit

pytestmark = pytest.mark.integration


def test_a_file_staging_more_schools_after_a_listing_is_listed_again_in_the_next_transaction(
        sessions: sessionmaker[Session]) -> None:
    staged = submit(sessions, "SENR", [senr("2222222", "20080815")], eof=False)
    with sessions() as session:
        assert file_schools(session, staged.id) == ["2222222"]
        assert file_schools(session, staged.id) == ["2222222"]  # the same transaction
        session.commit()
        more = RecordBatch(submission_id=staged.id, collection="SENR", institution_id=LEA,
                           submitted_on=dt.date(2025, 9, 1),
                           records=[Record(row=2, fields=senr("3333333", "20080815"), issues=[])])
        handle_events(sessions, CATALOG, [more])  # staged by the worker, in its own transaction
        assert sorted(file_schools(session, staged.id)) == ["2222222", "3333333"]
