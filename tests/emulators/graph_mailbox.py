"""``GET /me/mailboxSettings`` as Graph answers it, and the working hours it shares with
``getSchedule`` (learn.microsoft.com/graph/api/user-get-mailboxsettings)."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from tests.emulators.graph_calendar import Mailbox
from tests.emulators.graph_wire import GraphError

# Either delegated permission reads the settings (lower case: scopes compare without case).
READ_SCOPES = frozenset({"mailboxsettings.read", "mailboxsettings.readwrite"})


def working_hours(box: Mailbox) -> dict[str, Any]:
    """The mailbox's ``workingHours`` (Windows zone name, seven fraction digits)."""
    return {
        "daysOfWeek": list(box.working_days),
        "startTime": box.working_start.strftime("%H:%M:%S.0000000"),
        "endTime": box.working_end.strftime("%H:%M:%S.0000000"),
        "timeZone": {"name": box.zone_name},
    }


def mailbox_settings(box: Mailbox, scopes: Set[str], graph_url: str) -> dict[str, Any]:
    """The signed-in user's settings; 403 ``ErrorAccessDenied`` without the permission."""
    if not READ_SCOPES & scopes:
        raise GraphError(
            403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
        )
    return {
        "@odata.context": f"{graph_url}/$metadata#users('{box.email}')/mailboxSettings",
        "archiveFolder": "AAMkArchive",
        "timeZone": box.zone_name,
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        "dateFormat": "M/d/yyyy",
        "timeFormat": "h:mm tt",
        "userPurpose": "user",
        "automaticRepliesSetting": {
            "status": "disabled",
            "externalAudience": "all",
            "internalReplyMessage": "",
            "externalReplyMessage": "",
            "scheduledStartDateTime": {
                "dateTime": "2026-01-01T00:00:00.0000000",
                "timeZone": "UTC",
            },
            "scheduledEndDateTime": {"dateTime": "2026-01-02T00:00:00.0000000", "timeZone": "UTC"},
        },
        "language": {"locale": "en-US", "displayName": "English (United States)"},
        "workingHours": working_hours(box),
    }
