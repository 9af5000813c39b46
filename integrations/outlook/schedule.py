"""Free/busy through ``getSchedule``: requests within Graph's limits, answers as Cadence values.

Graph answers at most 100 schedules and 62 days per call (learn.microsoft.com/graph/api/
calendar-getschedule). A schedule Graph could not read comes back with an ``error`` inside
the 200: that person's window is unknown, never free.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import time, timedelta
from typing import Any

from integrations.base import PersonAvailability, WorkingHours, split_window
from integrations.outlook.events import GRAPH_DAYS, graph_time, parse_graph_time
from integrations.outlook.graph import BatchRequest, GraphClient, checked
from integrations.outlook.zones import to_iana
from scheduler.intervals import Busy, BusyKind, Interval

SCHEDULE_URL = "/me/calendar/getSchedule"
MAX_SCHEDULES = 100
MAX_SPAN = timedelta(days=62)
VIEW_INTERVAL_MINUTES = 30
_KINDS = {
    "busy": BusyKind.BUSY,
    "tentative": BusyKind.TENTATIVE,
    "oof": BusyKind.OUT_OF_OFFICE,
}
# "free" and "workingElsewhere" (working, just not at the desk) leave a person available.
_AVAILABLE = {"free", "workingElsewhere"}


def read_availability(
    client: GraphClient, emails: Sequence[str], window: Interval
) -> dict[str, PersonAvailability]:
    """Everyone's availability over ``window``: one getSchedule call when Graph's limits
    allow it, else one ``$batch`` of them."""
    calls = list(schedule_requests(emails, window))
    if len(calls) == 1:
        bodies = [client.call("POST", SCHEDULE_URL, json=calls[0][1])]
    else:
        batch = [
            BatchRequest(str(n), "POST", SCHEDULE_URL, body) for n, (_, body) in enumerate(calls)
        ]
        answers = checked(client.batch(batch))
        bodies = [answers[str(n)] for n in range(len(calls))]
    found: defaultdict[str, list[PersonAvailability]] = defaultdict(list)
    for (span, _), body in zip(calls, bodies, strict=True):
        for item in body.get("value", []):
            availability = parse_schedule(item, span)
            found[availability.email].append(availability)
    # Someone Graph said nothing about is as unknown as someone it could not read.
    return {
        email: merge_availability(found[email])
        if found[email]
        else PersonAvailability(email, unknown=(window,))
        for email in (e.lower() for e in emails)
    }


def schedule_requests(
    emails: Sequence[str], window: Interval
) -> Iterator[tuple[Interval, dict[str, Any]]]:
    """getSchedule bodies covering ``emails`` x ``window`` within Graph's limits."""
    for span in split_window(window, MAX_SPAN):
        for first in range(0, len(emails), MAX_SCHEDULES):
            yield (
                span,
                {
                    "schedules": list(emails[first : first + MAX_SCHEDULES]),
                    "startTime": graph_time(span.start, "UTC"),
                    "endTime": graph_time(span.end, "UTC"),
                    "availabilityViewInterval": VIEW_INTERVAL_MINUTES,
                },
            )


def parse_schedule(item: dict[str, Any], span: Interval) -> PersonAvailability:
    """One ``scheduleInformation`` as the availability it says for ``span``."""
    email = item["scheduleId"].lower()
    if item.get("error"):
        return PersonAvailability(email, unknown=(span,))
    busy: list[Busy] = []
    unknown: list[Interval] = []
    for entry in item.get("scheduleItems") or []:
        status = entry.get("status", "busy")
        if status in _AVAILABLE:
            continue
        interval = Interval(parse_graph_time(entry["start"]), parse_graph_time(entry["end"]))
        if status in _KINDS:
            label = "" if entry.get("isPrivate") else entry.get("subject", "")
            busy.append(Busy(interval, _KINDS[status], label))
        else:  # "unknown" or a status newer than this code: not free
            unknown.append(interval)
    return PersonAvailability(
        email, tuple(busy), tuple(unknown), working_hours(item.get("workingHours"))
    )


def working_hours(raw: dict[str, Any] | None) -> WorkingHours | None:
    """Graph's ``workingHours`` as ``WorkingHours`` in IANA terms; ``None`` if unusable."""
    if not raw:
        return None
    zone = to_iana((raw.get("timeZone") or {}).get("name", ""))
    if zone is None:
        return None
    start, end = _clock(raw["startTime"]), _clock(raw["endTime"])
    if not start < end:  # overnight shifts don't fit WorkingHours; say nothing
        return None
    days = {GRAPH_DAYS.index(d.lower()): ((start, end),) for d in raw.get("daysOfWeek", [])}
    return WorkingHours(zone=zone, days=days)


def merge_availability(parts: Sequence[PersonAvailability]) -> PersonAvailability:
    """One person's availability from the answers of several getSchedule windows."""
    first = parts[0]
    return PersonAvailability(
        first.email,
        tuple(b for p in parts for b in p.busy),
        tuple(u for p in parts for u in p.unknown),
        next((p.working_hours for p in parts if p.working_hours), None),
    )


def _clock(value: str) -> time:
    return time.fromisoformat(value.split(".")[0])
