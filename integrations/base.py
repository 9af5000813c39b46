"""The one small interface every calendar provider implements, and the values it speaks.

Nothing provider-shaped crosses this line: adapters translate their API's JSON into these
values and their failures into the four typed errors below. Adapters never read the
environment or the database; settings and a ``TokenStore`` are passed in.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable

from scheduler.availability import PersonAvailability, WorkingHours
from scheduler.intervals import Interval
from scheduler.recurrence import WeeklySlot

# ---------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """Base of every error an adapter raises."""


class ReconnectRequired(ProviderError):
    """The grant is gone (revoked, expired, ``invalid_grant``): a person must reconnect."""


class RateLimited(ProviderError):
    """The provider asked us to slow down; ``retry_after`` seconds if it said so."""

    def __init__(self, message: str = "rate limited", retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Transient(ProviderError):
    """A failure worth retrying later: 5xx, timeouts, connection resets; ``retry_after``
    seconds if the provider said when (a 503 with ``Retry-After``)."""

    def __init__(self, message: str = "transient failure", retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class NotFound(ProviderError):
    """The calendar object does not exist (any more)."""


# ---------------------------------------------------------------------------- values

__all__ = ["PersonAvailability", "WorkingHours"]  # re-exported: adapters build these


@dataclass(frozen=True)
class AgendaDocument:
    """The agenda as it travels with an invite (PRODUCT.md, "The standing agenda")."""

    title: str
    text: str
    html: str
    url: str
    pdf: bytes = b""
    filename: str = "agenda.pdf"


@dataclass(frozen=True)
class SeriesSpec:
    """Everything a provider needs to book (or find again) one weekly 1:1 series.

    ``series_id`` is Cadence's id; adapters derive their idempotency keys (event id,
    transactionId, UID) from it, so a retry never books twice.
    """

    series_id: str
    organization_id: str
    organiser_email: str
    attendee_email: str
    title: str
    slot: WeeklySlot
    first_day: date
    agenda: AgendaDocument
    until: date | None = None
    video_meeting: bool = False


@dataclass(frozen=True)
class SeriesRef:
    """Where a booked series lives at the provider."""

    provider_event_id: str
    extra: Mapping[str, str] = field(default_factory=dict)


class ChangeKind(enum.StrEnum):
    OCCURRENCE_CANCELLED = "occurrence_cancelled"
    OCCURRENCE_MOVED = "occurrence_moved"
    ATTENDEE_RESPONDED = "attendee_responded"
    SERIES_DELETED = "series_deleted"
    SERIES_SHORTENED = "series_shortened"
    AGENDA_EDITED = "agenda_edited"


class Response(enum.StrEnum):
    NEEDS_ACTION = "needs_action"
    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"


@dataclass(frozen=True)
class CalendarChange:
    """One thing that happened to a Cadence-tagged event in a calendar.

    ``original_start`` names the occurrence (UTC) for occurrence-level changes.
    """

    kind: ChangeKind
    series_id: str
    provider_event_id: str
    original_start: datetime | None = None
    new_start: datetime | None = None
    new_end: datetime | None = None
    response: Response | None = None
    attendee_email: str | None = None
    changed_by: str | None = None
    until: date | None = None
    description: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    """Changes since a cursor, and the cursor to ask from next time.

    ``full_sync`` is true when the old cursor was refused and everything was read again;
    changes are then re-derived from the current state, so applying them twice is harmless.
    """

    changes: tuple[CalendarChange, ...]
    cursor: str
    full_sync: bool = False


# ---------------------------------------------------------------------------- interfaces


class TokenStore(Protocol):
    """Where an adapter keeps its connection's credentials (encrypted by the caller)."""

    def load(self) -> bytes | None: ...

    def save(self, blob: bytes) -> None: ...


@runtime_checkable
class CalendarProvider(Protocol):
    """One connected calendar account (a manager's), as Cadence uses it."""

    def free_busy(self, emails: Sequence[str], window: Interval) -> dict[str, PersonAvailability]:
        """Busy time for each person over ``window``; unreadable calendars come back unknown."""
        ...

    def create_series(self, spec: SeriesSpec) -> SeriesRef:
        """Book the series with the attendee invited; idempotent on ``spec.series_id``."""
        ...

    def end_series(self, ref: SeriesRef, spec: SeriesSpec, from_day: date) -> None:
        """No occurrences on or after ``from_day`` (deletes the series if none remain)."""
        ...

    def move_occurrence(
        self, ref: SeriesRef, spec: SeriesSpec, original_start: datetime, new_start: datetime
    ) -> None:
        """Move one occurrence, keeping its duration."""
        ...

    def cancel_occurrence(self, ref: SeriesRef, spec: SeriesSpec, original_start: datetime) -> None:
        """Cancel one occurrence; the attendee is told."""
        ...

    def update_occurrence_agenda(
        self,
        ref: SeriesRef,
        spec: SeriesSpec,
        original_start: datetime,
        agenda: AgendaDocument,
    ) -> None:
        """Replace one occurrence's agenda (body and attachment) before it starts."""
        ...

    def changes(self, cursor: str | None, *, full: bool = False) -> ChangeSet:
        """Changes to Cadence-tagged events since ``cursor`` (``None``: a full sync).

        ``full`` re-reads everything (after lost notifications, or the daily reconciliation)
        while still reporting what ``cursor`` knew and has vanished since.
        """
        ...


@runtime_checkable
class OutOfOfficeReader(Protocol):
    """The optional ability to tell the connected account's out-of-office time apart.

    Google's free/busy reports it as plain busy; its event list can filter it
    (``eventTypes=outOfOffice``). Graph's getSchedule already says ``oof``.
    """

    def out_of_office(self, window: Interval) -> PersonAvailability:
        """The connected account's own out-of-office time over ``window``."""
        ...


@dataclass(frozen=True)
class AccountZone:
    """Where the connected account's owner keeps their time, as their provider says it.

    ``zone`` is an IANA name. ``working_hours`` are the provider's (Microsoft keeps them,
    Google does not), in their own zone, which may differ from ``zone``.
    """

    zone: str
    working_hours: WorkingHours | None = None


@runtime_checkable
class AccountZoneReader(Protocol):
    """The optional ability to read the connected account owner's zone (and working hours).

    Google: the primary calendar's zone; Microsoft: the mailbox settings. CalDAV has no such
    setting, so a CalDAV person keeps the zone they chose.
    """

    def account_zone(self) -> AccountZone | None:
        """The owner's zone; ``None`` when the provider names none that Cadence knows."""
        ...


@dataclass(frozen=True)
class Channel:
    """A push channel / subscription: where the provider will notify us, until when."""

    channel_id: str
    resource_id: str
    secret: str
    expires_at: datetime


class PushChannels(Protocol):
    """The optional ability to push change notifications (Google watch, Graph subscriptions)."""

    def open_channel(self, callback_url: str) -> Channel: ...

    def renew_channel(self, channel: Channel, callback_url: str) -> Channel: ...

    def close_channel(self, channel: Channel) -> None: ...


# ---------------------------------------------------------------------------- helpers


def split_window(window: Interval, longest: timedelta) -> Iterator[Interval]:
    """``window`` as consecutive spans of at most ``longest``: every free/busy API caps the
    range one call may ask about (Google 90 days, Graph 62)."""
    start = window.start
    while start < window.end:
        end = min(start + longest, window.end)
        yield Interval(start, end)
        start = end
