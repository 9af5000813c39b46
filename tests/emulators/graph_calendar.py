"""The emulator's calendar state: mailboxes, events, weekly series and their instances.

Series are expanded the way Exchange does it: the wall-clock start time repeats in the
event's own zone, so a 9:00 series stays at 9:00 across DST. An organiser's series is copied
onto each attendee's calendar when they are invited; the copy carries the attachments the
organiser had when the invitation went out.
"""

from __future__ import annotations

import copy
import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# Graph accepts Windows or IANA zone names; the emulator knows the few its tests use.
WINDOWS_ZONES = {
    "UTC": "UTC",
    "Pacific Standard Time": "America/Los_Angeles",
    "Eastern Standard Time": "America/New_York",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
}
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MAX_OCCURRENCES = 1000


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(WINDOWS_ZONES.get(name, name))


def parse_local(value: dict[str, str]) -> datetime:
    """A Graph ``dateTimeTimeZone`` as an aware datetime."""
    text = value["dateTime"].rstrip("Z")
    head, _, fraction = text.partition(".")
    naive = datetime.fromisoformat(head)
    if fraction:
        naive = naive.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    return naive.replace(tzinfo=zone(value["timeZone"]))


def format_in(instant: datetime, zone_name: str) -> dict[str, str]:
    """``instant`` as a Graph ``dateTimeTimeZone`` in ``zone_name`` (7 fractional digits)."""
    local = instant.astimezone(zone(zone_name))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": zone_name}


def iso_z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(prefix: str = "AAMk") -> str:
    return prefix + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


@dataclass
class Exception_:
    """What happened to one occurrence of a series (keyed by its original UTC start)."""

    cancelled: bool = False
    start: datetime | None = None
    end: datetime | None = None
    body: dict[str, Any] | None = None
    responses: dict[str, str] = field(default_factory=dict)  # attendee email -> response
    attachments: list[dict[str, Any]] | None = None  # the occurrence's own, once changed


@dataclass
class StoredEvent:
    """One event in one mailbox: a single event, a series master, or an attendee's copy."""

    mailbox: str
    data: dict[str, Any]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    exceptions: dict[datetime, Exception_] = field(default_factory=dict)
    source: StoredEvent | None = None  # the organiser's event, for an attendee's copy
    version: int = 0

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def master(self) -> StoredEvent:
        return self.source or self

    def touch(self) -> None:
        self.version += 1
        self.data["lastModifiedDateTime"] = iso_z(datetime.now(UTC))
        self.data["changeKey"] = secrets.token_hex(6)


@dataclass
class Instance:
    """An expanded occurrence (or a single event) as calendarView shows it."""

    event: StoredEvent
    original_start: datetime | None
    start: datetime
    end: datetime
    cancelled: bool
    moved: bool

    @property
    def id(self) -> str:
        if self.original_start is None:
            return self.event.id
        return f"{self.event.id}_{self.original_start.strftime('%Y%m%dT%H%M%SZ')}"


@dataclass
class Mailbox:
    email: str
    name: str
    zone_name: str = "Pacific Standard Time"
    working_days: tuple[str, ...] = DAY_NAMES[:5]
    working_start: time = time(9)
    working_end: time = time(17)
    events: dict[str, StoredEvent] = field(default_factory=dict)


def occurrence_starts(event: StoredEvent, until: datetime) -> list[datetime]:
    """The original UTC starts of a weekly series, in order, up to ``until``."""
    master = event.master
    recurrence = master.data.get("recurrence")
    first = parse_local(master.data["start"])
    if not recurrence:
        return [first.astimezone(UTC)]
    pattern, rng = recurrence["pattern"], recurrence["range"]
    tz = first.tzinfo
    wall = first.timetz().replace(tzinfo=None)
    start_day = date.fromisoformat(rng["startDate"])
    end_day = date.fromisoformat(rng["endDate"]) if rng["type"] == "endDate" else None
    limit = rng.get("numberOfOccurrences") if rng["type"] == "numbered" else None
    days = sorted(DAY_NAMES.index(d.lower()) for d in pattern["daysOfWeek"])
    week = start_day - timedelta(days=start_day.weekday())
    starts: list[datetime] = []
    for n in itertools.count():
        monday = week + timedelta(weeks=n * int(pattern.get("interval", 1)))
        for weekday in days:
            day = monday + timedelta(days=weekday)
            if day < start_day:
                continue
            instant = datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)
            if (end_day and day > end_day) or instant >= until or len(starts) >= _MAX_OCCURRENCES:
                return starts
            if limit is not None and len(starts) >= limit:
                return starts
            starts.append(instant)
    raise AssertionError("unreachable")


def instance_at(event: StoredEvent, original: datetime) -> Instance | None:
    """The occurrence of a series that originally started at ``original`` (UTC), if any."""
    if original not in occurrence_starts(event, original + timedelta(minutes=1)):
        return None
    master = event.master
    duration = parse_local(master.data["end"]) - parse_local(master.data["start"])
    change = master.exceptions.get(original, Exception_())
    start = change.start or original
    end = change.end or (start + duration)
    return Instance(event, original, start, end, change.cancelled, change.start is not None)


def instances(event: StoredEvent, window_start: datetime, window_end: datetime) -> list[Instance]:
    """Occurrences of ``event`` overlapping the window, exceptions applied (cancelled kept)."""
    master = event.master
    if not master.data.get("recurrence"):
        first = parse_local(master.data["start"]).astimezone(UTC)
        end = parse_local(master.data["end"]).astimezone(UTC)
        found = [Instance(event, None, first, end, False, False)]
    else:
        # Moved occurrences may leave their week: look a week beyond the window both ways.
        found = [
            instance
            for original in occurrence_starts(event, window_end + timedelta(days=7))
            if original > window_start - timedelta(days=7)
            and (instance := instance_at(event, original)) is not None
        ]
    return [i for i in found if i.start < window_end and i.end > window_start]


def instance_json(instance: Instance, zone_name: str) -> dict[str, Any]:
    """An instance as Graph renders it, times in ``zone_name`` (the Prefer header's)."""
    event = instance.event
    body = copy.deepcopy(event.data)
    body.pop("transactionId", None)
    body.pop("singleValueExtendedProperties", None)
    master = event.master
    change = master.exceptions.get(instance.original_start) if instance.original_start else None
    if master.data.get("recurrence"):
        body.pop("recurrence", None)
        body["seriesMasterId"] = event.id
        body["type"] = "exception" if change else "occurrence"
        body["originalStart"] = iso_z(instance.original_start or instance.start)
        if change and change.body:
            body["body"] = change.body
        if change and change.responses:
            for attendee in body.get("attendees", []):
                answer = change.responses.get(attendee["emailAddress"]["address"].lower())
                if answer:
                    attendee["status"] = {"response": answer, "time": iso_z(datetime.now(UTC))}
    else:
        body["type"] = "singleInstance"
    body["id"] = instance.id
    body["start"] = format_in(instance.start, zone_name)
    body["end"] = format_in(instance.end, zone_name)
    body["isCancelled"] = instance.cancelled
    return body


def calendar_view(box: Mailbox, start: datetime, end: datetime) -> list[Instance]:
    """What ``box``'s calendar shows over a window: the organiser loses cancelled
    occurrences; an attendee keeps them, marked cancelled, until they remove them."""
    shown = []
    for stored in list(box.events.values()):
        for instance in instances(stored, start, end):
            if instance.cancelled and stored.source is None:
                continue
            if stored.source is not None and stored.data.get("isCancelled"):
                instance.cancelled = True
            shown.append(instance)
    return shown
