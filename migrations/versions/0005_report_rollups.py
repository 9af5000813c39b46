"""report rollups

What the reports read, derived from sessions, series and action items and kept current by
every flush (scheduler.reports.derived), filled here from the rows already there:

- each rep's cadence facts on their ``people`` row (first 1:1, last day booked, last held),
  so the stopped-cadence report reads one row per rep instead of probing sessions;
- ``manager_weeks`` and ``manager_item_weeks``, so the overview adds up a row per manager
  and week instead of counting every session and item of the range.

The indexes that served the old probes and counts go; the rollups recount a manager's week
of items through the new ``(series_id, created_at)`` index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 17:14:46.463660
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

import scheduler.models.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELD = sa.text("outcome = 'held'")
_COUNTS = [
    "expected", "held", "undocumented", "moved", "rescheduled", "cancelled_by_manager",
    "cancelled_by_rep", "cancelled_by_unknown", "declined", "excused", "stopped", "upcoming",
]  # fmt: skip

# The derived rows as scheduler.reports defines them at this revision, in plain SQL.
FACTS = """
UPDATE people SET
  cadence_first_start = (
    SELECT min(s.scheduled_start) FROM sessions s
    WHERE s.rep_id = people.id AND s.manager_id = people.manager_id),
  cadence_booked_through = (
    SELECT max(coalesce(r.until, :open_ended)) FROM series r
    WHERE r.rep_id = people.id AND r.manager_id = people.manager_id
      AND r.status IN ('booking', 'active')),
  cadence_last_held_at = (
    SELECT max(s.scheduled_start) FROM sessions s
    WHERE s.rep_id = people.id AND s.manager_id = people.manager_id AND s.outcome = 'held')
WHERE people.is_rep
"""
MANAGER_WEEKS = f"""
INSERT INTO manager_weeks (organization_id, manager_id, week_start, {", ".join(_COUNTS)})
SELECT organization_id, manager_id, week_start,
  sum(CASE WHEN outcome NOT IN ('excused', 'upcoming') THEN 1 ELSE 0 END),
  sum(CASE WHEN outcome = 'held' THEN 1 ELSE 0 END),
  sum(CASE WHEN outcome = 'undocumented' THEN 1 ELSE 0 END),
  sum(CASE WHEN outcome = 'moved' THEN 1 ELSE 0 END),
  sum(CASE WHEN outcome = 'rescheduled' THEN 1 ELSE 0 END),
  sum(CASE WHEN outcome = 'cancelled' AND cancelled_by = 'manager' THEN 1 ELSE 0 END),
  sum(CASE WHEN outcome = 'cancelled' AND cancelled_by = 'rep' THEN 1 ELSE 0 END),
  sum(CASE WHEN outcome = 'cancelled'
       AND coalesce(cancelled_by, 'unknown') NOT IN ('manager', 'rep') THEN 1 ELSE 0 END),
  sum(CASE WHEN outcome = 'declined' THEN 1 ELSE 0 END),
  sum(CASE WHEN outcome = 'excused' THEN 1 ELSE 0 END),
  sum(CASE WHEN outcome = 'stopped' THEN 1 ELSE 0 END),
  sum(CASE WHEN outcome = 'upcoming' THEN 1 ELSE 0 END)
FROM sessions GROUP BY organization_id, manager_id, week_start
"""
# {monday} and {done_day}: the UTC Monday of created_at and the UTC day of done_at.
ITEM_WEEKS = """
INSERT INTO manager_item_weeks (organization_id, manager_id, week_start, due_date,
  created, completed, completed_on_time, open)
SELECT r.organization_id, r.manager_id, {monday}, i.due_date,
  count(*),
  sum(CASE WHEN i.done_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN i.done_at IS NOT NULL AND {done_day} <= i.due_date THEN 1 ELSE 0 END),
  sum(CASE WHEN i.done_at IS NULL THEN 1 ELSE 0 END)
FROM action_items i JOIN series r ON r.id = i.series_id
GROUP BY r.organization_id, r.manager_id, {monday}, i.due_date
"""
_DAYS = {
    "postgresql": {
        "monday": "date_trunc('week', i.created_at AT TIME ZONE 'UTC')::date",
        "done_day": "(i.done_at AT TIME ZONE 'UTC')::date",
    },
    "sqlite": {
        "monday": "date(i.created_at, 'weekday 0', '-6 days')",
        "done_day": "date(i.done_at)",
    },
}


def backfill(connection: sa.Connection) -> None:
    """Fill the derived rows from the sessions, series and items already stored."""
    connection.execute(sa.text(FACTS).bindparams(sa.bindparam("open_ended", date.max, sa.Date())))
    connection.execute(sa.text("DELETE FROM manager_weeks"))
    connection.execute(sa.text(MANAGER_WEEKS))
    connection.execute(sa.text("DELETE FROM manager_item_weeks"))
    connection.execute(sa.text(ITEM_WEEKS.format(**_DAYS[connection.dialect.name])))


def upgrade() -> None:
    op.create_table(
        "manager_item_weeks",
        sa.Column("manager_id", sa.String(length=36), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("completed_on_time", sa.Integer(), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["people.id"],
            name=op.f("fk_manager_item_weeks_manager_id_people"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"],
            name=op.f("fk_manager_item_weeks_organization_id_organizations"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "manager_id", "week_start", "due_date", name=op.f("pk_manager_item_weeks")
        ),
    )  # fmt: skip
    with op.batch_alter_table("manager_item_weeks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_manager_item_weeks_org_week", ["organization_id", "week_start"], unique=False
        )
    op.create_table(
        "manager_weeks",
        sa.Column("manager_id", sa.String(length=36), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["people.id"],
            name=op.f("fk_manager_weeks_manager_id_people"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"],
            name=op.f("fk_manager_weeks_organization_id_organizations"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("manager_id", "week_start", name=op.f("pk_manager_weeks")),
    )  # fmt: skip
    with op.batch_alter_table("manager_weeks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_manager_weeks_org_week", ["organization_id", "week_start"], unique=False
        )
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_action_items_series_created", ["series_id", "created_at"], unique=False
        )
        batch_op.drop_index("ix_action_items_org_created")
    with op.batch_alter_table("people", schema=None) as batch_op:
        for name in ("cadence_first_start", "cadence_last_held_at"):
            batch_op.add_column(
                sa.Column(name, scheduler.models.base.UTCDateTime(timezone=True), nullable=True)
            )
        batch_op.add_column(sa.Column("cadence_booked_through", sa.Date(), nullable=True))
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_held_recent", sqlite_where=HELD, postgresql_where=HELD)
    backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sessions_held_recent",
            ["organization_id", "scheduled_start", "rep_id", "manager_id"],
            unique=False,
            sqlite_where=HELD,
            postgresql_where=HELD,
        )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("cadence_booked_through")
        batch_op.drop_column("cadence_last_held_at")
        batch_op.drop_column("cadence_first_start")
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_action_items_org_created",
            ["organization_id", "created_at", "series_id", "due_date", "done_at"],
            unique=False,
        )
        batch_op.drop_index("ix_action_items_series_created")
    with op.batch_alter_table("manager_weeks", schema=None) as batch_op:
        batch_op.drop_index("ix_manager_weeks_org_week")
    op.drop_table("manager_weeks")
    with op.batch_alter_table("manager_item_weeks", schema=None) as batch_op:
        batch_op.drop_index("ix_manager_item_weeks_org_week")
    op.drop_table("manager_item_weeks")
