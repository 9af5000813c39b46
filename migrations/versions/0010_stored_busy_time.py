"""stored busy time

``stored_busy_time``: each person's busy time over the horizon as one connection last read
it, with its read time and the spans that could not be read, so pages answer without asking
the provider on every view.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_busy_time",
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("window_start", scheduler.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", scheduler.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("busy", sa.JSON(), nullable=False),
        sa.Column("unknown", sa.JSON(), nullable=False),
        sa.Column("read_at", scheduler.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", scheduler.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["calendar_connections.id"],
            name=op.f("fk_stored_busy_time_connection_id_calendar_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_stored_busy_time_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_stored_busy_time_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_busy_time")),
        sa.UniqueConstraint(
            "connection_id", "person_id", name=op.f("uq_stored_busy_time_connection_id_person_id")
        ),
    )
    with op.batch_alter_table("stored_busy_time", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stored_busy_time_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stored_busy_time_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stored_busy_time_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("stored_busy_time", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stored_busy_time_person_id"))
        batch_op.drop_index(batch_op.f("ix_stored_busy_time_organization_id"))
        batch_op.drop_index(batch_op.f("ix_stored_busy_time_connection_id"))

    op.drop_table("stored_busy_time")
