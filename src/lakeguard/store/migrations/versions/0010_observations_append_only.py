"""Observations as an append-only table: the area and time index goes.

Nothing reads observations by area and time (the crowd state lives in memory and in the
sampled estimates), and every index is paid for on each of tens of thousands of inserts a
second. The unique key on sensor and event id stays: it makes a re-sent observation a
duplicate.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_area_at")


def downgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index("ix_observations_area_at", ["area_id", "at_s"], unique=False)
