"""outbox, verified email, login sessions

The outbox keeps every message Cadence sends, once per idempotency key; the weekly digests
move onto it (each digest already sent becomes a sent outbox row, so none goes out twice)
and ``digest_deliveries`` goes. ``people.email_verified_at``: password accounts made before
email verification existed count as verified since they were made. ``login_sessions``: one
row per signed-in browser, so that signing out ends it on the server.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:30:00.000000
"""

import hashlib
import uuid
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

import scheduler.models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = scheduler.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    outbox = op.create_table(
        "outbox_messages",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("to_email", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("claimed_until", UTC_DATETIME, nullable=True),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_outbox_messages_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_messages_key")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index("ix_outbox_messages_unsent", ["sent_at", "created_at"], unique=False)

    op.create_table(
        "login_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_login_sessions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_login_sessions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_sessions_person_id"), ["person_id"], unique=False
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", UTC_DATETIME, nullable=True))
    people = sa.table(
        "people",
        sa.column("password_hash"),
        sa.column("email_verified_at"),
        sa.column("created_at"),
    )
    op.execute(
        people.update()
        .where(people.c.password_hash.is_not(None))
        .values(email_verified_at=people.c.created_at)
    )

    _digests_into_outbox(outbox)
    with op.batch_alter_table("digest_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_deliveries_organization_id"))
    op.drop_table("digest_deliveries")


def _digests_into_outbox(outbox: sa.Table) -> None:
    """Each digest sent becomes a sent outbox row under the key the digest job uses."""
    deliveries = sa.table(
        "digest_deliveries",
        sa.column("organization_id", sa.String()),
        sa.column("person_id", sa.String()),
        sa.column("week_start", sa.Date()),
        sa.column("email", sa.String()),
        sa.column("message_id", sa.String()),
        sa.column("sent_at", UTC_DATETIME),
    )
    rows = op.get_bind().execute(sa.select(deliveries)).all()
    if rows:
        op.bulk_insert(
            outbox,
            [
                {
                    "id": str(uuid.uuid4()),
                    "organization_id": row.organization_id,
                    "key": f"digest/{row.week_start.isoformat()}/{row.person_id}",
                    "kind": "digest",
                    "to_email": row.email,
                    "subject": f"1:1s, week of {row.week_start:%d %b %Y}",
                    "text_body": "(Sent before Cadence kept message bodies.)",
                    "html_body": "<p>(Sent before Cadence kept message bodies.)</p>",
                    "secret": False,
                    "message_id": row.message_id
                    or f"<{hashlib.sha256(row.person_id.encode()).hexdigest()[:40]}@cadence.invalid>",
                    "created_at": row.sent_at,
                    "claimed_until": None,
                    "sent_at": row.sent_at,
                    "attempts": 1,
                    "last_error": "",
                }
                for row in rows
            ],
        )


def downgrade() -> None:
    deliveries = op.create_table(
        "digest_deliveries",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_digest_deliveries_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_digest_deliveries_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_deliveries")),
        sa.UniqueConstraint(
            "person_id", "week_start", name=op.f("uq_digest_deliveries_person_id_week_start")
        ),
    )
    with op.batch_alter_table("digest_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_digest_deliveries_organization_id"), ["organization_id"], unique=False
        )
    outbox = sa.table(
        "outbox_messages",
        sa.column("organization_id", sa.String()),
        sa.column("key", sa.String()),
        sa.column("to_email", sa.String()),
        sa.column("message_id", sa.String()),
        sa.column("sent_at", UTC_DATETIME),
    )
    sent = op.get_bind().execute(
        sa.select(outbox).where(outbox.c.key.like("digest/%"), outbox.c.sent_at.is_not(None))
    )
    rows = [
        {
            "id": str(uuid.uuid4()),
            "organization_id": row.organization_id,
            "person_id": row.key.split("/")[2],
            "week_start": date.fromisoformat(row.key.split("/")[1]),
            "email": row.to_email,
            "message_id": row.message_id,
            "sent_at": row.sent_at,
        }
        for row in sent
    ]
    if rows:
        op.bulk_insert(deliveries, rows)

    # Not in batch mode: SQLite (3.35+) drops the column in place. Rebuilding ``people``
    # would drop the old table, and with foreign keys on that deletes every row referring to
    # a person (ON DELETE CASCADE).
    op.drop_column("people", "email_verified_at")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_person_id"))
    op.drop_table("login_sessions")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_unsent")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_organization_id"))
    op.drop_table("outbox_messages")
