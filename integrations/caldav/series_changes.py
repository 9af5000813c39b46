"""What others did to a Cadence series, read from its iCalendar state.

CalDAV tells us only *that* an object changed, never what changed. So each Cadence series
is reduced to a set of facts (this occurrence is cancelled, that one moved to 10:00, the rep
declined, the agenda differs from what Cadence wrote...). The facts seen last time travel in
the sync cursor; a fact that is new now is a ``CalendarChange``. The same fact reached two
ways (an EXDATE, or an override with STATUS:CANCELLED) is one fact, so switching between
them is no change. A fact that disappears (an occurrence restored) is not reported: the
interface has no kind for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import icalendar

from integrations.base import CalendarChange, ChangeKind, Response
from integrations.caldav.series_ical import (
    AGENDA_HASH_PROPERTY,
    SERIES_PROPERTY,
    agenda_hash,
    master,
    to_utc,
)

Fact = tuple[str, ...]

_RESPONSES = {
    "NEEDS-ACTION": Response.NEEDS_ACTION,
    "ACCEPTED": Response.ACCEPTED,
    "TENTATIVE": Response.TENTATIVE,
    "DECLINED": Response.DECLINED,
}


@dataclass(frozen=True)
class ObservedSeries:
    """A Cadence series as it is now: its ids, and each fact with the change that reports it."""

    series_id: str
    uid: str
    facts: dict[Fact, CalendarChange]


def observe(data: bytes | str) -> ObservedSeries | None:
    """The facts of a calendar object, or None if Cadence did not book it."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
        series = master(calendar)
    except ValueError:  # unreadable, or no VEVENT (a task, a journal entry)
        return None
    series_id = series.get(SERIES_PROPERTY)
    if series_id is None:
        return None
    observed = ObservedSeries(str(series_id), str(series["UID"]), {})
    reader = _FactReader(observed)
    reader.read_master(series)
    for event in calendar.events:
        if "RECURRENCE-ID" in event:
            reader.read_override(event, series)
    return observed


def new_changes(seen: frozenset[Fact], now: ObservedSeries) -> list[CalendarChange]:
    """The changes reporting facts of ``now`` that were not ``seen`` before, in a stable order."""
    return [now.facts[fact] for fact in sorted(now.facts) if fact not in seen]


def deleted(series_id: str, uid: str) -> CalendarChange:
    return CalendarChange(ChangeKind.SERIES_DELETED, series_id, uid)


class _FactReader:
    def __init__(self, observed: ObservedSeries):
        self.observed = observed

    def add(self, fact: Fact, kind: ChangeKind, **details: Any) -> None:
        series = self.observed
        series.facts[fact] = CalendarChange(kind, series.series_id, series.uid, **details)

    def read_master(self, series: icalendar.Event) -> None:
        for rule in series.rrules:
            until = rule.get("UNTIL")
            if until:
                last_day = _local_day(until[0], series)
                self.add(
                    ("until", last_day.isoformat()), ChangeKind.SERIES_SHORTENED, until=last_day
                )
        for excluded in series.exdates:
            self._cancelled(to_utc(excluded))
        self._responses(series, original_start=None, baseline={})
        self._agenda(series, series, original_start=None)

    def read_override(self, event: icalendar.Event, series: icalendar.Event) -> None:
        original = to_utc(event.get("RECURRENCE-ID").dt)
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            self._cancelled(original)
            return
        start = to_utc(event.start)
        if start != original:
            end = to_utc(event.end)
            self.add(
                ("moved", original.isoformat(), start.isoformat(), end.isoformat()),
                ChangeKind.OCCURRENCE_MOVED,
                original_start=original,
                new_start=start,
                new_end=end,
            )
        # An override repeats the series' answers; only an answer of its own is news.
        self._responses(event, original_start=original, baseline=_partstats(series))
        self._agenda(event, series, original_start=original)

    def _cancelled(self, original: datetime) -> None:
        self.add(
            ("cancelled", original.isoformat()),
            ChangeKind.OCCURRENCE_CANCELLED,
            original_start=original,
        )

    def _responses(
        self, event: icalendar.Event, original_start: datetime | None, baseline: dict[str, str]
    ) -> None:
        for email, partstat in _partstats(event).items():
            response = _RESPONSES.get(partstat)
            if response in (None, Response.NEEDS_ACTION) or baseline.get(email) == partstat:
                continue
            self.add(
                ("response", _when(original_start), email, partstat),
                ChangeKind.ATTENDEE_RESPONDED,
                original_start=original_start,
                response=response,
                attendee_email=email,
            )

    def _agenda(
        self, event: icalendar.Event, series: icalendar.Event, original_start: datetime | None
    ) -> None:
        written = event.get(AGENDA_HASH_PROPERTY, series.get(AGENDA_HASH_PROPERTY))
        description = str(event.get("DESCRIPTION", ""))
        if written is None or agenda_hash(description) == str(written):
            return
        self.add(
            ("agenda", _when(original_start), agenda_hash(description)),
            ChangeKind.AGENDA_EDITED,
            original_start=original_start,
            description=description,
        )


def _partstats(event: icalendar.Event) -> dict[str, str]:
    """Attendee email (lower case) -> PARTSTAT, the organiser left out."""
    organiser = str(event.get("ORGANIZER", "")).lower().removeprefix("mailto:")
    return {
        attendee.email.lower(): str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
        for attendee in event.attendees
        if attendee.email.lower() != organiser
    }


def _local_day(instant: datetime | date, series: icalendar.Event) -> date:
    """The series' local date of ``instant`` (UNTIL is in UTC; the last day is local)."""
    if not isinstance(instant, datetime):
        return instant
    zone = series.start.tzinfo if isinstance(series.start, datetime) else None
    return to_utc(instant).astimezone(zone).date() if zone else to_utc(instant).date()


def _when(original_start: datetime | None) -> str:
    return "" if original_start is None else original_start.isoformat()
