"""The demo people's own calendars: the busy weeks of a sales team, written into Radicale.

Everything is on each person's wall clock (with a VTIMEZONE, as calendar apps write it):
a daily stand-up, a few weekly meetings, customer calls in the weeks ahead, vacations
(all-day "Vacation" events, which Cadence reads as out of office). None of it sits on a
person's standing 1:1, except a few deliberate clashes in the coming weeks so that the
conflicts page has something to show. Two more land "an hour before the demo starts", after
Cadence's first read of everyone's busy time (``new_clashes``): they are the new conflicts the
seed's notice run acts on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from caldav.collection import Calendar as DavCalendar
from caldav.davclient import DAVClient

from integrations.caldav.series_ical import vtimezone
from web.demo.people import CALENDAR_NAME, HISTORY_WEEKS, DemoPerson, Role
from web.demo.radicale import RadicaleServer

_PRODID = "-//Cadence demo//Busy weeks//EN"
# Stable UIDs: the same person's same event is the same object on every seed.
_UID_NAMESPACE = uuid.UUID("6f0c2f4e-4d7b-4a53-9a57-9d0e8f6c1a11")
_CUSTOMERS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka")


@dataclass(frozen=True)
class BusyEvent:
    """One event of a person's own: ``start`` local (``None`` ``at`` means all day)."""

    summary: str
    day: date
    at: time | None
    minutes: int = 60
    weekly_on: str = ""  # an RRULE BYDAY list ("MO,TU"): repeats every week from ``day``
    every_weeks: int = 1
    last_day: date | None = None  # an all-day event's last day


def busy_events(person: DemoPerson, history_monday: date) -> list[BusyEvent]:
    """The person's events from a week before the history to ~14 weeks ahead."""
    start = history_monday - timedelta(weeks=1)
    now_monday = history_monday + timedelta(weeks=HISTORY_WEEKS)
    events = [BusyEvent("Team stand-up", start, time(9), 15, weekly_on="MO,TU,WE,TH,FR")]
    if person.role in (Role.MANAGER, Role.ADMIN):
        events += [
            BusyEvent("Pipeline review", start, time(14), 60, weekly_on="MO"),
            BusyEvent("Forecast call with leadership", start + timedelta(3), time(16), 30, "TH"),
            BusyEvent("Hiring interviews", start + timedelta(2), time(11), 90, "WE"),
        ]
    else:
        events += [
            BusyEvent("Prospecting block", start, time(13), 120, weekly_on="TU,TH"),
            BusyEvent("Sales team training", start + timedelta(2), time(16), 60, "WE", 2),
            BusyEvent(
                f"Account check-in: {_customer(person, 0)}",
                start + timedelta(4),
                time(11),
                30,
                "FR",
            ),
        ]
        # Customer calls in the coming weeks, late afternoon, away from any 1:1.
        for week in range(1, 9):
            weekday = (week + len(person.key)) % 4
            events.append(
                BusyEvent(
                    f"Call with {_customer(person, week)}",
                    now_monday + timedelta(weeks=week, days=weekday),
                    time(16),
                    45,
                )
            )
    for week, length in _vacation_weeks(person):
        first = history_monday + timedelta(weeks=week)
        events.append(
            BusyEvent("Vacation", first, None, last_day=first + timedelta(weeks=length, days=-3))
        )
    events += _clashes(person, now_monday)
    return events


def _customer(person: DemoPerson, index: int) -> str:
    return _CUSTOMERS[(index + sum(map(ord, person.key))) % len(_CUSTOMERS)]


def _vacation_weeks(person: DemoPerson) -> Iterator[tuple[int, int]]:
    """(weeks after the history's first Monday, how many weeks) of each vacation."""
    week = 0
    while week < len(person.plan):
        if person.plan[week] == "E":
            length = len(person.plan[week:]) - len(person.plan[week:].lstrip("E"))
            yield week, length
            week += length
        else:
            week += 1
    for ahead in person.vacations:
        yield HISTORY_WEEKS + ahead, 1


def _clashes(person: DemoPerson, now_monday: date) -> list[BusyEvent]:
    """Deliberate collisions with a coming 1:1, for the conflicts page."""
    if person.key == "emma":  # Monday in two weeks, the whole morning in London
        return [BusyEvent("Onsite at Initech", now_monday + timedelta(weeks=2), time(9, 30), 180)]
    return []


def new_clashes(now_monday: date) -> list[tuple[str, BusyEvent]]:
    """(person key, event) of the busy blocks added to a calendar after Cadence last read it,
    each over next week's 1:1 of its pair: Alice's customer demo clashes with her Monday 1:1
    with Patrick (who is asked), Jack's onsite with his Tuesday 1:1 with Matt (whose weeks
    move automatically)."""
    next_monday = now_monday + timedelta(weeks=1)
    return [
        ("alice", BusyEvent("Customer demo: Globex", next_monday, time(10))),
        ("jack", BusyEvent("Onsite at Hooli", next_monday + timedelta(days=1), time(9, 30), 150)),
    ]


def to_ical(person: DemoPerson, event: BusyEvent, since: date) -> bytes:
    """``event`` as the calendar object another calendar app would store."""
    zone = ZoneInfo(person.zone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", _PRODID)
    calendar.add("version", "2.0")
    vevent = icalendar.Event()
    key = f"{person.key}/{event.summary}/{event.day.isoformat()}"
    vevent.add("uid", str(uuid.uuid5(_UID_NAMESPACE, key)))
    vevent.add("dtstamp", datetime.combine(since, time(0), tzinfo=ZoneInfo("UTC")))
    vevent.add("summary", event.summary)
    if event.at is None:
        vevent.add("dtstart", event.day)
        vevent.add("dtend", (event.last_day or event.day) + timedelta(days=1))
        vevent.add("transp", "OPAQUE")
    else:
        calendar.add_component(vtimezone(person.zone, since))
        start = datetime.combine(event.day, event.at, tzinfo=zone)
        vevent.add("dtstart", start)
        vevent.add("dtend", start + timedelta(minutes=event.minutes))
        if event.weekly_on:
            rule: dict[str, str | int | list[str]] = {
                "freq": "weekly",
                "byday": event.weekly_on.split(","),
            }
            if event.every_weeks > 1:
                rule["interval"] = event.every_weeks
            vevent.add("rrule", rule)
    calendar.add_component(vevent)
    ical: bytes = calendar.to_ical()
    return ical


def write_calendar(server: RadicaleServer, person: DemoPerson, history_monday: date) -> None:
    """Create the person's "Work" calendar in Radicale and fill it with their busy weeks."""
    since = history_monday - timedelta(weeks=1)
    with server.client(person.key) as client:
        calendar = client.principal().make_calendar(name=CALENDAR_NAME, cal_id="work")
        for event in busy_events(person, history_monday):
            calendar.add_event(to_ical(person, event, since).decode())


def add_event(
    server: RadicaleServer, person: DemoPerson, event: BusyEvent, history_monday: date
) -> None:
    """Add ``event`` to the person's "Work" calendar, as their calendar app would."""
    since = history_monday - timedelta(weeks=1)
    with server.client(person.key) as client:
        work_calendar(client).add_event(to_ical(person, event, since).decode())


def work_calendar(client: DAVClient) -> DavCalendar:
    """The user's "Work" calendar."""
    found: DavCalendar = next(
        each
        for each in client.principal().get_calendars()
        if each.get_display_name() == CALENDAR_NAME
    )
    return found
