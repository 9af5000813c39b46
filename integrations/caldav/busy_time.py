"""Busy time from a person's own CalDAV calendar, read from events expanded over a window.

Not busy: TRANSP:TRANSPARENT events, STATUS:CANCELLED events, and invitations the person
declined (PARTSTAT=DECLINED on their ATTENDEE). Tentative: STATUS:TENTATIVE, or the person
answered TENTATIVE. Out of office: CalDAV has no such flag (Google and Graph do), so an
event counts as out of office when a CATEGORY or its SUMMARY says so ("Out of office",
"OOO", "Vacation", "Holiday", "PTO", "Leave"); an all-day "Vacation" is how most people
mark it. Dates without a time, and floating times, are read in the person's zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import icalendar

from scheduler.intervals import Busy, BusyKind, Interval

_OUT_OF_OFFICE = re.compile(
    r"\b(out[ -]of[ -]office|ooo|vacation|holidays?|pto|annual leave|leave)\b", re.IGNORECASE
)


def busy_time(
    events: Iterable[icalendar.Event], email: str, window: Interval, zone: ZoneInfo
) -> tuple[Busy, ...]:
    """The busy spans of ``email``'s own events, clipped to ``window``, sorted."""
    spans = []
    for event in events:
        kind = _busy_kind(event, email.lower())
        if kind is None:
            continue
        start = _instant(event.start, zone)
        end = _instant(event.end, zone)  # icalendar derives it from DURATION or a DATE
        if end <= window.start or start >= window.end:
            continue
        interval = Interval(max(start, window.start), min(end, window.end))
        spans.append(Busy(interval, kind, str(event.get("SUMMARY", ""))))
    return tuple(sorted(spans, key=lambda busy: (busy.start, busy.end)))


def _busy_kind(event: icalendar.Event, email: str) -> BusyKind | None:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return None
    status = str(event.get("STATUS", "")).upper()
    if status == "CANCELLED":
        return None
    answer = _own_partstat(event, email)
    if answer == "DECLINED":
        return None
    if _marks_out_of_office(event):
        return BusyKind.OUT_OF_OFFICE
    if status == "TENTATIVE" or answer == "TENTATIVE":
        return BusyKind.TENTATIVE
    return BusyKind.BUSY


def _own_partstat(event: icalendar.Event, email: str) -> str | None:
    for attendee in event.attendees:
        if attendee.email.lower() == email:
            return str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
    return None


def _marks_out_of_office(event: icalendar.Event) -> bool:
    labels = [str(category) for category in event.categories]
    labels.append(str(event.get("SUMMARY", "")))
    return any(_OUT_OF_OFFICE.search(label) for label in labels)


def _instant(value: datetime | date, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=zone)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value
