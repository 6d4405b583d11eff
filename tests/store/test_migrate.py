from __future__ import annotations

from sqlalchemy import inspect

from lakeguard.store.migrate import (
    current_revisions,
    downgrade,
    head_revisions,
    is_up_to_date,
    upgrade,
)
from lakeguard.store.session import make_engine
from lakeguard.store.tables import metadata


def test_upgrade_creates_every_table_and_downgrade_removes_them(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current_revisions(engine) == set()
    assert not is_up_to_date(engine)

    upgrade(engine)

    assert current_revisions(engine) == head_revisions(engine)
    assert is_up_to_date(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables

    downgrade(engine, "base")

    assert current_revisions(engine) == set()
    assert not set(metadata.tables) & set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrations_match_the_models(database_url: str) -> None:
    """A model change without its migration shows up here as a difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert diff == []
