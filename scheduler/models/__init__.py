"""Cadence's tables (SQLAlchemy 2), one module per part of the product."""

from scheduler.debrief import Owner
from scheduler.defend import OPEN_CONFLICT_STATES, ConflictState
from scheduler.models.access import ApiToken, LoginSession, SpentLink
from scheduler.models.availability import StoredBusyTime
from scheduler.models.base import Base, UTCDateTime, new_id
from scheduler.models.calendar import (
    CalendarConnection,
    ConnectionStatus,
    Provider,
    PushMessageClaim,
)
from scheduler.models.conflicts import SlotConflict
from scheduler.models.consents import HeldConsent
from scheduler.models.mail import MailOptOut, OutboxMessage
from scheduler.models.meetings import (
    LIVE_SERIES,
    ActionItem,
    Debrief,
    Series,
    SeriesStatus,
    Session,
    TalkingPoint,
)
from scheduler.models.nudges import DebriefNudge
from scheduler.models.org import AgendaTemplateRow, AuditEntry, Organization, Person
from scheduler.models.reports import ManagerItemWeek, ManagerWeek

__all__ = [
    "LIVE_SERIES",
    "OPEN_CONFLICT_STATES",
    "ActionItem",
    "AgendaTemplateRow",
    "ApiToken",
    "AuditEntry",
    "Base",
    "CalendarConnection",
    "ConflictState",
    "ConnectionStatus",
    "Debrief",
    "DebriefNudge",
    "HeldConsent",
    "LoginSession",
    "MailOptOut",
    "ManagerItemWeek",
    "ManagerWeek",
    "Organization",
    "OutboxMessage",
    "Owner",
    "Person",
    "Provider",
    "PushMessageClaim",
    "Series",
    "SeriesStatus",
    "Session",
    "SlotConflict",
    "SpentLink",
    "StoredBusyTime",
    "TalkingPoint",
    "UTCDateTime",
    "new_id",
]
