"""one push message claim per channel

``push_message_claims`` keeps one row per Google channel, the highest message number
claimed, instead of a row per message swept after each claim: a webhook claims with one
upsert in its own short transaction, and concurrent claims on a channel no longer delete
each other's rows. The claims are transient (a lost one costs at most a redundant sync), so
the table is made again empty, both ways.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.models.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "push_message_claims"


def upgrade() -> None:
    _drop()
    _create(primary_key=("channel_id",), with_claimed_at=False)


def downgrade() -> None:
    _drop()
    _create(primary_key=("channel_id", "message_number"), with_claimed_at=True)


def _drop() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_message_claims_organization_id"))
        batch_op.drop_index(batch_op.f("ix_push_message_claims_connection_id"))
    op.drop_table(TABLE)


def _create(*, primary_key: tuple[str, ...], with_claimed_at: bool) -> None:
    claimed_at = sa.Column(
        "claimed_at", scheduler.models.base.UTCDateTime(timezone=True), nullable=False
    )
    op.create_table(
        TABLE,
        sa.Column("channel_id", sa.String(length=200), nullable=False),
        sa.Column("message_number", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        *((claimed_at,) if with_claimed_at else ()),
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
        sa.PrimaryKeyConstraint(*primary_key, name=op.f("pk_push_message_claims")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_message_claims_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_push_message_claims_organization_id"), ["organization_id"], unique=False
        )
