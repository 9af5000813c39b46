"""Excused weeks: either person out of office, or an organisation holiday (PRODUCT.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from integrations.base import CalendarProvider, OutOfOfficeReader
from scheduler.availability import PersonAvailability
from scheduler.db import Database
from scheduler.intervals import BusyKind, Interval
from scheduler.models import Organization, Person, Series, Session
from scheduler.recurrence import local_instant
from scheduler.usecases.scope import get_in_org
from scheduler.usecases.sessions import reclassify
from scheduler.usecases.stored_availability import read_availability


def excuse_reason(
    occurrence: Interval,
    day: date,
    holidays: set[date],
    people: Mapping[str, PersonAvailability],
) -> str:
    """Why a week is excused ('' when it is not): a holiday on its day, or someone's
    out-of-office time over the meeting."""
    if day in holidays:
        return "organisation holiday"
    for name, availability in people.items():
        if any(
            busy.kind == BusyKind.OUT_OF_OFFICE and busy.interval.overlaps(occurrence)
            for busy in availability.busy
        ):
            return f"{name} out of office"
    return ""


def mark_excused_weeks(
    database: Database,
    provider: CalendarProvider,
    *,
    org_id: str,
    manager_id: str,
    from_day: date,
    weeks: int,
    now: datetime,
    own_calendars: Mapping[str, CalendarProvider] | None = None,
) -> int:
    """Mark the manager's sessions in ``weeks`` weeks from ``from_day`` excused or not, from
    what the calendars say now (one read for the whole team); returns how many changed."""
    with database.session() as db:
        org = db.get(Organization, org_id)
        assert org is not None
        manager = get_in_org(db, Person, org_id, manager_id)
        zone = ZoneInfo(manager.zone)
        window = Interval(
            local_instant(from_day, time(0), zone),
            local_instant(from_day + timedelta(weeks=weeks), time(0), zone),
        )
        rows = list(
            db.scalars(
                select(Session).where(
                    Session.organization_id == org_id,
                    Session.manager_id == manager_id,
                    Session.scheduled_start >= window.start,
                    Session.scheduled_start < window.end,
                )
            )
        )
        people = {
            person.id: person
            for person in db.scalars(
                select(Person).where(
                    Person.organization_id == org_id,
                    Person.id.in_({manager_id} | {row.rep_id for row in rows}),
                )
            )
        }
        holidays = {date.fromisoformat(day) for day in org.holidays}
    if not rows:
        return 0
    seen = read_availability(
        provider, [person.email for person in people.values()], window, own_calendars
    )
    for calendar in {provider, *(own_calendars or {}).values()}:
        if isinstance(calendar, OutOfOfficeReader):  # Google: free/busy hides absences
            away = calendar.out_of_office(window)
            if away.email in seen:
                known = seen[away.email]
                seen[away.email] = replace(known, busy=known.busy + away.busy)
    changed = 0
    with database.session() as db:
        current = list(db.scalars(select(Session).where(Session.id.in_([r.id for r in rows]))))
        for row in current:
            series = db.get(Series, row.series_id)
            assert series is not None
            occurrence = Interval(
                row.current_start or row.scheduled_start, row.current_end or row.scheduled_end
            )
            pair = {
                people[person_id].name or people[person_id].email: seen[people[person_id].email]
                for person_id in (row.manager_id, row.rep_id)
            }
            day = occurrence.start.astimezone(ZoneInfo(series.zone)).date()
            reason = excuse_reason(occurrence, day, holidays, pair)
            if (row.excused, row.excused_reason) != (bool(reason), reason):
                row.excused, row.excused_reason = bool(reason), reason
                changed += 1
        reclassify(db, current, now=now)
    return changed
