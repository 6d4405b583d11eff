"""Writing observations: each stored once per (sensor, event id), in as few statements as can be.

SQLite takes one driver-level ``executemany`` with ``ON CONFLICT DO NOTHING``. PostgreSQL takes
``COPY`` inside a savepoint: a batch of new observations (the usual case) goes in one stream;
if the unique key refuses a repeat, the savepoint is rolled back and the batch inserted with
``ON CONFLICT DO NOTHING`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, func, select

from lakeguard.ingest.models import ObservationRow
from lakeguard.ingest.schema import AreaCount, Crossing, DensityEstimate, Observation

COLUMNS = (
    "sensor_id",
    "event_id",
    "area_id",
    "kind",
    "at_s",
    "received_s",
    "window_s",
    "entered",
    "exited",
    "count",
    "coverage",
    "persons_per_m2",
    "online",
)

_COPY = f"COPY observations ({', '.join(COLUMNS)}) FROM STDIN"

Key = tuple[str, str]  # (sensor id, event id)
Row = tuple[Any, ...]


class ConcurrentIngest(RuntimeError):
    def __init__(self, foreign: int) -> None:
        super().__init__(
            f"{foreign} observations were stored by another process during this cycle; "
            "run one ingest process per venue"
        )


def row_of(obs: Observation, area_id: str, at_s: float, received_s: float) -> Row:
    """An observation as a row in ``COLUMNS`` order: the columns its kind does not use empty.

    ``at_s`` is ``obs.at`` in seconds since the epoch, computed once by the caller.
    """
    head = (obs.sensor_id, obs.event_id, area_id, obs.kind.value, at_s, received_s)
    if isinstance(obs, Crossing):
        return (*head, obs.window_s, obs.entered, obs.exited, None, None, None, None)
    if isinstance(obs, AreaCount):
        return (*head, None, None, None, obs.count, obs.coverage, None, None)
    if isinstance(obs, DensityEstimate):
        return (*head, None, None, None, None, obs.coverage, obs.persons_per_m2, None)
    return (*head, None, None, None, None, None, None, obs.online)


@cache
def _insert_sql(dialect: str) -> str:
    """The insert of one row, with positional parameters as the driver takes them (sqlite3 and
    psycopg, the two databases LakeGuard runs on)."""
    marks = {"sqlite": "?", "postgresql": "%s"}
    if dialect not in marks:
        raise RuntimeError(f"observations are stored in SQLite or PostgreSQL, not {dialect}")
    values = ", ".join(marks[dialect] for _ in COLUMNS)
    return (
        f"INSERT INTO observations ({', '.join(COLUMNS)}) VALUES ({values}) "
        "ON CONFLICT (sensor_id, event_id) DO NOTHING"
    )


def store_new(connection: Connection, rows: Sequence[Row]) -> set[Key]:
    """Insert the rows not stored yet; returns the (sensor, event id) pairs that were new.

    The caller runs one such call at a time per database (the sink's cycles), so the ids
    above the previous maximum are this call's.
    """
    if not rows:
        return set()
    keys = {(r[0], r[1]) for r in rows}
    if connection.dialect.name == "postgresql" and _copied(connection, rows):
        return keys
    table = ObservationRow.__table__
    before = connection.execute(select(func.max(table.c.id))).scalar() or 0
    # Straight to the driver: SQLAlchemy's per-row parameter processing costs more than the
    # insert, and these columns need no conversion.
    result = connection.exec_driver_sql(_insert_sql(connection.dialect.name), list(rows))
    if result.rowcount == len(rows):
        return keys
    # Some were there already. ``INSERT ... RETURNING`` over ten thousand rows costs more
    # than reading the new ones back by id.
    fresh = connection.execute(
        select(table.c.sensor_id, table.c.event_id).where(table.c.id > before)
    )
    stored = {(r.sensor_id, r.event_id) for r in fresh}
    if not stored <= keys:
        raise ConcurrentIngest(len(stored - keys))
    return stored


def _copied(connection: Connection, rows: Sequence[Row]) -> bool:
    """COPY the rows in a savepoint; False (and nothing written) if one was stored before."""
    from psycopg.errors import UniqueViolation

    driver = connection.connection.driver_connection
    try:
        with (
            connection.begin_nested(),
            driver.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(_COPY) as copy,
        ):
            for row in rows:
                copy.write_row(row)
    except UniqueViolation:
        return False
    return True
