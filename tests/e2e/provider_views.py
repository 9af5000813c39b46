"""What an end-to-end test does to, and reads from, the calendar behind a stack, the same way
for each provider: the Google emulator, the Graph emulator, or Radicale (CalDAV).

``add_rep_busy`` puts busy time on the rep's calendar as another app would, ``remove_busy``
takes it away, and ``occurrence_at`` reads where the provider now has the 1:1 that was at an
original start: ``None`` while that week is where the series puts it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import icalendar
from caldav.collection import Calendar

from scheduler.models import Provider, Series
from tests.e2e.conftest import CALDAV_LOGINS, Stack


def add_rep_busy(stack: Stack, start: datetime, end: datetime, summary: str) -> str:
    """A busy event on the rep's calendar; its id for ``remove_busy``."""
    rep = stack.rep_email
    if stack.provider is Provider.GOOGLE:
        return str(stack.google.add_busy(rep, start, end, summary=summary))
    if stack.provider is Provider.MICROSOFT:
        assert stack.graph is not None
        return stack.graph.add_event(rep, summary, start, end)
    uid = f"busy-{uuid.uuid4().hex}"
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("summary", summary)
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("dtstamp", datetime.now(UTC))
    body = icalendar.Calendar()
    body.add("prodid", "-//another app//EN")
    body.add("version", "2.0")
    body.add_component(event)
    _calendar(stack, rep).save_event(body.to_ical().decode())
    return uid


def remove_busy(stack: Stack, event_id: str) -> None:
    rep = stack.rep_email
    if stack.provider is Provider.GOOGLE:
        stack.google.delete_event(rep, event_id)
    elif stack.provider is Provider.MICROSOFT:
        assert stack.graph is not None
        stack.graph.delete_series(event_id)  # deletes any event by its id
    else:
        _calendar(stack, rep).event_by_uid(event_id).delete()


def occurrence_at(stack: Stack, series: Series, original: datetime) -> datetime | None:
    """Where the manager's calendar has the occurrence that was at ``original``, if moved."""
    if stack.provider is Provider.GOOGLE:
        for event in stack.google.events(stack.manager_email):
            if event.get("recurringEventId") != series.provider_event_id:
                continue
            was = datetime.fromisoformat(event["originalStartTime"]["dateTime"])
            if was == original:
                return datetime.fromisoformat(event["start"]["dateTime"])
        return None
    if stack.provider is Provider.MICROSOFT:
        assert stack.graph is not None
        master = stack.graph.calendars.find(series.provider_event_id)
        change = master.exceptions.get(original.astimezone(UTC))
        return None if change is None or change.start is None else change.start
    stored = _calendar(stack, stack.manager_email).event_by_uid(series.provider_event_id)
    for part in icalendar.Calendar.from_ical(stored.data).walk("VEVENT"):
        was = part.get("recurrence-id")
        if was is not None and was.dt == original:
            start: datetime = part.decoded("dtstart")
            return start
    return None


def _calendar(stack: Stack, email: str) -> Calendar:
    assert stack.radicale is not None
    client = stack.radicale.client(CALDAV_LOGINS[email])
    return client.principal().calendar(cal_id=stack.calendar_name)
