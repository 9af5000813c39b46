from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from scheduler.availability import PersonAvailability
from scheduler.intervals import Busy, BusyKind, Interval
from scheduler.models import Organization, Session
from scheduler.outcomes import SessionOutcome
from scheduler.usecases.excusals import mark_excused_weeks
from tests.memory_provider import MemoryCalendar
from tests.scheduler.usecases.conftest import MONDAY, NOW
from tests.scheduler.usecases.test_booking import book

FIRST = datetime(2026, 10, 20, 13, tzinfo=UTC)  # Tuesday 9:00 New York
LATER = NOW + timedelta(weeks=8)


def mark(database, calendar, team):
    return mark_excused_weeks(
        database,
        calendar,
        org_id=team.org_id,
        manager_id=team.manager_id,
        from_day=MONDAY,
        weeks=4,
        now=LATER,
    )


def excusals(database):
    with database.session() as db:
        rows = db.scalars(select(Session).order_by(Session.scheduled_start).limit(4))
        return [(row.excused_reason, row.outcome) for row in rows]


def test_out_of_office_and_holidays_excuse_their_weeks(database, calendar, team):
    book(database, calendar, team)
    # George is on vacation the second week; the third Tuesday is a company holiday.
    vacation = FIRST + timedelta(weeks=1) - timedelta(days=1)
    calendar.add_busy(
        "george@acme.test", vacation, vacation + timedelta(days=3), kind=BusyKind.OUT_OF_OFFICE
    )
    # Plain busy time does not excuse a week: it is a conflict to move.
    calendar.add_busy("pat@acme.test", FIRST, FIRST + timedelta(hours=1))
    with database.session() as db:
        db.scalar(select(Organization)).holidays = ["2026-11-03"]

    assert mark(database, calendar, team) == 2
    assert excusals(database) == [
        ("", SessionOutcome.UNDOCUMENTED),
        ("George out of office", SessionOutcome.EXCUSED),
        ("organisation holiday", SessionOutcome.EXCUSED),
        ("", SessionOutcome.UNDOCUMENTED),
    ]
    assert calendar.calls["free_busy"] == 1


def test_a_vacation_taken_back_un_excuses_the_week(database, calendar, team):
    book(database, calendar, team)
    start = FIRST - timedelta(hours=1)
    calendar.add_busy(
        "pat@acme.test", start, start + timedelta(hours=3), kind=BusyKind.OUT_OF_OFFICE
    )
    assert mark(database, calendar, team) == 1
    calendar.busy.clear()
    assert mark(database, calendar, team) == 1
    assert excusals(database)[0] == ("", SessionOutcome.UNDOCUMENTED)


class CalendarTellingAbsences(MemoryCalendar):
    """A calendar whose free/busy hides absences but lists them apart (as Google does)."""

    def __init__(self, email, away):
        super().__init__()
        self.email, self.away = email, away

    def out_of_office(self, window):
        self.calls["out_of_office"] += 1
        return PersonAvailability(self.email, busy=(Busy(self.away, BusyKind.OUT_OF_OFFICE),))


def test_absences_a_calendar_lists_apart_excuse_their_weeks(database, team):
    calendar = CalendarTellingAbsences(
        "pat@acme.test", Interval(FIRST - timedelta(hours=2), FIRST + timedelta(hours=8))
    )
    book(database, calendar, team)
    assert mark(database, calendar, team) == 1
    assert excusals(database)[0] == ("Patrick out of office", SessionOutcome.EXCUSED)
    assert (calendar.calls["free_busy"], calendar.calls["out_of_office"]) == (1, 1)
