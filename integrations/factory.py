"""THE one place that opens a connected calendar: a connection's provider, settings, tokens.

Adapters are imported when first used, so a process starts even while one adapter's optional
dependencies are missing; only connections to that provider then fail, with ``Unavailable``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeGuard

from integrations.base import (
    AccountZone,
    AccountZoneReader,
    CalendarProvider,
    PushChannels,
    TokenStore,
)
from integrations.outbound import OutboundPolicy
from integrations.retry import RetryPolicy
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.models import CalendarConnection, Provider
from scheduler.settings import Settings


class Unavailable(LookupError):
    """This build or configuration cannot open calendars of that provider."""


def caldav_outbound(settings: Settings) -> OutboundPolicy:
    """What CalDAV requests may reach: https to public addresses, and the servers the
    operator allowed on private addresses (``CADENCE_CALDAV_PRIVATE_ORIGINS``)."""
    return OutboundPolicy(settings.caldav_private_origins)


def open_calendar(
    provider: Provider | str,
    settings: Settings,
    tokens: TokenStore,
    *,
    zone: str = "UTC",
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
) -> CalendarProvider:
    """The adapter for one connection; ``tokens`` is that connection's grant store.

    ``retry`` bounds the adapter's own retries (jobs pass a short policy and let the queue
    retry later, so a worker is never parked for minutes in one backoff); ``timeout`` bounds
    each Google or Graph request (seconds).
    """
    provider = Provider(provider)
    if provider is Provider.GOOGLE:
        from integrations.google import GoogleCalendar

        return GoogleCalendar(settings.google, tokens, retry=retry, timeout=timeout)
    if provider is Provider.MICROSOFT:
        from integrations.outlook import OutlookCalendar

        return OutlookCalendar(settings.microsoft, tokens, retry=retry, timeout=timeout)
    if provider is Provider.CALDAV:
        from integrations.caldav.provider import CalDAVCalendar

        return CalDAVCalendar(tokens, zone=zone, retry=retry, outbound=caldav_outbound(settings))
    raise Unavailable(f"no adapter for {provider}")


# A connection row -> the calendar it opens (tests inject in-memory calendars instead).
CalendarOpener = Callable[[CalendarConnection], CalendarProvider]


def calendar_opener(
    settings: Settings,
    tokens_for: Callable[[CalendarConnection], TokenStore],
    zone_for: Callable[[CalendarConnection], str],
    *,
    retry: RetryPolicy | None = None,
) -> CalendarOpener:
    """A ``CalendarOpener`` for production: ``tokens_for`` gives each row its token store,
    ``zone_for`` its owner's zone (CalDAV reads all-day and floating events in it)."""

    def open_for(connection: CalendarConnection) -> CalendarProvider:
        return open_calendar(
            connection.provider,
            settings,
            tokens_for(connection),
            zone=zone_for(connection),
            retry=retry,
        )

    return open_for


def connection_calendars(
    settings: Settings,
    database: Database,
    cipher: TokenCipher,
    *,
    retry: RetryPolicy | None = None,
) -> CalendarOpener:
    """The production ``CalendarOpener``: each connection's adapter, its grant kept encrypted
    in the connection's own row (``ConnectionTokenStore``)."""
    from scheduler.usecases.connections import ConnectionTokenStore, owner_zone

    return calendar_opener(
        settings,
        lambda row: ConnectionTokenStore(database, cipher, row.organization_id, row.id),
        lambda row: owner_zone(database, row),
        retry=retry,
    )


class HeldGrant:
    """The ``TokenStore`` of a grant in hand (a consent being finished): refreshed tokens stay
    in memory, since nothing is stored for a person who connects no calendar (a rep)."""

    def __init__(self, blob: bytes):
        self._blob = blob

    def load(self) -> bytes | None:
        return self._blob

    def save(self, blob: bytes) -> None:
        self._blob = blob


def read_account_zone(
    provider: Provider | str,
    settings: Settings,
    grant: bytes,
    *,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
) -> AccountZone | None:
    """What the provider of a fresh grant says about its owner's zone; ``None`` when it names
    none Cadence knows or cannot say. Provider failures raise the adapter's typed errors."""
    calendar = open_calendar(provider, settings, HeldGrant(grant), retry=retry, timeout=timeout)
    return calendar.account_zone() if isinstance(calendar, AccountZoneReader) else None


def push_channels(calendar: CalendarProvider) -> PushChannels | None:
    """The calendar's push ability, if its provider has one (CalDAV is polled)."""
    return calendar if _can_push(calendar) else None


def _can_push(calendar: CalendarProvider) -> TypeGuard[PushChannels]:
    """Whether ``calendar`` has every ``PushChannels`` method."""
    needed = ("open_channel", "renew_channel", "close_channel")
    return all(callable(getattr(calendar, n, None)) for n in needed)
