"""Turn a page of Google events (``events.list``, incremental or full) into Cadence changes.

Pure functions over Google's JSON. Only Cadence's events count: masters carrying our private
tag, and exceptions or tombstones whose id decodes to one of our series (a cancelled
occurrence or a deleted series carries only ``id``/``status``/``recurringEventId``/
``originalStartTime``: https://developers.google.com/calendar/api/guides/sync).

Changes are derived from each event's current state, not from a diff, so a full sync after an
expired token yields the same changes again; applying them twice is harmless (``ChangeSet``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from integrations.base import CalendarChange, ChangeKind, Response
from integrations.google.events import TAG_AGENDA_HASH, TAG_SERIES, agenda_hash, series_id_of

_RESPONSES = {
    "accepted": Response.ACCEPTED,
    "declined": Response.DECLINED,
    "tentative": Response.TENTATIVE,
}

Event = Mapping[str, Any]
_UNTIL = re.compile(r"UNTIL=(?P<day>\d{8})(?P<time>T\d{6}Z)?")


def changes_from_events(events: Iterable[Event]) -> tuple[CalendarChange, ...]:
    """Every change the events show, in order, each once."""
    seen: dict[CalendarChange, None] = {}
    for event in events:
        for change in _changes_of(event):
            seen.setdefault(change, None)
    return tuple(seen)


def _changes_of(event: Event) -> list[CalendarChange]:
    series_id = _series_id(event)
    if series_id is None:
        return []
    if event.get("recurringEventId"):
        return _occurrence_changes(event, series_id)
    return _series_changes(event, series_id)


def _series_id(event: Event) -> str | None:
    tagged = event.get("extendedProperties", {}).get("private", {}).get(TAG_SERIES)
    return tagged or series_id_of(event.get("recurringEventId") or event.get("id", ""))


def _series_changes(event: Event, series_id: str) -> list[CalendarChange]:
    base = {"series_id": series_id, "provider_event_id": event["id"]}
    if event.get("status") == "cancelled":
        return [CalendarChange(ChangeKind.SERIES_DELETED, **base)]
    changes = [
        CalendarChange(
            ChangeKind.ATTENDEE_RESPONDED, response=response, attendee_email=email, **base
        )
        for email, response in _responses(event)
    ]
    until = _until(event)
    if until is not None:
        changes.append(CalendarChange(ChangeKind.SERIES_SHORTENED, until=until, **base))
    changes.extend(_agenda_edit(event, base))
    return changes


def _occurrence_changes(event: Event, series_id: str) -> list[CalendarChange]:
    original = _instant(event["originalStartTime"])
    base = {
        "series_id": series_id,
        "provider_event_id": event["recurringEventId"],
        "original_start": original,
    }
    if event.get("status") == "cancelled":
        return [CalendarChange(ChangeKind.OCCURRENCE_CANCELLED, **base)]
    changes = []
    start, end = _instant(event["start"]), _instant(event["end"])
    if start != original:
        changes.append(
            CalendarChange(ChangeKind.OCCURRENCE_MOVED, new_start=start, new_end=end, **base)
        )
    changes.extend(
        CalendarChange(
            ChangeKind.ATTENDEE_RESPONDED, response=response, attendee_email=email, **base
        )
        for email, response in _responses(event)
    )
    changes.extend(_agenda_edit(event, base))
    return changes


def _responses(event: Event) -> list[tuple[str, Response]]:
    """Guests' answers (the organiser's own line and unanswered invitations say nothing)."""
    return [
        (person["email"], _RESPONSES[person["responseStatus"]])
        for person in event.get("attendees") or []
        if not person.get("organizer") and person.get("responseStatus") in _RESPONSES
    ]


def _agenda_edit(event: Event, base: Mapping[str, Any]) -> list[CalendarChange]:
    written = event.get("extendedProperties", {}).get("private", {}).get(TAG_AGENDA_HASH)
    description = event.get("description", "")
    if written is None or agenda_hash(description) == written:
        return []
    return [CalendarChange(ChangeKind.AGENDA_EDITED, description=description, **base)]


def _until(event: Event) -> date | None:
    """The local date of the last possible occurrence, when the RRULE has an UNTIL."""
    for line in event.get("recurrence") or []:
        found = _UNTIL.search(line) if line.startswith("RRULE:") else None
        if found and found["time"]:
            stamp = found["day"] + found["time"].replace("Z", "+0000")
            instant = datetime.strptime(stamp, "%Y%m%dT%H%M%S%z")
            return instant.astimezone(ZoneInfo(event["start"].get("timeZone", "UTC"))).date()
        if found:
            return date(int(found["day"][:4]), int(found["day"][4:6]), int(found["day"][6:]))
    return None


def _instant(when: Mapping[str, str]) -> datetime:
    """The UTC instant of a Google EventDateTime."""
    if "dateTime" in when:
        parsed = datetime.fromisoformat(when["dateTime"])
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(when["timeZone"]))
        return parsed.astimezone(UTC)
    return datetime.fromisoformat(when["date"]).replace(tzinfo=UTC)
