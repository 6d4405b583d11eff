"""The audit log on SQLite and PostgreSQL: appends, verification, tampering, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from lakeguard.auth import audit
from lakeguard.auth.engine import GENESIS_HASH
from lakeguard.auth.models import AuditRow
from lakeguard.auth.roles import Principal, Role
from lakeguard.store.session import make_sessionmaker, transaction
from tests.auth.helpers import NOW


def _append(engine: Engine, n: int) -> None:
    with transaction(make_sessionmaker(engine)) as session:
        for i in range(n):
            audit.append(
                session,
                actor="commander-1",
                action="plan.start",
                target_type="plan",
                target_id=f"p{i}",
                outcome=audit.Outcome.SUCCESS,
                detail={"level": i, "note": "黄色预警"},
                now=NOW + timedelta(seconds=i),
            )


def _verify(engine: Engine) -> audit.ChainReport:
    with make_sessionmaker(engine)() as session:
        return audit.verify_chain(session, batch=2)


def _allow_tampering(engine: Engine, connection: Connection) -> None:
    """Drop the append-only guard, as someone with the database owner's rights could."""
    if engine.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("DROP TRIGGER audit_log_no_delete"))


def test_rows_link_to_the_one_before(db_engine: Engine) -> None:
    _append(db_engine, 3)
    with make_sessionmaker(db_engine)() as session:
        rows = session.scalars(select(AuditRow).order_by(AuditRow.id)).all()
    assert rows[0].prev_hash == GENESIS_HASH
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert rows[1].detail == {"level": 1, "note": "黄色预警"}
    assert rows[1].at == NOW + timedelta(seconds=1)


def test_an_untouched_chain_verifies(db_engine: Engine) -> None:
    assert _verify(db_engine).rows == 0
    _append(db_engine, 5)
    report = _verify(db_engine)
    assert report.intact and report.rows == 5


def test_the_table_refuses_updates_and_deletes(db_engine: Engine) -> None:
    _append(db_engine, 2)
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db_engine.begin() as connection:
            connection.execute(text(statement))
    assert _verify(db_engine).rows == 2


def test_a_changed_detail_is_found(db_engine: Engine) -> None:
    _append(db_engine, 5)
    with db_engine.begin() as connection:
        _allow_tampering(db_engine, connection)
        third = connection.scalar(text("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 2"))
        connection.execute(
            text("UPDATE audit_log SET detail = :d WHERE id = :id"),
            {"d": '{"level": 99, "note": "黄色预警"}', "id": third},
        )
    report = _verify(db_engine)
    assert (report.broken_row_id, report.rows) == (third, 2)
    assert report.reason == "its content does not match its hash"


def test_a_deleted_row_in_the_middle_is_found(db_engine: Engine) -> None:
    _append(db_engine, 5)
    with db_engine.begin() as connection:
        _allow_tampering(db_engine, connection)
        ids = connection.scalars(text("SELECT id FROM audit_log ORDER BY id")).all()
        connection.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[2]})
    report = _verify(db_engine)
    assert (report.broken_row_id, report.rows) == (ids[3], 2)


def test_audit_read_names_the_reader_and_the_record(db_engine: Engine) -> None:
    reader = Principal(subject="commander-7", roles=frozenset({Role.COMMANDER}))
    with transaction(make_sessionmaker(db_engine)) as session:
        audit.audit_read(session, reader, "lost_person_photo", "case-12", NOW)
    with make_sessionmaker(db_engine)() as session:
        (row,) = audit.list_records(session)
    assert (row.actor, row.action, row.target_type, row.target_id, row.outcome) == (
        "commander-7",
        "record.read",
        "lost_person_photo",
        "case-12",
        "success",
    )


def test_list_records_newest_first_with_filters(db_engine: Engine) -> None:
    _append(db_engine, 4)
    with make_sessionmaker(db_engine)() as session:
        newest = audit.list_records(session, limit=2)
        assert [r.target_id for r in newest] == ["p3", "p2"]
        older = audit.list_records(session, before_id=newest[-1].id)
        assert [r.target_id for r in older] == ["p1", "p0"]
        assert audit.list_records(session, actor="nobody") == []
        assert len(audit.list_records(session, action="plan.start")) == 4


def test_concurrent_appends_do_not_fork_the_chain(db_engine: Engine) -> None:
    """Writers that each read the last hash and append must queue, not branch."""
    threads, per_thread = 6, 5
    factory = make_sessionmaker(db_engine)
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with transaction(factory) as session:
                    audit.append(
                        session,
                        actor=f"writer-{n}",
                        action="test.append",
                        target_type="test",
                        target_id=str(i),
                        outcome=audit.Outcome.SUCCESS,
                        now=NOW,
                    )
        except BaseException as exc:  # reported below, with the thread's failure
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    report = _verify(db_engine)
    assert report.intact and report.rows == threads * per_thread
    with factory() as session:
        distinct = session.scalar(select(func.count(func.distinct(AuditRow.prev_hash))))
    assert distinct == threads * per_thread
