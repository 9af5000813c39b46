"""Cadence's series as Graph event JSON, and Graph's date-times back as UTC instants.

One builder per piece of an event (body, attendees, series); ``create_payload`` composes
them so the create and the later updates can never disagree about a field's shape.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from integrations.base import AgendaDocument, SeriesSpec
from integrations.outlook.zones import to_iana

# Cadence's own named property (a fixed GUID, so every install tags alike). Extended
# properties are private to the mailbox that set them: they tag the organiser's copy only.
SERIES_PROPERTY_ID = "String {6f1b2c44-3a8e-4d6e-9a57-0c5d8b9e2f11} Name CadenceSeriesId"
# ``$expand`` that reads the tag back (Graph returns extended properties only when asked).
EXPAND_SERIES_PROPERTY = f"singleValueExtendedProperties($filter=id eq '{SERIES_PROPERTY_ID}')"
_TRANSACTION_NAMESPACE = uuid.UUID("0b7f7d8e-8a0c-4a8f-b1a4-5d0e4c2b9a61")
GRAPH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def transaction_id(series_id: str) -> str:
    """The transactionId Graph de-duplicates creates by: stable for one Cadence series."""
    return str(uuid.uuid5(_TRANSACTION_NAMESPACE, f"cadence-series:{series_id}"))


def graph_time(instant: datetime, zone: str) -> dict[str, str]:
    """``instant`` as a Graph ``dateTimeTimeZone`` wall-clock time in ``zone`` (IANA)."""
    local = instant.astimezone(ZoneInfo(zone))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": zone}


def parse_graph_time(value: dict[str, str]) -> datetime:
    """A Graph ``dateTimeTimeZone`` as an aware UTC datetime (7 fractional digits allowed)."""
    zone = to_iana(value.get("timeZone") or "UTC")
    if zone is None:
        raise ValueError(f"unknown time zone from Graph: {value.get('timeZone')!r}")
    head, _, fraction = value["dateTime"].rstrip("Z").partition(".")
    naive = datetime.fromisoformat(head)
    if fraction:
        naive = naive.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def utc_iso(instant: datetime) -> str:
    """``instant`` as the UTC ISO 8601 string Graph's query parameters and instants take."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant Graph sends as a string (``originalStart``) in UTC."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def time_payload(spec: SeriesSpec, start: datetime) -> dict[str, Any]:
    """``start``/``end`` of one slot from ``start``, on the organiser's wall clock."""
    return {
        "start": graph_time(start, spec.slot.zone),
        "end": graph_time(start + spec.slot.duration, spec.slot.zone),
    }


def body_payload(agenda: AgendaDocument) -> dict[str, Any]:
    """The event body: the agenda as HTML (PRODUCT.md: HTML for Outlook)."""
    return {"body": {"contentType": "HTML", "content": agenda.html}}


def attendees_payload(spec: SeriesSpec) -> dict[str, Any]:
    """The rep as the one required attendee (the organiser is implied)."""
    return {
        "attendees": [
            {"emailAddress": {"address": spec.attendee_email}, "type": "required"},
        ]
    }


def attachment_payload(agenda: AgendaDocument) -> dict[str, Any]:
    """The agenda PDF as a fileAttachment (< 3 MB; larger ones need an upload session)."""
    return {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": agenda.filename,
        "contentType": "application/pdf",
        "contentBytes": base64.b64encode(agenda.pdf).decode(),
    }


def recurrence_payload(spec: SeriesSpec, first: date, until: date | None) -> dict[str, Any]:
    """A weekly pattern in the organiser's zone from ``first`` (``range.startDate`` = start)."""
    end: dict[str, Any] = {"type": "noEnd"}
    if until is not None:
        end = {"type": "endDate", "endDate": until.isoformat()}
    return {
        "pattern": {
            "type": "weekly",
            "interval": 1,
            "daysOfWeek": [GRAPH_DAYS[spec.slot.weekday]],
            "firstDayOfWeek": "monday",
        },
        "range": {"startDate": first.isoformat(), "recurrenceTimeZone": spec.slot.zone, **end},
    }


def create_payload(spec: SeriesSpec) -> dict[str, Any]:
    """The series as first created: no attendee yet (the invite must carry the attachment)."""
    first = spec.slot.first_on_or_after(spec.first_day)
    start = spec.slot.start_on(first)
    payload: dict[str, Any] = {
        "subject": spec.title,
        **time_payload(spec, start),
        "recurrence": recurrence_payload(spec, first, spec.until),
        "transactionId": transaction_id(spec.series_id),
        "singleValueExtendedProperties": [{"id": SERIES_PROPERTY_ID, "value": spec.series_id}],
        "showAs": "busy",
        "responseRequested": True,
        **body_payload(spec.agenda),
    }
    if spec.video_meeting:
        payload |= {"isOnlineMeeting": True, "onlineMeetingProvider": "teamsForBusiness"}
    return payload


def has_attendee(event: dict[str, Any], email: str) -> bool:
    return any(
        (a.get("emailAddress") or {}).get("address", "").lower() == email.lower()
        for a in event.get("attendees") or []
    )


def series_tag(event: dict[str, Any]) -> str | None:
    """Cadence's series id on an event read with the property expanded, else ``None``."""
    for prop in event.get("singleValueExtendedProperties") or []:
        if prop.get("id", "").lower() == SERIES_PROPERTY_ID.lower():
            value: str | None = prop.get("value")
            return value
    return None


def occurrence_window(original_start: datetime) -> tuple[datetime, datetime]:
    """A window around one occurrence, for finding it with ``instances``."""
    return original_start - timedelta(minutes=1), original_start + timedelta(days=1)
