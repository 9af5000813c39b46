"""Cadence's series as Google event JSON: ids, tags, and the field builders.

One set of field builders serves insert, patch and the per-occurrence updates, so a payload is
never built twice. Value objects in, plain dicts out; no I/O here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from integrations.base import AgendaDocument, SeriesSpec
from scheduler.recurrence import local_instant

if TYPE_CHECKING:
    # Only in google-api-python-client-stubs: Calendar v3's event resource as a TypedDict.
    from googleapiclient._apis.calendar.v3 import Event

# Event ids are base32hex (a-v, 0-9), 5-1024 chars; "cadence" is spelt in that alphabet, so
# the id both marks the event as ours and decodes back to the series id, even from a bare
# ``recurringEventId`` on a cancelled occurrence that carries nothing else.
# https://developers.google.com/calendar/api/v3/reference/events/insert (id)
_ID_PREFIX = "cadence"
_MAX_ID = 1024

TAG_SERIES = "cadenceSeriesId"
TAG_ORGANIZATION = "cadenceOrganizationId"
TAG_AGENDA_HASH = "cadenceAgendaSha256"


def event_id(series_id: str) -> str:
    """The deterministic Google event id of a series (the idempotency key of the insert)."""
    encoded = base64.b32hexencode(series_id.encode()).decode().rstrip("=").lower()
    result = _ID_PREFIX + encoded
    if not series_id or len(result) > _MAX_ID:
        raise ValueError(f"series id cannot become a Google event id: {series_id!r}")
    return result


def series_id_of(google_id: str) -> str | None:
    """The series id an event id (or ``<id>_<time>`` instance id) was made from, else None."""
    base = google_id.split("_", 1)[0]
    if not base.startswith(_ID_PREFIX):
        return None
    encoded = base.removeprefix(_ID_PREFIX).upper()
    try:
        decoded = base64.b32hexdecode(encoded + "=" * (-len(encoded) % 8)).decode()
    except (binascii.Error, ValueError):
        return None
    return decoded or None


def instance_id(series_event_id: str, original_start: datetime) -> str:
    """Google's id of one occurrence: ``<eventId>_<original start, UTC basic format>``."""
    return f"{series_event_id}_{original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def agenda_hash(description: str) -> str:
    """What Cadence remembers of the description it wrote, to spot hand edits."""
    return hashlib.sha256(description.encode()).hexdigest()[:32]


def series_body(spec: SeriesSpec) -> Event:
    """The full events.insert body for a series (id, times, RRULE, guest, agenda, tags)."""
    body: Event = {
        "id": event_id(spec.series_id),
        "summary": spec.title,
        **time_fields(spec, first_start(spec)),
        **recurrence_fields(spec, spec.until),
        "attendees": [{"email": spec.attendee_email}],
        **agenda_fields(spec, spec.agenda),
    }
    if spec.video_meeting:
        body["conferenceData"] = {
            "createRequest": {
                # Deterministic, so a retried insert asks for the same meeting.
                "requestId": f"{body['id'][:60]}-meet",
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        }
    return body


def time_fields(spec: SeriesSpec, start: datetime) -> Event:
    """``start``/``end`` in the organiser's IANA zone (required for recurring events)."""
    zone = spec.slot.tz
    return {
        "start": {"dateTime": start.astimezone(zone).isoformat(), "timeZone": spec.slot.zone},
        "end": {
            "dateTime": (start + spec.slot.duration).astimezone(zone).isoformat(),
            "timeZone": spec.slot.zone,
        },
    }


def recurrence_fields(spec: SeriesSpec, until: date | None) -> Event:
    """The weekly RRULE; with ``until``, the last occurrence is on or before that local day."""
    rule = f"RRULE:FREQ=WEEKLY;BYDAY={spec.slot.rrule_day}"
    if until is not None:
        # UNTIL must be UTC when DTSTART has a zone (RFC 5545 3.3.10): the end of that local day.
        last_moment = local_instant(until, time(23, 59, 59), spec.slot.tz)
        rule += f";UNTIL={last_moment:%Y%m%dT%H%M%SZ}"
    return {"recurrence": [rule]}


def agenda_fields(spec: SeriesSpec, agenda: AgendaDocument) -> Event:
    """Description (text plus link), the agenda link as an attachment, and Cadence's tags.

    Attachments need ``supportsAttachments=true`` on the request; the link is also in the
    description because non-Drive ``fileUrl``s are not guaranteed to show (PROVIDERS.md).
    """
    description = agenda_description(agenda)
    return {
        "description": description,
        "attachments": [{"fileUrl": agenda.url, "title": agenda.title, "mimeType": "text/html"}],
        "extendedProperties": {"private": tags(spec, description)},
    }


def agenda_description(agenda: AgendaDocument) -> str:
    return f"{agenda.text.rstrip()}\n\nAgenda: {agenda.url}"


def tags(spec: SeriesSpec, description: str) -> dict[str, str]:
    """The private extended properties on every event Cadence writes (all of them, always:
    patch semantics for maps are not something to rely on)."""
    return {
        TAG_SERIES: spec.series_id,
        TAG_ORGANIZATION: spec.organization_id,
        TAG_AGENDA_HASH: agenda_hash(description),
    }


def first_start(spec: SeriesSpec) -> datetime:
    """The UTC start of the series' first occurrence."""
    return spec.slot.start_on(spec.slot.first_on_or_after(spec.first_day))
