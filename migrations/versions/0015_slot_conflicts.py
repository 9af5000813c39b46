"""slot conflicts and conflict policies

``slot_conflicts``: each clash of other busy time with a booked week, recorded once per
session and clashing busy time, with what came of it (mailed, resolved, moved by the
manager or automatically, cancelled). ``people.conflict_policy`` (null: the organisation's)
and ``organizations.conflict_policy_default`` ("ask" or "auto").

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.models.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = scheduler.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "slot_conflicts",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("series_id", sa.String(length=36), nullable=False),
        sa.Column("manager_id", sa.String(length=36), nullable=False),
        sa.Column("rep_id", sa.String(length=36), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("occurrence_start", _UTC(timezone=True), nullable=False),
        sa.Column("detected_at", _UTC(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("busy", sa.JSON(), nullable=False),
        sa.Column("alternatives", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "mailed",
                "resolved",
                "moved",
                "moved_automatically",
                "cancelled",
                name="conflictstate",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("mailed_at", _UTC(timezone=True), nullable=True),
        sa.Column("settled_at", _UTC(timezone=True), nullable=True),
        sa.Column("moved_to", _UTC(timezone=True), nullable=True),
        sa.Column("link_nonce", sa.String(length=64), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["people.id"],
            name=op.f("fk_slot_conflicts_manager_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_slot_conflicts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rep_id"],
            ["people.id"],
            name=op.f("fk_slot_conflicts_rep_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_slot_conflicts_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_slot_conflicts_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_conflicts")),
        sa.UniqueConstraint(
            "session_id", "fingerprint", name=op.f("uq_slot_conflicts_session_id_fingerprint")
        ),
    )
    with op.batch_alter_table("slot_conflicts", schema=None) as batch_op:
        batch_op.create_index("ix_slot_conflicts_state", ["state", "detected_at"], unique=False)
        batch_op.create_index(
            "ix_slot_conflicts_org_week", ["organization_id", "week_start"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_slot_conflicts_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_slot_conflicts_session_id"), ["session_id"], unique=False
        )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conflict_policy", sa.String(length=8), nullable=True))
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "conflict_policy_default",
                sa.String(length=8),
                nullable=False,
                server_default="ask",
            )
        )


def downgrade() -> None:
    # Not in batch mode: SQLite (3.35+) drops the columns in place. Rebuilding ``people`` or
    # ``organizations`` would drop the old table, and with foreign keys on that deletes every
    # row referring to it (ON DELETE CASCADE).
    op.drop_column("organizations", "conflict_policy_default")
    op.drop_column("people", "conflict_policy")
    with op.batch_alter_table("slot_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slot_conflicts_session_id"))
        batch_op.drop_index(batch_op.f("ix_slot_conflicts_organization_id"))
        batch_op.drop_index("ix_slot_conflicts_org_week")
        batch_op.drop_index("ix_slot_conflicts_state")
    op.drop_table("slot_conflicts")
