"""mail kinds: opt-outs, unsubscribe links, spent links, date language

``mail_opt_outs``: one row per person and kind of email they stopped. ``spent_links``: the
nonce of each single-use signed link once used (and what using it did).
``outbox_messages.unsubscribe_url``: the List-Unsubscribe link of a message ("" for account
mail). ``people.date_locale``: the language of dates in a person's emails.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 17:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.models.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = scheduler.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mail_opt_outs",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_mail_opt_outs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_mail_opt_outs_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_opt_outs")),
        sa.UniqueConstraint("person_id", "kind", name=op.f("uq_mail_opt_outs_person_id_kind")),
    )
    with op.batch_alter_table("mail_opt_outs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_opt_outs_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "spent_links",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("spent_at", UTC_DATETIME, nullable=False),
        sa.Column("outcome", sa.String(length=300), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_spent_links_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spent_links")),
        sa.UniqueConstraint("nonce", name=op.f("uq_spent_links_nonce")),
    )
    with op.batch_alter_table("spent_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spent_links_organization_id"), ["organization_id"], unique=False
        )

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unsubscribe_url", sa.String(length=2000), nullable=False, server_default="")
        )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("date_locale", sa.String(length=16), nullable=False, server_default="en_US")
        )


def downgrade() -> None:
    # Not in batch mode: SQLite (3.35+) drops the column in place. Rebuilding ``people``
    # would drop the old table, and with foreign keys on that deletes every row referring to
    # a person (ON DELETE CASCADE).
    op.drop_column("people", "date_locale")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("unsubscribe_url")
    with op.batch_alter_table("spent_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spent_links_organization_id"))
    op.drop_table("spent_links")
    with op.batch_alter_table("mail_opt_outs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_opt_outs_organization_id"))
    op.drop_table("mail_opt_outs")
