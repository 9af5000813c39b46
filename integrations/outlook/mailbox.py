"""The connected mailbox's own settings: its owner's zone and working hours.

``GET /me/mailboxSettings`` (delegated ``MailboxSettings.Read``) answers ``timeZone`` and
``workingHours {daysOfWeek, startTime, endTime, timeZone {name}}``, often with Windows zone
names (learn.microsoft.com/graph/api/user-get-mailboxsettings).
"""

from __future__ import annotations

from typing import Any

from integrations.base import AccountZone
from integrations.outlook.schedule import working_hours
from integrations.outlook.zones import to_iana

SETTINGS_URL = "/me/mailboxSettings"


def account_zone(settings: dict[str, Any]) -> AccountZone | None:
    """The mailbox owner's zone and working hours in IANA terms; ``None`` if neither names a
    zone Cadence knows. Working hours alone still tell the zone the person works in."""
    try:
        hours = working_hours(settings.get("workingHours"))
    except (KeyError, TypeError, ValueError):  # hours Graph left incomplete: say nothing
        hours = None
    zone = to_iana(settings.get("timeZone") or "") or (hours.zone if hours else None)
    return AccountZone(zone, hours) if zone else None
