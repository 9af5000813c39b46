"""debrief nudges

``debrief_nudges``: each email asking a manager to debrief a 1:1 that ended (the nudge, then
one reminder), inserted once per (session, kind) before the email is queued, so retried or
concurrent jobs never send one twice; the reports count nudges and debriefs recorded after
them from it. Two indexes find the 1:1s that ended lately, moved or not.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.models.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = scheduler.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "debrief_nudges",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("manager_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("queued_at", UTC_DATETIME, nullable=False),
        sa.Column("grace_ends_at", UTC_DATETIME, nullable=False),
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["people.id"],
            name=op.f("fk_debrief_nudges_manager_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_debrief_nudges_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_debrief_nudges_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debrief_nudges")),
        sa.UniqueConstraint("session_id", "kind", name=op.f("uq_debrief_nudges_session_id_kind")),
    )
    with op.batch_alter_table("debrief_nudges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_debrief_nudges_manager_id"), ["manager_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_debrief_nudges_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_debrief_nudges_org_queued", ["organization_id", "queued_at"], unique=False
        )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sessions_org_scheduled_end", ["organization_id", "scheduled_end"], unique=False
        )
        batch_op.create_index(
            "ix_sessions_org_current_end", ["organization_id", "current_end"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_org_current_end")
        batch_op.drop_index("ix_sessions_org_scheduled_end")
    with op.batch_alter_table("debrief_nudges", schema=None) as batch_op:
        batch_op.drop_index("ix_debrief_nudges_org_queued")
        batch_op.drop_index(batch_op.f("ix_debrief_nudges_organization_id"))
        batch_op.drop_index(batch_op.f("ix_debrief_nudges_manager_id"))
    op.drop_table("debrief_nudges")
