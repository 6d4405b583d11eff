"""Alembic environment: runs against the engine handed over by lakeguard.store.migrate."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context

from lakeguard.store.base import UtcDateTime
from lakeguard.store.tables import metadata


def _render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations hold plain SQLAlchemy types, not our Python-side decorators.
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    context.run_migrations()
