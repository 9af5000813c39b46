"""push message claims

``push_message_claims``: a Google push message (channel, number) is claimed by inserting
its row before any work, so concurrent deliveries of one message request one sync.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_message_claims",
        sa.Column("channel_id", sa.String(length=200), nullable=False),
        sa.Column("message_number", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("claimed_at", scheduler.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["calendar_connections.id"],
            name=op.f("fk_push_message_claims_connection_id_calendar_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_push_message_claims_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "channel_id", "message_number", name=op.f("pk_push_message_claims")
        ),
    )
    with op.batch_alter_table("push_message_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_message_claims_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_push_message_claims_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("push_message_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_message_claims_organization_id"))
        batch_op.drop_index(batch_op.f("ix_push_message_claims_connection_id"))

    op.drop_table("push_message_claims")
