"""Google Calendar: connect once (``auth``), book and sync (``GoogleCalendar``), push."""

from integrations.google.auth import (
    SCOPES,
    ConnectFailed,
    ConnectStart,
    GoogleConnection,
    finish_connect,
    start_connect,
)
from integrations.google.provider import GoogleCalendar, SeriesDeleted
from integrations.google.push import Notification, Verdict, verify_notification

__all__ = [
    "SCOPES",
    "ConnectFailed",
    "ConnectStart",
    "GoogleCalendar",
    "GoogleConnection",
    "Notification",
    "SeriesDeleted",
    "Verdict",
    "finish_connect",
    "start_connect",
    "verify_notification",
]
