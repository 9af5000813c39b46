"""Stopped cadences: manager–rep pairs with no 1:1 booked ahead, or none held for weeks.

Matt's case in the article: nothing on the calendar, nothing held, nobody notices. A pair
is every active rep with their current manager, so pairs never booked at all show too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased

from scheduler.intervals import utc
from scheduler.models import Organization, Person, Series, SeriesStatus, Session
from scheduler.outcomes import SessionOutcome

LIVE_SERIES = (SeriesStatus.BOOKING.value, SeriesStatus.ACTIVE.value)


class StopReason(enum.StrEnum):
    # No live series: deleted or ended in the calendar, or never booked.
    NOT_BOOKED = "not_booked"
    # Still booked, but no 1:1 held (debriefed) for the organisation's ``stopped_after_weeks``.
    NOT_HELD = "not_held"


@dataclass(frozen=True)
class StoppedCadence:
    manager_id: str
    manager_name: str
    rep_id: str
    rep_name: str
    reason: StopReason
    last_held_at: datetime | None
    days_since_last_held: int | None  # ``None``: never held

    def as_dict(self) -> dict[str, Any]:
        return {
            "manager_id": self.manager_id,
            "manager_name": self.manager_name,
            "rep_id": self.rep_id,
            "rep_name": self.rep_name,
            "reason": self.reason.value,
            "last_held_at": self.last_held_at.isoformat() if self.last_held_at else None,
            "days_since_last_held": self.days_since_last_held,
        }


def stopped_cadences_query(
    org_id: str, *, now: datetime, stopped_after_weeks: int, manager_id: str | None = None
) -> Select[Any]:
    """The stopped pairs, least recently held first (never held before anything).

    Built to touch little at 16,000 reps: two small sets (pairs with a live series, pairs
    with a 1:1 held since the cutoff) are hash-joined to the reps; the per-pair lookups
    (last held, booked before the cutoff) run only for the few pairs that fail one of them.
    """
    rep = aliased(Person, name="rep")
    manager = aliased(Person, name="manager")
    today = utc(now).date()
    cutoff = utc(now) - timedelta(weeks=stopped_after_weeks)
    live = (
        select(Series.rep_id, Series.manager_id)
        .where(
            Series.organization_id == org_id,
            Series.status.in_(LIVE_SERIES),
            or_(Series.until.is_(None), Series.until >= today),
        )
        .distinct()
        .subquery("live")
    )
    held = Session.outcome == SessionOutcome.HELD.value
    held_lately = (
        select(Session.rep_id, Session.manager_id)
        .where(Session.organization_id == org_id, held, Session.scheduled_start >= cutoff)
        .distinct()
        .subquery("held_lately")
    )
    # The per-pair lookups are keyed by a rep already taken from this organisation (and a
    # rep's sessions are theirs alone), so they probe the pair's index without the org.
    pair = and_(Session.rep_id == rep.id, Session.manager_id == rep.manager_id)
    # A pair booked recently and not yet due its first 1:1 is not stopped.
    booked_before_cutoff = exists().where(pair, Session.scheduled_start < cutoff)
    last_held = select(func.max(Session.scheduled_start)).where(pair, held).scalar_subquery()
    query = (
        select(
            manager.id.label("manager_id"),
            manager.name.label("manager_name"),
            rep.id.label("rep_id"),
            rep.name.label("rep_name"),
            live.c.rep_id.is_not(None).label("booked"),
            last_held.label("last_held_at"),
        )
        .join(manager, manager.id == rep.manager_id)
        .outerjoin(live, and_(live.c.rep_id == rep.id, live.c.manager_id == rep.manager_id))
        .outerjoin(
            held_lately,
            and_(held_lately.c.rep_id == rep.id, held_lately.c.manager_id == rep.manager_id),
        )
        .where(
            rep.organization_id == org_id,
            manager.organization_id == org_id,
            rep.is_rep.is_(True),
            rep.active.is_(True),
            or_(
                live.c.rep_id.is_(None),
                and_(held_lately.c.rep_id.is_(None), booked_before_cutoff),
            ),
        )
    )
    if manager_id is not None:
        query = query.where(rep.manager_id == manager_id)
    sub = query.subquery("stopped")
    return select(sub).order_by(
        sub.c.last_held_at.asc().nulls_first(), sub.c.rep_name, sub.c.rep_id
    )


def stopped_row(values: Any, *, now: datetime) -> StoppedCadence:
    row = values._mapping
    last = row["last_held_at"]
    return StoppedCadence(
        manager_id=row["manager_id"],
        manager_name=row["manager_name"],
        rep_id=row["rep_id"],
        rep_name=row["rep_name"],
        reason=StopReason.NOT_HELD if row["booked"] else StopReason.NOT_BOOKED,
        last_held_at=last,
        days_since_last_held=(utc(now).date() - last.date()).days if last else None,
    )


def stopped_cadences(
    db: DbSession, org_id: str, *, now: datetime, manager_id: str | None = None
) -> list[StoppedCadence]:
    """Stopped pairs of the organisation (or of one manager's team) as of ``now``."""
    org = db.get(Organization, org_id)
    if org is None:
        return []
    query = stopped_cadences_query(
        org_id, now=now, stopped_after_weeks=org.stopped_after_weeks, manager_id=manager_id
    )
    return [stopped_row(row, now=now) for row in db.execute(query)]


__all__ = [
    "StopReason",
    "StoppedCadence",
    "stopped_cadences",
    "stopped_cadences_query",
    "stopped_row",
]
