"""Reading both people's calendars and proposing the weekly slot for each manager–rep pair."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.availability import WorkingHours
from scheduler.db import Database
from scheduler.intervals import Interval
from scheduler.models import LIVE_SERIES, Organization, Person, Series
from scheduler.recurrence import local_instant
from scheduler.slots import SlotCandidate, find_weekly_slots
from scheduler.usecases.scope import get_in_org
from scheduler.usecases.sessions import series_slot
from scheduler.usecases.stored_availability import AvailabilityReader
from scheduler.weekgrid import Horizon, build_calendar_grid
from scheduler.working_time import hours_from_shape


def working_hours(person: Person, org: Organization) -> WorkingHours:
    """A person's working hours in their own zone: theirs, the organisation's, or 9 to 5."""
    return hours_from_shape(person.zone, person.working_hours or org.working_hours)


@dataclass(frozen=True)
class Proposal:
    rep_id: str
    candidates: list[SlotCandidate]


def propose_slots(
    database: Database,
    read: AvailabilityReader,
    *,
    org_id: str,
    manager_id: str,
    rep_ids: Sequence[str],
    first_day: date,
    limit: int = 5,
    minutes: int | None = None,
    weekdays_first: bool = False,
) -> list[Proposal]:
    """Ranked weekly slots for each rep with their manager, ``minutes`` long (the
    organisation's meeting length unless the manager chose another).

    Everyone's availability is asked of ``read`` once for the whole team (stored, or one
    free/busy read: Google and Graph answer for many people per call), and each calendar is
    laid on a grid once for all pairs.
    """
    with database.session() as db:
        org = db.get(Organization, org_id)
        assert org is not None
        manager = get_in_org(db, Person, org_id, manager_id)
        reps = [get_in_org(db, Person, org_id, rep_id) for rep_id in rep_ids]
        booked = [
            series_slot(series)
            for series in db.scalars(
                select(Series).where(
                    Series.organization_id == org_id,
                    Series.manager_id == manager_id,
                    Series.status.in_(LIVE_SERIES),
                )
            )
        ]
        horizon = Horizon(
            zone=manager.zone,
            first_day=first_day,
            weeks=org.horizon_weeks,
            duration=timedelta(minutes=minutes or org.meeting_minutes),
        )
        holidays = {date.fromisoformat(day) for day in org.holidays}
        hours = {person.email: working_hours(person, org) for person in [manager, *reps]}

    # A day either side: the reps' own zones can reach past the organiser's week.
    zone = manager.zone
    window = Interval(
        local_instant(first_day - timedelta(days=1), time(0), ZoneInfo(zone)),
        local_instant(first_day + timedelta(weeks=horizon.weeks, days=1), time(0), ZoneInfo(zone)),
    )
    emails = [manager.email, *(rep.email for rep in reps)]
    seen = read(emails, window)
    grids = {email: build_calendar_grid(seen[email], hours[email], horizon) for email in emails}
    return [
        Proposal(
            rep.id,
            find_weekly_slots(
                grids[manager.email],
                grids[rep.email],
                holidays=holidays,
                booked=booked,
                limit=limit,
                weekdays_first=weekdays_first,
            ),
        )
        for rep in reps
    ]
