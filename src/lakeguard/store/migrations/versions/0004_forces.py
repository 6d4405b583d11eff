"""Forces: security companies, units, their status history and their positions.

Revision ID: 0004
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("venue_id", sa.String(length=64), nullable=False),
        sa.Column("callsign", sa.String(length=32), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("company_id", sa.String(length=64), nullable=True),
        sa.Column("home_post_id", sa.String(length=64), nullable=True),
        sa.Column("shift", sa.String(length=11), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_label", sa.String(length=32), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accuracy_m", sa.Double(), nullable=True),
        sa.Column("speed_ms", sa.Double(), nullable=True),
        sa.Column("bearing_deg", sa.Double(), nullable=True),
        sa.Column("battery", sa.Double(), nullable=True),
        sa.Column("seeded", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(station_id IS NULL) <> (company_id IS NULL)", name=op.f("ck_units_one_owner")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_units_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("device_id", name=op.f("uq_units_device_id")),
        sa.UniqueConstraint("venue_id", "callsign", name="uq_units_venue_id_callsign"),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_units_venue_id"), ["venue_id"], unique=False)

    op.create_table(
        "unit_positions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accuracy_m", sa.Double(), nullable=True),
        sa.Column("speed_ms", sa.Double(), nullable=True),
        sa.Column("bearing_deg", sa.Double(), nullable=True),
        sa.Column("altitude_m", sa.Double(), nullable=True),
        sa.Column("battery", sa.Double(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_unit_positions_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_positions")),
    )
    with op.batch_alter_table("unit_positions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_unit_positions_unit_id_reported_at", ["unit_id", "reported_at"], unique=False
        )

    op.create_table(
        "unit_status_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=True),
        sa.Column("previous", sa.String(length=16), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_unit_status_history_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_status_history")),
    )
    with op.batch_alter_table("unit_status_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_unit_status_history_unit_id_at", ["unit_id", "changed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("unit_status_history", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_status_history_unit_id_at")

    op.drop_table("unit_status_history")
    with op.batch_alter_table("unit_positions", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_positions_unit_id_reported_at")

    op.drop_table("unit_positions")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_units_venue_id"))
        batch_op.drop_index(batch_op.f("ix_units_company_id"))

    op.drop_table("units")
    op.drop_table("companies")
