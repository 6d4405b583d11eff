"""Engines and sessions for the configured database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for a database URL; SQLite files get their folder and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed at the end of the block, or rolled back on error."""
    with factory() as session, session.begin():
        yield session


def get_or_raise(
    session: Session, table: type[T], key: object, missing: Exception, *, for_update: bool = False
) -> T:
    """The row of ``table`` whose primary key is ``key``; raise ``missing`` when there is none.

    ``for_update`` reads the row from the database and locks it until the transaction ends
    (PostgreSQL), even when the session already holds it.
    """
    row = session.get(table, key, with_for_update=for_update)
    if row is None:
        raise missing
    return row
