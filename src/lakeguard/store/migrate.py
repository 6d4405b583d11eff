"""Alembic, driven from code so that `lakeguard db upgrade` needs no alembic.ini."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", "lakeguard.store:migrations")
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database schema up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (one per branch of the migration history)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions(engine: Engine) -> set[str]:
    """The newest revision of every branch in the migration scripts."""
    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def is_up_to_date(engine: Engine) -> bool:
    return current_revisions(engine) == head_revisions(engine)
