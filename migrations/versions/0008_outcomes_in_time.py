"""outcomes in time

Two rules changed what is stored, not its shape:

- nothing counts before it has happened: a week known cancelled, declined, rescheduled,
  stopped or excused (or debriefed ahead) whose time is still to come is ``upcoming`` until
  then (scheduler.outcomes), so the reports' weekly rollups are counted again;
- a pair's cadence is judged by its live series: ``people.cadence_first_start`` is the first
  1:1 of the pair's live series or of the series it continues, not the pair's first ever.

Downgrading leaves the rows as they are: the earlier code reads them the same way.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 15:30:00.000000
"""

import importlib.util
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

import scheduler.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The weeks' times as scheduler.outcomes defines them at this revision: a debriefed week
# counts from its start, one known not to take place from its end.
NOT_YET = """
UPDATE sessions SET outcome = 'upcoming'
WHERE (outcome = 'held' AND coalesce(current_start, scheduled_start) > :now)
   OR (outcome IN ('stopped', 'excused', 'cancelled', 'rescheduled', 'declined')
       AND coalesce(current_end, scheduled_end) > :now)
"""
# The pair's live series, and the one each continues (a new standing time).
FIRST_START = """
UPDATE people SET cadence_first_start = (
  SELECT min(s.scheduled_start) FROM sessions s
  WHERE s.rep_id = people.id AND s.manager_id = people.manager_id
    AND s.series_id IN (
      SELECT r.id FROM series r
      WHERE r.rep_id = people.id AND r.manager_id = people.manager_id
        AND r.status IN ('booking', 'active')
      UNION
      SELECT r.previous_series_id FROM series r
      WHERE r.rep_id = people.id AND r.manager_id = people.manager_id
        AND r.status IN ('booking', 'active') AND r.previous_series_id IS NOT NULL))
WHERE people.is_rep
"""


def _rollups() -> ModuleType:
    """Revision 0005, whose plain SQL counts the weekly rollups (unchanged since)."""
    path = Path(__file__).with_name("0005_report_rollups.py")
    spec = importlib.util.spec_from_file_location("migration_0005", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def backfill(connection: sa.Connection, now: datetime) -> None:
    """Apply both rules to the rows already stored, and count the weekly rollups again."""
    at = sa.bindparam("now", now, scheduler.models.base.UTCDateTime(timezone=True))
    connection.execute(sa.text(NOT_YET).bindparams(at))
    connection.execute(sa.text(FIRST_START))
    connection.execute(sa.text("DELETE FROM manager_weeks"))
    connection.execute(sa.text(_rollups().MANAGER_WEEKS))


def upgrade() -> None:
    backfill(op.get_bind(), datetime.now(UTC))


def downgrade() -> None:
    pass
