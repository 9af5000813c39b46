"""``POST /me/calendar/getSchedule`` as Graph answers it (limits, errors inside the 200)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from tests.emulators.graph_calendar import Mailbox, calendar_view, format_in, parse_local
from tests.emulators.graph_mailbox import working_hours
from tests.emulators.graph_schema import validate
from tests.emulators.graph_wire import GraphError

MAX_SCHEDULES = 100
MAX_SPAN = timedelta(days=62)
_CODES = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}


def get_schedule(
    mailboxes: Mapping[str, Mailbox], body: dict[str, Any], zone_name: str
) -> dict[str, Any]:
    """The ``scheduleInformation`` of each requested mailbox, times in ``zone_name``."""
    validate(body, "getScheduleRequest")
    schedules = body.get("schedules") or []
    if len(schedules) > MAX_SCHEDULES:
        raise GraphError(400, "ErrorInvalidParameter", "At most 100 schedules per request.")
    start, end = parse_local(body["startTime"]), parse_local(body["endTime"])
    if end - start > MAX_SPAN:
        raise GraphError(400, "ErrorInvalidTimeInterval", "The time window exceeds 62 days.")
    interval = int(body.get("availabilityViewInterval", 30))
    if not 5 <= interval <= 1440:
        raise GraphError(400, "ErrorInvalidParameter", "availabilityViewInterval: 5-1440.")
    return {
        "value": [
            _schedule(email, mailboxes.get(email.lower()), start, end, interval, zone_name)
            for email in schedules
        ]
    }


def _schedule(
    email: str,
    box: Mailbox | None,
    start: datetime,
    end: datetime,
    interval: int,
    zone_name: str,
) -> dict[str, Any]:
    if box is None:
        return {
            "scheduleId": email,
            "availabilityView": "",
            "error": {
                "message": "The specified object was not found in the store.",
                "responseCode": "ErrorMailRecipientNotFound",
            },
        }
    items = [
        (i, i.event.data.get("showAs", "busy"))
        for i in calendar_view(box, start, end)
        if not i.cancelled
    ]
    view, cursor = [], start
    while cursor < end:
        slot_end = cursor + timedelta(minutes=interval)
        here = [_CODES[s] for i, s in items if i.start < slot_end and i.end > cursor]
        view.append(max(here, default="0"))
        cursor = slot_end
    return {
        "scheduleId": email,
        "availabilityView": "".join(view),
        "scheduleItems": [
            {
                "isPrivate": False,
                "status": status,
                "subject": i.event.data.get("subject", ""),
                "location": "",
                "start": format_in(i.start, zone_name),
                "end": format_in(i.end, zone_name),
            }
            for i, status in items
        ],
        "workingHours": working_hours(box),
    }
