"""Microsoft 365 / Outlook calendars through MSAL and Microsoft Graph v1.0.

``OutlookCalendar`` is the adapter (``CalendarProvider`` and ``PushChannels``); ``auth`` has
the connect-once flow for the web app, ``subscriptions`` the webhook helpers.
"""

from integrations.outlook.auth import ConnectedAccount, ConnectFailed, finish_connect, start_connect
from integrations.outlook.calendar import OutlookCalendar
from integrations.outlook.subscriptions import (
    InvalidNotification,
    Notification,
    NotificationAction,
    validation_response,
    verify_notification,
)

__all__ = [
    "ConnectFailed",
    "ConnectedAccount",
    "InvalidNotification",
    "Notification",
    "NotificationAction",
    "OutlookCalendar",
    "finish_connect",
    "start_connect",
    "validation_response",
    "verify_notification",
]
