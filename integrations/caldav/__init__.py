"""The CalDAV adapter (iCloud, Fastmail, Nextcloud, Radicale...): see docs/caldav.md."""

from integrations.caldav.connection import (
    CalDAVCredentials,
    CalendarNotFound,
    NotCalDAV,
    ServerUnreachable,
    WrongPassword,
    check_connection,
    checked_credentials,
    connect,
)
from integrations.caldav.provider import CalDAVCalendar

__all__ = [
    "CalDAVCalendar",
    "CalDAVCredentials",
    "CalendarNotFound",
    "NotCalDAV",
    "ServerUnreachable",
    "WrongPassword",
    "check_connection",
    "checked_credentials",
    "connect",
]
