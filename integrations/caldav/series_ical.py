"""A Cadence weekly series as iCalendar: the one VEVENT builder, and the edits made to it.

A series is one calendar object: a master VEVENT (``RRULE``, ``DTSTART;TZID=`` with its
VTIMEZONE) plus one VEVENT per changed occurrence (``RECURRENCE-ID``). Everything Cadence
writes is marked with X- properties so that changes made by others can be told apart.
Pure functions over ``icalendar`` values: no I/O, ``now`` passed in.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, date, datetime, time, timedelta

import icalendar

from integrations.base import AgendaDocument, SeriesSpec
from scheduler.recurrence import local_instant

PRODID = "-//Cadence//Weekly 1:1s//EN"
SERIES_PROPERTY = "X-CADENCE-SERIES"
ORGANIZATION_PROPERTY = "X-CADENCE-ORGANIZATION"
# The hash of the DESCRIPTION Cadence wrote: a different DESCRIPTION was edited by someone.
AGENDA_HASH_PROPERTY = "X-CADENCE-AGENDA-SHA256"
_SECOND = timedelta(seconds=1)
# What makes the master a series; an override of one occurrence has none of it.
_SERIES_ONLY = ("RRULE", "RDATE", "EXDATE", "EXRULE", "DTSTART", "DTEND", "DURATION")


def series_uid(series_id: str) -> str:
    """The iCalendar UID of a series: derived from Cadence's id, so a retry finds it again."""
    return f"cadence-series-{series_id}"


def agenda_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def series_event(spec: SeriesSpec, now: datetime) -> icalendar.Event:
    """The master VEVENT for ``spec``: weekly from its first slot, in the slot's zone.

    Occurrences that differ are copies of it (``_override_to_edit``), changed by the same
    ``set_times`` and ``set_agenda`` used here.
    """
    event = icalendar.Event()
    event.add("uid", series_uid(spec.series_id))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("sequence", 0)
    event.add("summary", spec.title)
    rule: dict[str, object] = {"freq": "weekly", "byday": spec.slot.rrule_day}
    if spec.until is not None:
        # UTC, as RFC 5545 requires with a zoned DTSTART; the last day is included.
        rule["until"] = local_midnight(spec.until + timedelta(days=1), spec) - _SECOND
    event.add("rrule", rule)
    first_day = spec.slot.first_on_or_after(spec.first_day)
    # The wall-clock time, not a converted instant: the RRULE repeats what DTSTART says.
    first = datetime.combine(first_day, spec.slot.local_time, tzinfo=spec.slot.tz)
    set_times(event, first, spec.slot.duration)
    event.add("organizer", _address(spec.organiser_email))
    event.add(
        "attendee",
        _address(spec.attendee_email),
        parameters={
            "CUTYPE": "INDIVIDUAL",
            "ROLE": "REQ-PARTICIPANT",
            "PARTSTAT": "NEEDS-ACTION",
            "RSVP": "TRUE",
        },
    )
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add(SERIES_PROPERTY, spec.series_id)
    event.add(ORGANIZATION_PROPERTY, spec.organization_id)
    set_agenda(event, spec.agenda)
    return event


def new_series(spec: SeriesSpec, now: datetime) -> icalendar.Calendar:
    """The calendar object that books ``spec``: VTIMEZONE and master VEVENT."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add_component(vtimezone(spec.slot.zone, since=spec.first_day))
    calendar.add_component(series_event(spec, now))
    return calendar


def vtimezone(zone: str, since: date) -> icalendar.Timezone:
    """The VTIMEZONE for ``zone`` from the start of ``since``'s year, one RDATE per line.

    One line each because Radicale (vobject) keeps only the first value of a comma-separated
    RDATE inside a VTIMEZONE, which would leave every later DST change out.
    """
    timezone = icalendar.Timezone.from_tzid(zone, first_date=date(since.year, 1, 1))
    for observance in timezone.subcomponents:
        transitions = [instant for instant, _ in observance.rdates]
        observance.pop("RDATE", None)
        for instant in transitions:
            observance.add("rdate", instant)
    return timezone


def set_times(event: icalendar.Event, start: datetime, duration: timedelta) -> None:
    """Set DTSTART and DTEND (same zone), replacing DURATION or earlier times."""
    for name in ("DTSTART", "DTEND", "DURATION"):
        event.pop(name, None)
    event.add("dtstart", start)
    event.add("dtend", start + duration)


def set_agenda(event: icalendar.Event, agenda: AgendaDocument) -> None:
    """The agenda as DESCRIPTION (plain text) and ATTACH (its page), with the hash of what
    Cadence wrote."""
    for name in ("DESCRIPTION", "ATTACH", AGENDA_HASH_PROPERTY):
        event.pop(name, None)
    event.add("description", agenda.text)
    if agenda.url:
        event.add("attach", agenda.url, parameters={"FMTTYPE": "text/html"})
    event.add(AGENDA_HASH_PROPERTY, agenda_hash(agenda.text))


def master(calendar: icalendar.Calendar) -> icalendar.Event:
    """The VEVENT carrying the RRULE (the one without RECURRENCE-ID)."""
    for event in calendar.events:
        if "RECURRENCE-ID" not in event:
            return event
    raise ValueError("the calendar object has no master VEVENT")


def override_for(calendar: icalendar.Calendar, original_start: datetime) -> icalendar.Event | None:
    """The VEVENT overriding the occurrence that was due at ``original_start``, if any."""
    target = original_start.astimezone(UTC)
    for event in calendar.events:
        recurrence_id = event.get("RECURRENCE-ID")
        if recurrence_id is not None and to_utc(recurrence_id.dt) == target:
            return event
    return None


def cancel_occurrence(
    calendar: icalendar.Calendar, spec: SeriesSpec, original_start: datetime, now: datetime
) -> None:
    """Exclude one occurrence (EXDATE) and drop any override that would bring it back."""
    existing = override_for(calendar, original_start)
    if existing is not None:
        calendar.subcomponents.remove(existing)
    series = master(calendar)
    if original_start.astimezone(UTC) not in {to_utc(excluded) for excluded in series.exdates}:
        series.add("exdate", original_start.astimezone(spec.slot.tz))
    _revise(series, now)


def move_occurrence(
    calendar: icalendar.Calendar,
    spec: SeriesSpec,
    original_start: datetime,
    new_start: datetime,
    now: datetime,
) -> None:
    """Give one occurrence a new start, keeping its duration (and any agenda it already has)."""
    override = _override_to_edit(calendar, spec, original_start, now)
    set_times(override, new_start.astimezone(spec.slot.tz), spec.slot.duration)


def replace_agenda(
    calendar: icalendar.Calendar,
    spec: SeriesSpec,
    original_start: datetime,
    agenda: AgendaDocument,
    now: datetime,
) -> None:
    """Give one occurrence its own agenda (it keeps its time, moved or not)."""
    override = _override_to_edit(calendar, spec, original_start, now)
    set_agenda(override, agenda)


def end_series(
    calendar: icalendar.Calendar, spec: SeriesSpec, from_day: date, now: datetime
) -> bool:
    """Stop the series before ``from_day`` (local); False if no occurrence would remain."""
    series = master(calendar)
    cutoff = local_midnight(from_day, spec)
    if to_utc(series.start) >= cutoff:
        return False
    until = cutoff - _SECOND
    rule = series["RRULE"]
    if not isinstance(rule, icalendar.vRecur):
        raise ValueError("a Cadence series has exactly one RRULE")
    current = rule.get("UNTIL")
    if current is None or to_utc(current[0]) > until:
        rule.pop("COUNT", None)
        rule["UNTIL"] = [until]
    # Overrides past the end would linger in some clients as stray one-off meetings.
    for event in list(calendar.events):
        recurrence_id = event.get("RECURRENCE-ID")
        if recurrence_id is not None and to_utc(recurrence_id.dt) >= cutoff:
            calendar.subcomponents.remove(event)
    _revise(series, now)
    return True


def local_midnight(day: date, spec: SeriesSpec) -> datetime:
    """The UTC instant ``day`` starts in the slot's zone."""
    return local_instant(day, time(0), spec.slot.tz)


def to_utc(value: datetime | date) -> datetime:
    """An iCalendar DATE-TIME (or DATE, taken as UTC midnight) as an aware UTC datetime."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=UTC)
    if value.tzinfo is None:  # floating time: iCalendar leaves it to the reader; take UTC
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _override_to_edit(
    calendar: icalendar.Calendar, spec: SeriesSpec, original_start: datetime, now: datetime
) -> icalendar.Event:
    """The override for ``original_start``; a new one is a copy of the series, as calendar
    apps make them, so that what anyone added (a room, a call link, answers) carries over."""
    override = override_for(calendar, original_start)
    if override is None:
        series = master(calendar)
        override = copy.deepcopy(series)
        for name in _SERIES_ONLY:
            override.pop(name, None)
        override.add("recurrence-id", original_start.astimezone(spec.slot.tz))
        set_times(override, original_start.astimezone(spec.slot.tz), spec.slot.duration)
        calendar.add_component(override)
    _revise(override, now)
    return override


def _revise(event: icalendar.Event, now: datetime) -> None:
    """A new SEQUENCE (and DTSTAMP) tells attendees' clients this version replaces the last."""
    sequence = int(event.pop("SEQUENCE", 0)) + 1
    event.add("sequence", sequence)
    event.pop("DTSTAMP", None)
    event.add("dtstamp", now.astimezone(UTC))


def _address(email: str) -> icalendar.vCalAddress:
    return icalendar.vCalAddress(f"mailto:{email}")
