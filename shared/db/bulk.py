"""Bulk inserts straight to the driver, for rows written once per record, reads of many rows
straight from it (:func:`driver_rows`), and look-ups of many values at once (:func:`among`).

SQLAlchemy's executemany converts every row's parameters through its type system; for the rows
the pipeline writes per record (staged records, their issues) that per-row cost was a large part
of posting. Here the caller hands ready tuples (JSON already encoded) and the driver does the rest:
SQLite's executemany, PostgreSQL's COPY (its bulk path: one stream instead of a statement per
row, measured in docs/decisions.md). Column names come from our own tables, never from input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import msgspec
from sqlalchemy import ColumnElement, Connection, Select, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, Session

from shared.db.models import Base

T = TypeVar("T")
CHUNK = 500
"""Values of one ``IN`` list on SQLite (each is a bound parameter)."""
ARRAY_CHUNK = 50_000
"""Values of one array on PostgreSQL (a single parameter)."""


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def chunks(session: Session, values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` in slices for :func:`among`: of 500 on SQLite, of 50,000 on PostgreSQL."""
    step = ARRAY_CHUNK if _postgres(session) else CHUNK
    for start in range(0, len(values), step):
        yield values[start:start + step]


def among(session: Session, column: QueryableAttribute[str],
          values: Sequence[str]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(array)``, one parameter: an ``IN``
    of 500 parameters is parsed and planned each time (5,000 keys in ten such lists took
    225 ms against 36 ms as one array, on a 100,000-row table)."""
    if _postgres(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def json_text(value: object) -> str:
    """A JSON column's value as ``insert_rows`` takes it: compact, non-ASCII kept. Stored JSON
    is compared through the store's own JSON functions, never byte for byte."""
    return msgspec.json.encode(value).decode()


def insert_rows(session: Session, model: type[Base], columns: Sequence[str],
                rows: Iterable[Sequence[object]]) -> None:
    """INSERT every row (values in ``columns`` order) into the model's table, one executemany.

    Rows may be made as they are written: on PostgreSQL the server stores the COPY's rows as
    they arrive, so a generator has the caller make the next rows while it does."""
    if isinstance(rows, Sequence) and not rows:
        return
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    known = set(table.columns.keys())
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ValueError(f"{table.name} has no column {unknown}")
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver: Any = connection.connection.driver_connection  # psycopg, in our transaction
        with driver.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - our own names
           f"VALUES ({', '.join([mark] * len(columns))})")
    listed = list(rows)
    if listed:
        connection.exec_driver_sql(sql, listed)


def driver_rows(connection: Connection,
                query: Select[*tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of ``query`` as the driver gives them, plain tuples: for large reads of columns
    that need no conversion on the way out (text, numbers), in the connection's transaction.

    SQLAlchemy runs the statement (its parameters converted as always) and the rows are read
    from its DB-API cursor, not made into ``Row`` objects: for a Production Download's pages
    of (key, JSON text) those were a sixth of the web app's time (`edcs export` of 1,000,000
    records: the store's queries 2.9-3.8 -> 2.3-2.5 s; docs/decisions.md "The web app maps the
    store")."""
    result = connection.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()
