"""Connecting to a CalDAV account: credentials, the client, and what its failures mean.

Every call into the ``caldav`` library goes through ``translated_errors`` so that nothing
library-shaped leaks out: a refused password becomes ``ReconnectRequired``, a 5xx or a dead
socket ``Transient``, a 404 ``NotFound``. Every request the client sends holds to an
``OutboundPolicy`` (integrations/outbound.py): https to public addresses unless trusted.
"""

from __future__ import annotations

import json
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeVar

from caldav.collection import Calendar
from caldav.davclient import DAVClient
from caldav.lib import error as caldav_error

from integrations.base import (
    NotFound,
    ProviderError,
    RateLimited,
    ReconnectRequired,
    TokenStore,
    Transient,
)
from integrations.checked_http import checked_session
from integrations.outbound import OutboundPolicy
from scheduler.settings import origin_of

_TIMEOUT_SECONDS = 20

T = TypeVar("T")


class ServerUnreachable(Transient):
    """Nothing answers at the server URL (wrong host or port, or the server is down)."""


class WrongPassword(ReconnectRequired):
    """The server refused the username or app password."""


class NotCalDAV(ProviderError):
    """Something answers at the URL, but it is not a CalDAV server (or not this path)."""


class CalendarNotFound(NotFound):
    """The account has no calendar of the chosen name (or no calendar at all)."""


@dataclass(frozen=True)
class CalDAVCredentials:
    """What a person types to connect a CalDAV calendar (docs/caldav.md says where to find it).

    ``email`` is the person's calendar address: it names them among an event's attendees.
    ``calendar`` is a calendar's display name; empty means the account's first calendar.
    ``calendar_url`` is where that calendar was last found, so that later connections open it
    directly instead of finding it again (3 PROPFIND); empty until then, and in blobs saved
    before it existed.
    """

    url: str
    username: str
    password: str = field(repr=False)  # never in a log line or a traceback
    email: str
    calendar: str = ""
    calendar_url: str = ""

    def found_at(self, calendar_url: str) -> CalDAVCredentials:
        """These credentials, remembering that their calendar is at ``calendar_url``."""
        return replace(self, calendar_url=calendar_url)

    def same_account(self, other: CalDAVCredentials) -> bool:
        """Whether ``other`` names the same server, login and calendar (wherever found)."""
        return self.found_at("") == other.found_at("")

    def known_calendar_url(self) -> str | None:
        """The remembered calendar URL, if it is on the credentials' own server (a URL on
        another origin is never followed: it is found again)."""
        origin = origin_of(self.url)
        if self.calendar_url and origin is not None and origin_of(self.calendar_url) == origin:
            return self.calendar_url
        return None

    def to_blob(self) -> bytes:
        """The JSON the ``TokenStore`` keeps (the caller encrypts it)."""
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_blob(cls, blob: bytes) -> CalDAVCredentials:
        return cls(**json.loads(blob))

    @classmethod
    def load(cls, store: TokenStore) -> CalDAVCredentials:
        """The credentials in ``store``; none saved means a person must connect first."""
        blob = store.load()
        if blob is None:
            raise ReconnectRequired("no CalDAV credentials saved: connect the calendar")
        try:
            return cls.from_blob(blob)
        except (ValueError, TypeError) as failure:
            raise ReconnectRequired("the saved CalDAV credentials are unreadable") from failure


@contextmanager
def translated_errors(what: str) -> Iterator[None]:
    """Raise the ``integrations.base`` error matching a ``caldav`` failure while ``what``."""
    try:
        yield
    except ProviderError:
        raise
    except caldav_error.RateLimitError as failure:
        raise RateLimited(f"{what}: {failure.reason}", failure.retry_after_seconds) from failure
    except caldav_error.AuthorizationError as failure:
        if failure.status == 401:
            raise WrongPassword(f"{what}: the server refused the username or password") from (
                failure
            )
        raise ReconnectRequired(f"{what}: access denied ({failure.reason})") from failure
    except caldav_error.NotFoundError as failure:
        raise NotFound(f"{what}: not found ({failure.reason})") from failure
    except caldav_error.DAVError as failure:
        if failure.status is not None and failure.status >= 500:
            raise Transient(f"{what}: server error {failure.status}") from failure
        if failure.status == 404:
            raise NotFound(f"{what}: not found ({failure.reason})") from failure
        raise ProviderError(f"{what}: {failure}") from failure
    except OSError as failure:  # the HTTP library's connection errors and timeouts
        raise ServerUnreachable(f"{what}: cannot reach the CalDAV server ({failure})") from (
            failure
        )


def settled(result: T | Coroutine[Any, Any, T]) -> T:
    """What a ``caldav`` call on a synchronous client returned, typed as such."""
    # caldav types each method for its sync and async clients at once; ours is synchronous.
    if isinstance(result, Coroutine):
        raise TypeError("a synchronous caldav client returned a coroutine")
    return result


def open_client(credentials: CalDAVCredentials, outbound: OutboundPolicy) -> DAVClient:
    """A client for ``credentials`` whose every request holds to ``outbound``.

    Raises ``OutboundRefused`` if the URL itself is not allowed; no request is sent yet.
    """
    outbound.check_url(credentials.url)
    # The URL is what the person typed or the docs give: no DNS-based discovery, which
    # would also try other hosts.
    client = DAVClient(
        url=credentials.url,
        username=credentials.username,
        password=credentials.password,
        timeout=_TIMEOUT_SECONDS,
        enable_rfc6764=False,
    )
    # The library takes no session, so its own (unused yet) is swapped for a checked one.
    client.session.close()
    client.session = checked_session(outbound)
    return client


def named_calendars(client: DAVClient) -> list[tuple[str, Calendar]]:
    """The account's calendars with their display names (the URL where a name is missing)."""
    with translated_errors("listing calendars"):
        return [
            (str(calendar.get_display_name() or calendar.url), calendar)
            for calendar in client.principal().get_calendars()
        ]


def choose_calendar(calendars: list[tuple[str, Calendar]], name: str) -> Calendar:
    """The calendar called ``name``, or the account's first calendar if ``name`` is empty."""
    if not calendars:
        raise CalendarNotFound("the account has no calendar: create one first")
    if not name:
        return calendars[0][1]
    for display_name, calendar in calendars:
        if display_name == name:
            return calendar
    raise CalendarNotFound(f"no calendar named {name!r} in this account")


def check_connection(
    credentials: CalDAVCredentials, outbound: OutboundPolicy | None = None
) -> tuple[str, ...]:
    """Prove ``credentials`` reach a CalDAV calendar; return the account's calendar names.

    Raises ``OutboundRefused`` when ``outbound`` (default: https to public addresses only)
    does not allow the server, ``ServerUnreachable`` when nothing answers, ``NotCalDAV``
    when what answers does not speak CalDAV (no ``calendar-access`` in its DAV header, or
    nothing at the path), ``WrongPassword`` when the login is refused, ``CalendarNotFound``
    when the chosen calendar does not exist.
    """
    return _checked(credentials, outbound)[0]


def checked_credentials(
    credentials: CalDAVCredentials, outbound: OutboundPolicy | None = None
) -> CalDAVCredentials:
    """``credentials`` checked as ``check_connection`` does, with where their calendar was
    found (``calendar_url``): the ones to save, whose first use opens the calendar directly."""
    return _checked(credentials, outbound)[1]


def _checked(
    credentials: CalDAVCredentials, outbound: OutboundPolicy | None
) -> tuple[tuple[str, ...], CalDAVCredentials]:
    """The account's calendar names, and ``credentials`` with where their calendar is."""
    with open_client(credentials, outbound or OutboundPolicy()) as client:
        with translated_errors("checking the server"):
            # OPTIONS needs no login on most servers, so a wrong server is told apart
            # before a wrong password could hide it.
            dav_header = client.options(str(client.url)).headers.get("DAV", "")
            if dav_header and "calendar-access" not in dav_header:
                # A WebDAV root may announce CalDAV only at the account's own URL (SOGo).
                principal_url = str(client.principal().url)
                dav_header = client.options(principal_url).headers.get("DAV", "")
        if "calendar-access" not in dav_header:
            raise NotCalDAV(f"{credentials.url} does not announce CalDAV (DAV: {dav_header!r})")
        try:
            calendars = named_calendars(client)
        except WrongPassword:
            raise
        except (NotFound, ReconnectRequired) as failure:
            # The login was accepted, so a 403 or 404 here means the path is not this
            # account's (a typo, another user's space).
            raise NotCalDAV(f"no CalDAV account of yours at {credentials.url}: {failure}") from (
                failure
            )
        chosen = choose_calendar(calendars, credentials.calendar)
        names = tuple(name for name, _ in calendars)
        return names, credentials.found_at(str(chosen.url))


def connect(
    store: TokenStore, credentials: CalDAVCredentials, outbound: OutboundPolicy | None = None
) -> tuple[str, ...]:
    """Check ``credentials`` (as ``check_connection``) and only then save them in ``store``,
    with where their calendar is.

    Returns the account's calendar names, for the person to pick one.
    """
    names, checked = _checked(credentials, outbound)
    store.save(checked.to_blob())
    return names
