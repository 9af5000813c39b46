"""joining by acceptance

A person someone else added is an invitation until they accept it (``people.joined_at``) or
decline it (``people.declined_at``); ``people.invited_by_id`` says who added them. A Google
or Microsoft consent waits in ``held_consents`` (its grant encrypted) while its person chooses.

People already there are members when they show they used Cadence: a password, a calendar
connection of their own, or the organisation they created or joined in the audit log. The
others (added, never signed in) are pending invitations: at their next sign-in they accept.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invited_by_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("joined_at", scheduler.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "declined_at", scheduler.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_people_invited_by_id_people"),
            "people",
            ["invited_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute(
        """
        UPDATE people SET joined_at = created_at
        WHERE password_hash IS NOT NULL
           OR EXISTS (SELECT 1 FROM calendar_connections c WHERE c.person_id = people.id)
           OR EXISTS (SELECT 1 FROM audit_log a
                      WHERE a.actor_id = people.id AND a.subject_id = people.id
                        AND a.action IN ('org.created', 'person.joined'))
        """
    )
    op.create_table(
        "held_consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column(
            "provider",
            sa.Enum("google", "microsoft", "caldav", name="provider", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_blob", sa.LargeBinary(), nullable=False),
        sa.Column("zone_reading", sa.JSON(), nullable=False),
        sa.Column("created_at", scheduler.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", scheduler.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_consents")),
    )
    with op.batch_alter_table("held_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_held_consents_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("held_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_consents_expires_at"))
    op.drop_table("held_consents")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_people_invited_by_id_people"), type_="foreignkey")
        batch_op.drop_column("declined_at")
        batch_op.drop_column("joined_at")
        batch_op.drop_column("invited_by_id")
