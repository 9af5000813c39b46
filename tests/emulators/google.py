"""A strict local emulator of Google Calendar v3 and Google OAuth, for tests and benchmarks.

It speaks the wire format the real client libraries use (google-api-python-client with static
discovery, google-auth, google-auth-oauthlib) for the parts Cadence needs:

- OAuth: the authorize endpoint auto-consents as ``consenting_user`` (or ``login_hint``) and
  redirects back with a code; it insists on PKCE S256. The token endpoint serves the
  ``authorization_code`` and ``refresh_token`` grants (``invalid_grant`` once revoked) and, like
  Google, reports ``email``/``profile`` scopes by their full URLs. ``/v1/userinfo`` names the user
  and, like the ID token, says ``email_verified`` (true unless the address is in ``unverified``).
- Calendar: ``freeBusy`` (per-calendar ``errors`` for unknown calendars, at most 50 calendars,
  at most 90 days), ``events`` insert/get/patch/update/delete/instances/list/watch and
  ``channels.stop``. Several users share one domain: an event with an attendee is copied onto the
  attendee's calendar (without the organiser's private extended properties), so the attendee's
  free/busy sees it. Recurrences are expanded with dateutil in the event's own time zone.
  Each user's calendar has a zone (``set_zone``), answered as ``events.list``'s ``timeZone``.
- Strictness: every request body is validated against the schemas of the discovery document
  shipped in google-api-python-client (``google_schema``), query parameters against the
  method's parameters, plus the semantic checks Cadence relies on (recurring events need a
  ``timeZone``; a client-chosen id is base32hex, 5-1024 characters, and unique: 409 otherwise;
  a ``syncToken`` excludes time/filter parameters and is refused with 410 once expired).
- Push: ``events.watch`` channels POST real notifications (``sync`` first, then ``exists`` on
  every change of the calendar) to their https address from a background thread.

Transport: HTTPS only, with a certificate from a throwaway ``trustme`` CA (``tls.LocalCA``).
Clients are handed the CA bundle explicitly (``GoogleSettings.ca_bundle``), which is also how
production code receives a corporate CA, so nothing here needs ``OAUTHLIB_INSECURE_TRANSPORT``
or any other environment variable, and webhook addresses can be required to be https as
Google requires.

Test controls (public methods below) add busy or out-of-office time, play the attendee
(accept/decline one occurrence) or the organiser in the Google UI (cancel/move an occurrence,
edit, delete), expire sync tokens, revoke grants, inject failures (429, 403 rateLimitExceeded,
500, timeouts; for the next N calls or at a seeded ratio; before or after the write commits),
shuffle the order of ``events.list`` (``list_order_seed``) and count calls per API method in
``calls``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import queue
import random
import re
import secrets
import ssl
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from scheduler.settings import GoogleSettings
from tests.emulators import google_schema
from tests.emulators.server import LocalServer, Request, Response
from tests.emulators.tls import LocalCA

SCOPE = "https://www.googleapis.com/auth/"
# Google widens the OpenID shorthands to URLs in the token response.
_SCOPE_ALIASES = {"email": SCOPE + "userinfo.email", "profile": SCOPE + "userinfo.profile"}
_EVENTS_SCOPES = {SCOPE + "calendar", SCOPE + "calendar.events"}
# calendar.events alone does not reach freeBusy (PROVIDERS.md).
_FREEBUSY_SCOPES = {
    SCOPE + "calendar",
    SCOPE + "calendar.readonly",
    SCOPE + "calendar.freebusy",
    SCOPE + "calendar.events.freebusy",
}
ALL_SCOPES = (
    "openid",
    SCOPE + "userinfo.email",
    SCOPE + "userinfo.profile",
    SCOPE + "calendar.events",
    SCOPE + "calendar.freebusy",
)

_EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
_INSTANCE_ID = re.compile(r"^(?P<master>[a-v0-9]{5,1024})_(?P<start>\d{8}T\d{6}Z)$")
_SYNC_TOKEN_EXCLUDES = (
    "timeMin",
    "timeMax",
    "q",
    "orderBy",
    "privateExtendedProperty",
    "sharedExtendedProperty",
    "updatedMin",
    "iCalUID",
)
_MAX_FREEBUSY_CALENDARS = 50
# "The requested time range is too long." past 90 days (github.com/calcom/cal.diy pull 11962).
_MAX_FREEBUSY_RANGE = timedelta(days=90)
_CHANNEL_TTL = timedelta(days=7)

_Params = dict[str, str]  # path parameters of a route (calendarId, eventId)


class ApiError(Exception):
    """An error answer in Google's JSON shape."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        domain: str = "global",
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(message)
        self.code, self.reason, self.message, self.domain = code, reason, message, domain
        self.headers = dict(headers or {})

    def response(self) -> Response:
        status = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            409: "ALREADY_EXISTS",
            410: "FAILED_PRECONDITION",
            429: "RESOURCE_EXHAUSTED",
        }.get(self.code, "INTERNAL")
        error = {"domain": self.domain, "reason": self.reason, "message": self.message}
        payload = {
            "error": {
                "errors": [error],
                "code": self.code,
                "message": self.message,
                "status": status,
            }
        }
        return Response.json(self.code, payload, self.headers)


_INJECTED = {
    429: ApiError(429, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits"),
    403: ApiError(403, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits"),
    500: ApiError(500, "backendError", "Backend Error"),
    503: ApiError(503, "backendError", "Service unavailable"),
}


@dataclass
class _Failure:
    status: int | str  # an HTTP status in _INJECTED, or "timeout"
    after_commit: bool = False
    method: str | None = None


@dataclass
class _Grant:
    email: str
    scopes: tuple[str, ...]
    refresh_token: str
    revoked: bool = False


@dataclass
class _AccessToken:
    grant: _Grant
    expires_at: datetime


@dataclass
class _Channel:
    id: str
    resource_id: str
    calendar: str
    address: str
    token: str | None
    expiration: datetime
    message_number: int = 0
    stopped: bool = False


@dataclass
class Delivery:
    """One push notification the emulator sent, and the receiver's HTTP status (0: failed)."""

    channel_id: str
    state: str
    message_number: int
    status: int


@dataclass
class _Calendar:
    email: str
    name: str
    zone: str = "UTC"  # the primary calendar's zone (Settings -> Time zone in Google Calendar)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    sync_epoch: int = 0


def instance_id(event_id: str, original_start: datetime) -> str:
    """Google's id of one occurrence: ``<eventId>_<UTC start, basic format>``."""
    return f"{event_id}_{original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _now() -> datetime:
    return datetime.now(UTC)


class GoogleEmulator:
    """Calendar v3 + OAuth for a set of users in one domain, on ``https://127.0.0.1:<port>``.

    ``users`` maps email -> display name. Use as a context manager, or ``start()``/``stop()``.
    """

    def __init__(
        self,
        users: Mapping[str, str],
        *,
        ca: LocalCA | None = None,
        client_id: str = "cadence-test.apps.googleusercontent.com",
        client_secret: str = "emulator-secret",
        hang_seconds: float = 2.0,
    ):
        self._ca = ca or LocalCA()
        self._owns_ca = ca is None
        self.client_id, self.client_secret = client_id, client_secret
        self.hang_seconds = hang_seconds
        # The Retry-After header of injected 429s and 503s: seconds, or an HTTP date (str).
        self.retry_after: float | str = 0
        # Google may return fewer items than maxResults; a small cap forces pagination.
        self.max_page_size = 2500
        # Google promises no order in events.list (an exception may come before its master):
        # a seed shuffles every listing, the same way for every page of it.
        self.list_order_seed: int | None = None
        # Called (under the emulator's lock) with the method name after each API call is
        # served: lets a test act "between" two calls, e.g. revoke a grant mid-sync.
        self.after_call: Callable[[str], None] | None = None
        self.consenting_user = next(iter(users))
        # Addresses Google has not verified (an account made with another provider's address
        # whose owner never confirmed it): userinfo and the ID token say email_verified false.
        self.unverified: set[str] = set()
        # Scopes the consenting user unticks on the granular consent screen.
        self.withheld_scopes: set[str] = set()
        # Scopes granted to the client before (returned when include_granted_scopes=true).
        self.previously_granted: set[str] = set()
        self.calls: Counter[str] = Counter()
        self.sent_updates: list[tuple[str, str, str]] = []  # (method, event id, sendUpdates)
        self.deliveries: list[Delivery] = []
        self._lock = threading.RLock()
        self._calendars = {email: _Calendar(email, name) for email, name in users.items()}
        self._seq = 0
        self._codes: dict[str, dict[str, Any]] = {}
        self._grants: list[_Grant] = []
        self._access: dict[str, _AccessToken] = {}
        self._channels: dict[str, _Channel] = {}
        self._failures: list[_Failure] = []
        self._failure_ratio: tuple[float, random.Random, tuple[int | str, ...], float] | None = None
        self._outbox: queue.Queue[tuple[_Channel, str, int] | None] = queue.Queue()
        self._stopping = threading.Event()
        self._server = LocalServer(self._handle, self._ca.server_context())
        self._courier = threading.Thread(target=self._deliver, daemon=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> GoogleEmulator:
        self._server.start()
        self._courier.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._outbox.put(None)
        self._server.stop()
        self._courier.join(timeout=5)
        if self._owns_ca:
            self._ca.close()

    def __enter__(self) -> GoogleEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def ca_bundle(self) -> str:
        return self._ca.bundle_path

    def settings(self) -> GoogleSettings:
        """``GoogleSettings`` pointing every endpoint at this emulator."""
        base = self.base_url
        return GoogleSettings(
            client_id=self.client_id,
            client_secret=self.client_secret,
            api_endpoint=base + "/",
            auth_uri=base + "/o/oauth2/v2/auth",
            token_uri=base + "/token",
            revoke_uri=base + "/revoke",
            userinfo_uri=base + "/v1/userinfo",
            ca_bundle=self.ca_bundle,
        )

    # ------------------------------------------------------------------ test controls: tokens

    def issue_tokens(self, email: str, scopes: Iterable[str] = ALL_SCOPES) -> dict[str, Any]:
        """Tokens as if ``email`` had consented (skips the browser dance)."""
        with self._lock:
            grant = _Grant(email, tuple(scopes), "1//" + secrets.token_urlsafe(24))
            self._grants.append(grant)
            return self._token_response(grant, include_refresh=True)

    def set_zone(self, email: str, zone: str) -> None:
        """The user sets their calendar's zone (events.list answers it as ``timeZone``)."""
        with self._lock:
            self._calendars[email].zone = zone

    def revoke(self, email: str) -> None:
        """Revoke every grant of ``email``: refreshes fail with ``invalid_grant``, calls 401."""
        with self._lock:
            for grant in self._grants:
                if grant.email == email:
                    grant.revoked = True

    def expire_access_tokens(self) -> None:
        with self._lock:
            for token in self._access.values():
                token.expires_at = _now() - timedelta(seconds=1)

    # ------------------------------------------------------------------ test controls: calendars

    def add_busy(
        self,
        email: str,
        start: datetime,
        end: datetime,
        *,
        summary: str = "Busy",
        out_of_office: bool = False,
        transparent: bool = False,
    ) -> str:
        """A single event in ``email``'s calendar; returns its id."""
        body: dict[str, Any] = {
            "summary": summary,
            "start": {"dateTime": _rfc3339(start)},
            "end": {"dateTime": _rfc3339(end)},
            "eventType": "outOfOffice" if out_of_office else "default",
        }
        if transparent:
            body["transparency"] = "transparent"
        with self._lock:
            return self._insert(self._calendars[email], body, {})["id"]

    def respond(
        self,
        attendee: str,
        organiser: str,
        event_id: str,
        response: str,
        original_start: datetime | None = None,
    ) -> None:
        """The attendee answers the series, or one occurrence when ``original_start`` is given."""
        with self._lock:
            calendar = self._calendars[organiser]
            target = (
                self._instance(calendar, event_id, original_start)
                if original_start
                else copy.deepcopy(self._live(calendar, event_id))
            )
            for person in target.get("attendees", []):
                if person["email"] == attendee:
                    person["responseStatus"] = response
            self._write(calendar, target)

    def cancel_occurrence(self, organiser: str, event_id: str, original_start: datetime) -> None:
        """The organiser deletes one occurrence in the Google UI."""
        with self._lock:
            calendar = self._calendars[organiser]
            self._delete(calendar, instance_id(event_id, original_start))

    def move_occurrence(
        self, organiser: str, event_id: str, original_start: datetime, new_start: datetime
    ) -> None:
        """The organiser drags one occurrence to ``new_start`` (same duration)."""
        with self._lock:
            calendar = self._calendars[organiser]
            target = self._instance(calendar, event_id, original_start)
            duration = _start(target["end"]) - _start(target["start"])
            zone = target["start"].get("timeZone")
            target["start"] = _event_time(new_start, zone)
            target["end"] = _event_time(new_start + duration, zone)
            self._write(calendar, target)

    def edit_event(self, organiser: str, event_id: str, **fields: Any) -> None:
        """The organiser edits the event (series or ``<id>_<time>`` occurrence) by hand."""
        with self._lock:
            calendar = self._calendars[organiser]
            target = self._editable(calendar, event_id)
            target.update(fields)
            self._write(calendar, target)

    def delete_event(self, organiser: str, event_id: str) -> None:
        """The organiser deletes the event (a whole series when given the series id)."""
        with self._lock:
            self._delete(self._calendars[organiser], event_id)

    def expire_sync_tokens(self, email: str | None = None) -> None:
        """Every sync token issued so far (for ``email``, or everyone) now gets 410."""
        with self._lock:
            for calendar in self._calendars.values():
                if email in (None, calendar.email):
                    calendar.sync_epoch += 1

    def event(self, email: str, event_id: str) -> dict[str, Any] | None:
        """The stored resource (a copy), tombstones included."""
        with self._lock:
            found = self._calendars[email].events.get(event_id)
            return copy.deepcopy(found) if found else None

    def events(self, email: str) -> list[dict[str, Any]]:
        """Every stored resource in ``email``'s calendar (copies), tombstones included."""
        with self._lock:
            return copy.deepcopy(list(self._calendars[email].events.values()))

    def channels(self) -> list[str]:
        """Ids of live (not stopped) channels."""
        with self._lock:
            return [c.id for c in self._channels.values() if not c.stopped]

    # ------------------------------------------------------------------ test controls: failures

    def fail_next(
        self,
        count: int,
        status: int | str,
        *,
        after_commit: bool = False,
        method: str | None = None,
    ) -> None:
        """The next ``count`` Calendar API calls (of ``method``, e.g. "events.insert") fail.

        ``status``: 429, 403 (rateLimitExceeded), 500, 503 or "timeout" (no answer for
        ``hang_seconds``). ``after_commit``: the write happens, then the error is returned.
        """
        with self._lock:
            self._failures.extend(_Failure(status, after_commit, method) for _ in range(count))

    def fail_randomly(
        self,
        ratio: float,
        *,
        seed: int,
        statuses: tuple[int | str, ...] = (429, 403, 500, 503),
        after_commit_share: float = 0.5,
    ) -> None:
        """Each Calendar API call fails with probability ``ratio`` (reproducible by ``seed``)."""
        with self._lock:
            self._failure_ratio = (ratio, random.Random(seed), statuses, after_commit_share)

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.sent_updates.clear()

    # ------------------------------------------------------------------ dispatch

    _ROUTES: tuple[tuple[str, re.Pattern[str], str, str], ...] = (
        ("POST", re.compile(r"^freeBusy$"), "freebusy", "query"),
        ("POST", re.compile(r"^channels/stop$"), "channels", "stop"),
        ("POST", re.compile(r"^calendars/(?P<cal>[^/]+)/events/watch$"), "events", "watch"),
        ("GET", re.compile(r"^calendars/(?P<cal>[^/]+)/events$"), "events", "list"),
        ("POST", re.compile(r"^calendars/(?P<cal>[^/]+)/events$"), "events", "insert"),
        (
            "GET",
            re.compile(r"^calendars/(?P<cal>[^/]+)/events/(?P<id>[^/]+)/instances$"),
            "events",
            "instances",
        ),
        ("GET", re.compile(r"^calendars/(?P<cal>[^/]+)/events/(?P<id>[^/]+)$"), "events", "get"),
        (
            "PATCH",
            re.compile(r"^calendars/(?P<cal>[^/]+)/events/(?P<id>[^/]+)$"),
            "events",
            "patch",
        ),
        ("PUT", re.compile(r"^calendars/(?P<cal>[^/]+)/events/(?P<id>[^/]+)$"), "events", "update"),
        (
            "DELETE",
            re.compile(r"^calendars/(?P<cal>[^/]+)/events/(?P<id>[^/]+)$"),
            "events",
            "delete",
        ),
    )

    def _handle(self, request: Request) -> Response:
        try:
            if request.path.startswith("/calendar/v3/"):
                return self._calendar_api(request)
            if request.path == "/o/oauth2/v2/auth" and request.method == "GET":
                return self._authorize(request)
            if request.path == "/token" and request.method == "POST":
                return self._token(request)
            if request.path == "/revoke" and request.method == "POST":
                return self._revoke(request)
            if request.path == "/v1/userinfo" and request.method == "GET":
                return self._userinfo(request)
            raise ApiError(404, "notFound", f"No such endpoint: {request.path}")
        except ApiError as error:
            return error.response()

    def _calendar_api(self, request: Request) -> Response:
        resource, name, path_params = self._route(request)
        method = f"{resource}.{name}"
        with self._lock:
            self.calls[method] += 1
            failure = self._next_failure(method)
        if failure and not failure.after_commit:
            return self._fail(failure)
        with self._lock:
            grant = self._authenticate(request)
            unknown = set(request.query) - google_schema.query_parameters(resource, name)
            if unknown:
                raise ApiError(400, "invalidParameter", f"Unknown parameter: {sorted(unknown)}")
            body = request.json() if request.body else None
            try:
                google_schema.validate_body(resource, name, body)
            except google_schema.SchemaError as error:
                raise ApiError(400, "invalid", str(error)) from None
            response = getattr(self, f"_api_{resource}_{name}")(grant, request, path_params, body)
            if self.after_call is not None:
                self.after_call(method)
        if failure:  # after_commit: the write is done, the client sees an error anyway
            return self._fail(failure)
        return response

    def _route(self, request: Request) -> tuple[str, str, _Params]:
        """(resource, method name, path parameters) of a Calendar API request."""
        relative = request.path.removeprefix("/calendar/v3/")
        for verb, pattern, resource, name in self._ROUTES:
            match = pattern.match(relative)
            if match and verb == request.method:
                return resource, name, {k: unquote(v) for k, v in match.groupdict().items()}
        raise ApiError(404, "notFound", f"Not Found: {request.method} {relative}")

    def _fail(self, failure: _Failure) -> Response:
        if failure.status == "timeout":
            self._stopping.wait(self.hang_seconds)
            return Response(hang_up=True)
        response = _INJECTED[int(failure.status)].response()
        if failure.status in (429, 503):
            response.headers["Retry-After"] = str(self.retry_after)
        return response

    def _next_failure(self, method: str) -> _Failure | None:
        for index, failure in enumerate(self._failures):
            if failure.method in (None, method):
                return self._failures.pop(index)
        if self._failure_ratio:
            ratio, rng, statuses, after_share = self._failure_ratio
            if rng.random() < ratio:
                return _Failure(rng.choice(statuses), rng.random() < after_share)
        return None

    def _authenticate(self, request: Request) -> _Grant:
        header = request.headers.get("authorization", "")
        token = self._access.get(header.removeprefix("Bearer "))
        if token is None or token.grant.revoked or token.expires_at <= _now():
            raise ApiError(
                401,
                "authError",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        return token.grant

    @staticmethod
    def _require_scope(grant: _Grant, accepted: set[str]) -> None:
        if not accepted & set(grant.scopes):
            raise ApiError(403, "insufficientPermissions", "Insufficient Permission")

    def _own_calendar(self, grant: _Grant, calendar_id: str) -> _Calendar:
        email = grant.email if calendar_id == "primary" else calendar_id
        # No ACL sharing is emulated: a user reaches only their own events.
        if email != grant.email:
            raise ApiError(404, "notFound", "Not Found")
        return self._calendars[email]

    # ------------------------------------------------------------------ Calendar API: events

    def _api_events_insert(
        self, grant: _Grant, request: Request, params: _Params, body: Any
    ) -> Response:
        self._require_scope(grant, _EVENTS_SCOPES)
        calendar = self._own_calendar(grant, params["cal"])
        event = self._insert(calendar, body or {}, request.query)
        self.sent_updates.append(("insert", event["id"], request.param("sendUpdates", "none")))
        return Response.json(200, event)

    def _api_events_get(
        self, grant: _Grant, request: Request, params: _Params, body: Any
    ) -> Response:
        self._require_scope(grant, _EVENTS_SCOPES)
        calendar = self._own_calendar(grant, params["cal"])
        event = calendar.events.get(params["id"])
        if event is None and _INSTANCE_ID.match(params["id"]):
            event = self._instance(calendar, *_split_instance_id(params["id"]))
        if event is None:
            raise ApiError(404, "notFound", "Not Found")
        if event["status"] == "cancelled" and not event.get("recurringEventId"):
            raise ApiError(410, "deleted", "Resource has been deleted")
        return Response.json(200, event)

    def _api_events_patch(
        self, grant: _Grant, request: Request, params: _Params, body: Any
    ) -> Response:
        return self._modify(grant, request, params, body, merge=True)

    def _api_events_update(
        self, grant: _Grant, request: Request, params: _Params, body: Any
    ) -> Response:
        return self._modify(grant, request, params, body, merge=False)

    def _modify(
        self, grant: _Grant, request: Request, params: _Params, body: Any, *, merge: bool
    ) -> Response:
        self._require_scope(grant, _EVENTS_SCOPES)
        calendar = self._own_calendar(grant, params["cal"])
        current = self._editable(calendar, params["id"], allow_cancelled=not merge)
        if body.get("id") not in (None, current["id"]):
            raise ApiError(400, "invalid", "The event id cannot be changed.")
        if merge:
            target = _merge(current, body)
        else:
            keep = ("id", "created", "organizer", "creator", "iCalUID", "recurringEventId")
            target = {k: current[k] for k in keep if k in current} | body
            target.setdefault("status", "confirmed")
            if current.get("originalStartTime"):
                target["originalStartTime"] = current["originalStartTime"]
        target = self._prepare(target, request.query, existing=current)
        stored = self._write(calendar, target)
        self.sent_updates.append(
            ("patch" if merge else "update", stored["id"], request.param("sendUpdates", "none"))
        )
        return Response.json(200, stored)

    def _api_events_delete(
        self, grant: _Grant, request: Request, params: _Params, body: Any
    ) -> Response:
        self._require_scope(grant, _EVENTS_SCOPES)
        calendar = self._own_calendar(grant, params["cal"])
        self._delete(calendar, params["id"])
        self.sent_updates.append(("delete", params["id"], request.param("sendUpdates", "none")))
        return Response(204)

    def _api_events_instances(
        self, grant: _Grant, request: Request, params: _Params, body: Any
    ) -> Response:
        self._require_scope(grant, _EVENTS_SCOPES)
        calendar = self._own_calendar(grant, params["cal"])
        master = self._live(calendar, params["id"])
        if not master.get("recurrence"):
            raise ApiError(400, "invalid", "The event is not recurring.")
        low = _parse_instant(request.param("timeMin") or _rfc3339(_start(master["start"])))
        high = _parse_instant(request.param("timeMax") or _rfc3339(low + timedelta(days=730)))
        original = request.param("originalStart")
        starts = self._occurrences(master, low, high)
        if original:
            starts = [s for s in starts if s == _parse_instant(original)]
        items = [self._instance(calendar, master["id"], s) for s in starts]
        if request.param("showDeleted") != "true":
            items = [i for i in items if i["status"] != "cancelled"]
        offset = int(_page_state(request).get("offset", 0))
        page, next_page = self._paginate(request, items, offset, {})
        answer: dict[str, Any] = {"kind": "calendar#events", "items": page}
        if next_page:
            answer["nextPageToken"] = next_page
        return Response.json(200, answer)

    def _api_events_list(
        self, grant: _Grant, request: Request, params: _Params, body: Any
    ) -> Response:
        self._require_scope(grant, _EVENTS_SCOPES)
        calendar = self._own_calendar(grant, params["cal"])
        not_emulated = [p for p in (*_SYNC_TOKEN_EXCLUDES[2:5], "updatedMin") if p in request.query]
        if request.param("singleEvents") == "true" or (
            not_emulated and "syncToken" not in request.query
        ):
            # Refuse rather than silently ignore what this emulator does not implement.
            raise ApiError(400, "invalid", f"emulator: not emulated: singleEvents/{not_emulated}")
        page_token = request.param("pageToken")
        sync_token = request.param("syncToken")
        if sync_token is not None:
            clashing = [p for p in _SYNC_TOKEN_EXCLUDES if p in request.query]
            if clashing:
                raise ApiError(
                    400, "invalid", f"Sync token cannot be combined with {', '.join(clashing)}."
                )
        if page_token:
            state = _page_state(request)
            since, snapshot, offset = state["since"], state["snapshot"], state["offset"]
            if state["epoch"] != calendar.sync_epoch:
                raise _sync_gone()
        else:
            since = self._since(calendar, sync_token) if sync_token is not None else None
            snapshot, offset = self._seq, 0
        show_deleted = request.param("showDeleted") == "true"
        items = []
        for event_id, version in sorted(calendar.versions.items(), key=lambda kv: kv[1]):
            if version > snapshot or (since is not None and version <= since):
                continue
            event = calendar.events[event_id]
            if (
                since is None
                and event["status"] == "cancelled"
                and not (show_deleted or event.get("recurringEventId"))
            ):
                continue  # a full listing omits deleted events unless asked for them
            if not _matches_filters(event, request) or not self._in_window(event, request):
                continue
            items.append(event)
        if self.list_order_seed is not None:
            random.Random(f"{self.list_order_seed}:{since}:{snapshot}").shuffle(items)
        page_state = {"since": since, "snapshot": snapshot, "epoch": calendar.sync_epoch}
        page, next_page = self._paginate(request, items, offset, page_state)
        answer: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": calendar.email,
            "timeZone": calendar.zone,
            "accessRole": "owner",
            "updated": _rfc3339(_now()),
            "defaultReminders": [],
            "items": page,
        }
        if next_page:
            answer["nextPageToken"] = next_page
        else:  # the last page carries the token for the next incremental sync
            answer["nextSyncToken"] = _encode_token(
                {"seq": snapshot, "epoch": calendar.sync_epoch, "cal": calendar.email}
            )
        return Response.json(200, answer)

    def _since(self, calendar: _Calendar, sync_token: str) -> int:
        try:
            state = _decode_token(sync_token)
        except ValueError:
            raise _sync_gone() from None  # Google answers 410 to any token it cannot use
        if state.get("cal") != calendar.email or state.get("epoch") != calendar.sync_epoch:
            raise _sync_gone()
        return int(state["seq"])

    def _paginate(
        self, request: Request, items: list[dict], offset: int, state: dict[str, Any]
    ) -> tuple[list[dict], str | None]:
        """One page of ``items`` from ``offset``, and the page token for the rest (if any)."""
        size = min(int(request.param("maxResults") or 250), self.max_page_size)
        if offset + size >= len(items):
            return items[offset:], None
        return items[offset : offset + size], _encode_token(state | {"offset": offset + size})

    # ------------------------------------------------------------------ Calendar API: freeBusy

    def _api_freebusy_query(
        self, grant: _Grant, request: Request, params: _Params, body: Any
    ) -> Response:
        self._require_scope(grant, _FREEBUSY_SCOPES)
        body = body or {}
        for required in ("timeMin", "timeMax"):
            if required not in body:
                raise ApiError(400, "required", f"Missing {required}.")
        low, high = _parse_instant(body["timeMin"]), _parse_instant(body["timeMax"])
        if high <= low:
            raise ApiError(
                400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar"
            )
        if high - low > _MAX_FREEBUSY_RANGE:
            raise ApiError(400, "timeRangeTooLong", "The requested time range is too long.")
        items = body.get("items", [])
        if len(items) > _MAX_FREEBUSY_CALENDARS:
            raise ApiError(400, "tooManyCalendarsRequested", "Too many calendars requested.")
        calendars: dict[str, Any] = {}
        for item in items:
            email = grant.email if item.get("id") == "primary" else item.get("id", "")
            calendar = self._calendars.get(email)
            if calendar is None:
                calendars[item.get("id", "")] = {
                    "errors": [{"domain": "global", "reason": "notFound"}],
                    "busy": [],
                }
                continue
            busy = [
                {"start": _rfc3339(max(s, low)), "end": _rfc3339(min(e, high))}
                for s, e in self._busy(calendar, low, high)
            ]
            calendars[item["id"]] = {"busy": busy}
        return Response.json(
            200,
            {
                "kind": "calendar#freeBusy",
                "timeMin": body["timeMin"],
                "timeMax": body["timeMax"],
                "calendars": calendars,
            },
        )

    def _in_window(self, event: dict[str, Any], request: Request) -> bool:
        """Whether ``event`` overlaps the listing's timeMin/timeMax (a series: any occurrence)."""
        low, high = request.param("timeMin"), request.param("timeMax")
        if low is None and high is None:
            return True
        start_at = _parse_instant(low) if low else datetime.min.replace(tzinfo=UTC)
        end_at = _parse_instant(high) if high else datetime.max.replace(tzinfo=UTC)
        if event["status"] == "cancelled" and not event.get("recurringEventId"):
            return True  # Google lists deletions whatever the window
        if event.get("recurrence"):
            return bool(self._occurrences(event, start_at, end_at))
        return _start(event["start"]) < end_at and start_at < _start(event["end"])

    def _busy(
        self, calendar: _Calendar, low: datetime, high: datetime
    ) -> list[tuple[datetime, datetime]]:
        spans = []
        for event in calendar.events.values():
            if event["status"] == "cancelled" or event.get("recurringEventId"):
                continue
            if event.get("transparency") == "transparent":
                continue
            if event.get("recurrence"):
                occurrences = [
                    self._instance(calendar, event["id"], s)
                    for s in self._occurrences(event, low, high)
                ]
            else:
                occurrences = [event]
            for occurrence in occurrences:
                if occurrence["status"] == "cancelled" or _declined_by(occurrence, calendar.email):
                    continue
                start, end = _start(occurrence["start"]), _start(occurrence["end"])
                if start < high and low < end:
                    spans.append((start, end))
        # Moved occurrences may land inside the window although their original start did not.
        for event in calendar.events.values():
            if event.get("recurringEventId") and event["status"] != "cancelled":
                start, end = _start(event["start"]), _start(event["end"])
                original = _start(event["originalStartTime"])
                master = calendar.events.get(event["recurringEventId"])
                if master is None or master["status"] == "cancelled":
                    continue
                in_window_already = low - (end - start) <= original < high
                moved_in = not in_window_already and start < high and low < end
                if moved_in and not _declined_by(event, calendar.email):
                    spans.append((start, end))
        return sorted(spans)

    # ------------------------------------------------------------------ Calendar API: channels

    def _api_events_watch(
        self, grant: _Grant, request: Request, params: _Params, body: Any
    ) -> Response:
        self._require_scope(grant, _EVENTS_SCOPES)
        calendar = self._own_calendar(grant, params["cal"])
        body = body or {}
        if body.get("type") not in ("web_hook", "webhook"):
            raise ApiError(400, "invalid", "Invalid channel type.")
        address = body.get("address", "")
        if urlsplit(address).scheme != "https":
            raise ApiError(
                400, "push.webhookUrlNotHttps", f"WebHook callback must be HTTPS: {address}"
            )
        if not body.get("id") or body["id"] in self._channels:
            raise ApiError(400, "channelIdNotUnique", "Channel id not unique")
        limit = _now() + _CHANNEL_TTL
        requested = body.get("expiration")
        expiration = (
            min(limit, datetime.fromtimestamp(int(requested) / 1000, UTC)) if requested else limit
        )
        channel = _Channel(
            id=body["id"],
            resource_id=secrets.token_urlsafe(12),
            calendar=calendar.email,
            address=address,
            token=body.get("token"),
            expiration=expiration,
        )
        self._channels[channel.id] = channel
        self._announce(channel, "sync")
        return Response.json(
            200,
            {
                "kind": "api#channel",
                "id": channel.id,
                "resourceId": channel.resource_id,
                "resourceUri": f"{self.base_url}/calendar/v3/calendars/{calendar.email}/events",
                "token": channel.token,
                "expiration": str(int(expiration.timestamp() * 1000)),
            },
        )

    def _api_channels_stop(
        self, grant: _Grant, request: Request, params: _Params, body: Any
    ) -> Response:
        body = body or {}
        channel = self._channels.get(body.get("id", ""))
        if (
            channel is None
            or channel.stopped
            or channel.resource_id != body.get("resourceId")
            or channel.calendar != grant.email
        ):
            raise ApiError(404, "notFound", f"Channel '{body.get('id')}' not found for project")
        channel.stopped = True
        return Response(204)

    def _announce(self, channel: _Channel, state: str) -> None:
        channel.message_number += 1
        self._outbox.put((channel, state, channel.message_number))

    def _deliver(self) -> None:
        context = self._ca.client_context()
        while (item := self._outbox.get()) is not None:
            self._post(context, *item)
            self._outbox.task_done()
        self._outbox.task_done()

    def lose_notifications(self, calendar: str) -> None:
        """From now on nothing is pushed for ``calendar``'s changes, and nobody is told (a
        provider outage, a dropped channel): what the daily reconciliation is there for."""
        with self._lock:
            for channel in self._channels.values():
                if channel.calendar == calendar:
                    channel.stopped = True

    def wait_for_deliveries(self) -> None:
        """Block until every notification queued so far has been POSTed (or has failed)."""
        self._outbox.join()

    def _post(self, context: ssl.SSLContext, channel: _Channel, state: str, number: int) -> None:
        headers = {
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": channel.expiration.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": f"calendars/{channel.calendar}/events",
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(number),
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        post = urllib.request.Request(channel.address, b"", headers, method="POST")
        try:
            with urllib.request.urlopen(post, timeout=2, context=context) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        with self._lock:
            self.deliveries.append(Delivery(channel.id, state, number, status))

    # ------------------------------------------------------------------ the store

    def _insert(
        self, calendar: _Calendar, body: dict[str, Any], query: Mapping[str, list[str]]
    ) -> dict[str, Any]:
        event_id = body.get("id")
        if event_id is None:
            event_id = secrets.token_hex(13)  # hex digits are base32hex too
        elif not _EVENT_ID.match(event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in calendar.events:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        organizer = {"email": calendar.email, "displayName": calendar.name, "self": True}
        event = {
            "id": event_id,
            "status": "confirmed",
            "created": _rfc3339(_now()),
            "organizer": organizer,
            "creator": dict(organizer),
            "iCalUID": f"{event_id}@google.com",
            "sequence": 0,
            "reminders": {"useDefault": True},
            "eventType": "default",
        } | {k: v for k, v in body.items() if k != "id"}
        event = self._prepare(event, query, existing=None)
        return self._write(calendar, event)

    def _prepare(
        self, event: dict[str, Any], query: Mapping[str, list[str]], existing: dict | None
    ) -> dict[str, Any]:
        """Google's semantic checks and server-side fields for a full event resource."""
        flag = {k: v[-1] for k, v in query.items()}
        for side in ("start", "end"):
            if not event.get(side) or not (event[side].get("dateTime") or event[side].get("date")):
                raise ApiError(400, "required", f"Missing {side} time.")
            zone = event[side].get("timeZone")
            if zone is not None:
                try:
                    ZoneInfo(zone)
                except (ZoneInfoNotFoundError, ValueError):
                    raise ApiError(
                        400, "invalid", f"Invalid time zone definition for {side} time."
                    ) from None
            if event.get("recurrence") and zone is None:
                raise ApiError(400, "required", f"Missing time zone definition for {side} time.")
            naive = "dateTime" in event[side] and _has_no_offset(event[side]["dateTime"])
            if naive and zone is None:
                raise ApiError(400, "required", f"Missing time zone definition for {side} time.")
        if _start(event["end"]) < _start(event["start"]):
            raise ApiError(
                400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar"
            )
        for line in event.get("recurrence") or []:
            if not re.match(r"^(RRULE|EXRULE|RDATE|EXDATE)[:;]", line):
                raise ApiError(400, "invalid", "Invalid recurrence rule.")
        if event.get("recurrence"):
            try:
                self._occurrences(event, _start(event["start"]), _start(event["start"]))
            except (ValueError, TypeError):
                raise ApiError(400, "invalid", "Invalid recurrence rule.") from None
        if flag.get("supportsAttachments") != "true":
            # Google silently drops attachments the client did not declare support for.
            if existing is not None and "attachments" in existing:
                event["attachments"] = existing["attachments"]
            else:
                event.pop("attachments", None)
        elif len(event.get("attachments") or []) > 25:
            raise ApiError(400, "invalid", "Too many attachments.")
        conference = event.get("conferenceData") or {}
        if flag.get("conferenceDataVersion") != "1":
            # Without conferenceDataVersion=1 conference changes are ignored.
            if existing is not None and "conferenceData" in existing:
                event["conferenceData"] = existing["conferenceData"]
            else:
                event.pop("conferenceData", None)
        elif "createRequest" in conference and "conferenceId" not in conference:
            key = conference["createRequest"].get("conferenceSolutionKey", {}).get("type")
            if key != "hangoutsMeet":
                raise ApiError(400, "invalid", "Invalid conference type value.")
            code = hashlib.sha256(conference["createRequest"]["requestId"].encode()).hexdigest()
            meet = f"https://meet.google.com/{code[:3]}-{code[3:7]}-{code[7:10]}"
            event["conferenceData"] = {
                "createRequest": conference["createRequest"]
                | {"status": {"statusCode": "success"}},
                "entryPoints": [{"entryPointType": "video", "uri": meet, "label": meet[8:]}],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "conferenceId": f"{code[:3]}-{code[3:7]}-{code[7:10]}",
            }
            event["hangoutLink"] = meet
        for person in event.get("attendees") or []:
            person.setdefault("responseStatus", "needsAction")
        if existing is not None:
            event["sequence"] = int(existing.get("sequence", 0)) + 1
        return event

    def _write(self, calendar: _Calendar, event: dict[str, Any]) -> dict[str, Any]:
        """Store ``event`` in ``calendar`` and, if it organises it, mirror it to attendees."""
        stored = self._store(calendar, _as_seen_by(event, calendar.email))
        if _organised_by(stored, calendar.email):
            self._copy_to_attendees(calendar, stored)
        return copy.deepcopy(stored)

    def _store(self, calendar: _Calendar, resource: dict[str, Any]) -> dict[str, Any]:
        """Persist one resource under a new version (what sync tokens count) and notify."""
        self._seq += 1
        resource = copy.deepcopy(resource) | {
            "kind": "calendar#event",
            "etag": f'"{self._seq}"',
            "updated": _rfc3339(_now()),
        }
        if resource["status"] != "cancelled":
            resource["htmlLink"] = f"{self.base_url}/calendar/event?eid={resource['id']}"
        calendar.events[resource["id"]] = resource
        calendar.versions[resource["id"]] = self._seq
        self._changed(calendar)
        return resource

    def _copy_to_attendees(self, organiser: _Calendar, event: dict[str, Any]) -> None:
        """Mirror the organiser's event onto guests' calendars (domain users only)."""
        master = organiser.events.get(event.get("recurringEventId", ""), event)
        guests = {
            p["email"] for p in (master.get("attendees") or []) + (event.get("attendees") or [])
        }
        for email in guests - {organiser.email}:
            guest = self._calendars.get(email)
            if guest is None:
                continue  # outside the domain: an email invitation, no calendar copy
            invited = any(p["email"] == email for p in event.get("attendees") or [])
            if event["status"] != "cancelled" and invited:
                self._store(guest, _guest_copy(event, guest))
            elif event["id"] in guest.events or event.get("recurringEventId"):
                self._store(guest, _tombstone(event))

    def _changed(self, calendar: _Calendar) -> None:
        for channel in self._channels.values():
            if (
                channel.calendar == calendar.email
                and not channel.stopped
                and channel.expiration > _now()
            ):
                self._announce(channel, "exists")

    def _delete(self, calendar: _Calendar, event_id: str) -> None:
        event = calendar.events.get(event_id)
        if event is None and _INSTANCE_ID.match(event_id):
            event = self._instance(calendar, *_split_instance_id(event_id))
        if event is None:
            raise ApiError(404, "notFound", "Not Found")
        if event["status"] == "cancelled":
            raise ApiError(410, "deleted", "Resource has been deleted")
        self._store(calendar, _tombstone(event))
        if _organised_by(event, calendar.email):
            self._copy_to_attendees(calendar, event | {"status": "cancelled"})

    def _live(self, calendar: _Calendar, event_id: str) -> dict[str, Any]:
        event = calendar.events.get(event_id)
        if event is None:
            raise ApiError(404, "notFound", "Not Found")
        if event["status"] == "cancelled":
            raise ApiError(410, "deleted", "Resource has been deleted")
        return event

    def _editable(
        self, calendar: _Calendar, event_id: str, allow_cancelled: bool = False
    ) -> dict[str, Any]:
        if _INSTANCE_ID.match(event_id) and event_id not in calendar.events:
            found = self._instance(calendar, *_split_instance_id(event_id))
        else:
            found = calendar.events.get(event_id)
            if found is None:
                raise ApiError(404, "notFound", "Not Found")
        if found["status"] == "cancelled" and not (
            allow_cancelled or found.get("recurringEventId")
        ):
            raise ApiError(410, "deleted", "Resource has been deleted")
        return copy.deepcopy(found)

    def _occurrences(self, master: dict[str, Any], low: datetime, high: datetime) -> list[datetime]:
        """UTC starts of ``master``'s occurrences that overlap [low, high], expanded locally."""
        zone = ZoneInfo(master["start"]["timeZone"])
        first = _start(master["start"]).astimezone(zone)
        duration = _start(master["end"]) - _start(master["start"])
        rules = rrulestr("\n".join(master["recurrence"]), dtstart=first, forceset=True)
        window_low = (low - duration).astimezone(zone)
        return [
            start.astimezone(UTC)
            for start in rules.between(window_low, high.astimezone(zone), inc=True)
            if start.astimezone(UTC) + duration > low or start.astimezone(UTC) == low
        ]

    def _instance(
        self, calendar: _Calendar, master_id: str, original_start: datetime
    ) -> dict[str, Any]:
        """One occurrence as Google shows it: the stored exception, else derived from master."""
        iid = instance_id(master_id, original_start)
        if iid in calendar.events:
            return copy.deepcopy(calendar.events[iid])
        master = self._live(calendar, master_id)
        original = original_start.astimezone(UTC)
        if not master.get("recurrence") or original not in self._occurrences(
            master, original, original
        ):
            raise ApiError(404, "notFound", "Not Found")
        zone = master["start"]["timeZone"]
        duration = _start(master["end"]) - _start(master["start"])
        instance = copy.deepcopy(master)
        instance.pop("recurrence")
        instance.update(
            id=iid,
            recurringEventId=master_id,
            originalStartTime=_event_time(original, zone),
            start=_event_time(original, zone),
            end=_event_time(original + duration, zone),
        )
        return instance

    # ------------------------------------------------------------------ OAuth

    def _authorize(self, request: Request) -> Response:
        with self._lock:
            self.calls["oauth.authorize"] += 1
            query = {k: v[-1] for k, v in request.query.items()}
            problem = None
            if query.get("client_id") != self.client_id:
                problem = "invalid_client"
            elif query.get("response_type") != "code" or not query.get("redirect_uri"):
                problem = "invalid_request"
            elif query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
                problem = "invalid_request: PKCE S256 required"
            if problem:
                return Response(400, problem.encode(), {"Content-Type": "text/plain"})
            hint = query.get("login_hint")
            email = hint if hint in self._calendars else self.consenting_user
            asked = (_SCOPE_ALIASES.get(s, s) for s in query.get("scope", "").split())
            scopes = tuple(s for s in asked if s not in self.withheld_scopes)
            if query.get("include_granted_scopes") == "true":
                scopes += tuple(sorted(self.previously_granted - set(scopes)))
            code = "4/" + secrets.token_urlsafe(24)
            self._codes[code] = {
                "email": email,
                "scopes": scopes,
                "redirect_uri": query["redirect_uri"],
                "challenge": query["code_challenge"],
                "offline": query.get("access_type") == "offline",
            }
            back = {"state": query.get("state", ""), "code": code, "scope": " ".join(scopes)}
            location = f"{query['redirect_uri']}?{urlencode(back)}"
            return Response(302, b"", {"Location": location})

    def _token(self, request: Request) -> Response:
        with self._lock:
            self.calls["oauth.token"] += 1
            form = request.form()
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            basic = request.headers.get("authorization", "")
            if basic.startswith("Basic "):
                decoded = base64.b64decode(basic[6:]).decode()
                client_id, _, client_secret = (unquote(p) for p in decoded.partition(":"))
            if (client_id, client_secret) != (self.client_id, self.client_secret):
                return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                return self._exchange_code(form)
            if grant_type == "refresh_token":
                for grant in self._grants:
                    if grant.refresh_token == form.get("refresh_token") and not grant.revoked:
                        return Response.json(200, self._token_response(grant, False))
                return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
            return _oauth_error(400, "unsupported_grant_type", "Invalid grant_type.")

    def _exchange_code(self, form: dict[str, str]) -> Response:
        pending = self._codes.pop(form.get("code", ""), None)
        if pending is None:
            return _oauth_error(400, "invalid_grant", "Malformed auth code.")
        if form.get("redirect_uri") != pending["redirect_uri"]:
            return _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != pending["challenge"]:
            return _oauth_error(400, "invalid_grant", "Invalid code verifier.")
        grant = _Grant(pending["email"], pending["scopes"], "1//" + secrets.token_urlsafe(24))
        self._grants.append(grant)
        return Response.json(200, self._token_response(grant, pending["offline"]))

    def _token_response(self, grant: _Grant, include_refresh: bool) -> dict[str, Any]:
        access = "ya29." + secrets.token_urlsafe(24)
        self._access[access] = _AccessToken(grant, _now() + timedelta(seconds=3599))
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": 3599,
            "scope": " ".join(grant.scopes),
            "token_type": "Bearer",
        }
        if include_refresh:
            answer["refresh_token"] = grant.refresh_token
        if "openid" in grant.scopes:
            answer["id_token"] = self._id_token(grant.email)
        return answer

    def _id_token(self, email: str) -> str:
        """An id_token-shaped JWT (unsigned: Cadence reads the userinfo endpoint instead)."""

        def part(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

        now = int(_now().timestamp())
        claims = {
            "iss": self.base_url,
            "aud": self.client_id,
            "sub": _subject(email),
            "email": email,
            "email_verified": email not in self.unverified,
            "iat": now,
            "exp": now + 3600,
        }
        return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."

    def _revoke(self, request: Request) -> Response:
        with self._lock:
            self.calls["oauth.revoke"] += 1
            token = request.form().get("token") or request.param("token")
            for grant in self._grants:
                if grant.refresh_token == token:
                    grant.revoked = True
            if token in self._access:
                self._access[token].grant.revoked = True
            return Response.json(200, {})

    def _userinfo(self, request: Request) -> Response:
        with self._lock:
            self.calls["oauth.userinfo"] += 1
            grant = self._authenticate(request)
            if SCOPE + "userinfo.email" not in grant.scopes:
                raise ApiError(403, "insufficientPermissions", "Insufficient Permission")
            name = self._calendars[grant.email].name
            return Response.json(
                200,
                {
                    "sub": _subject(grant.email),
                    "email": grant.email,
                    "email_verified": grant.email not in self.unverified,
                    "name": name,
                    "given_name": name.split()[0] if name else "",
                },
            )


# ---------------------------------------------------------------------- helpers


def _subject(email: str) -> str:
    return str(int(hashlib.sha256(email.encode()).hexdigest()[:15], 16))


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response.json(status, {"error": error, "error_description": description})


def _sync_gone() -> ApiError:
    return ApiError(
        410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."
    )


def _encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any]:
    """The state inside a page or sync token; ``ValueError`` if it is not one of ours."""
    state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    if not isinstance(state, dict):
        raise ValueError(f"not a token: {token!r}")
    return state


def _page_state(request: Request) -> dict[str, Any]:
    token = request.param("pageToken")
    if not token:
        return {}
    try:
        return _decode_token(token)
    except ValueError:
        raise ApiError(400, "invalid", "Invalid page token value.") from None


def _split_instance_id(event_id: str) -> tuple[str, datetime]:
    match = _INSTANCE_ID.match(event_id)
    assert match is not None
    start = datetime.strptime(match["start"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return match["master"], start


def _has_no_offset(value: str) -> bool:
    return not re.search(r"(Z|[+-]\d{2}:\d{2})$", value)


def _parse_instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ApiError(400, "invalid", f"Bad Request: {value} has no offset.")
    return parsed.astimezone(UTC)


def _start(when: Mapping[str, str]) -> datetime:
    """The UTC instant of an EventDateTime (all-day: midnight UTC)."""
    if "dateTime" in when:
        parsed = datetime.fromisoformat(when["dateTime"])
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(when["timeZone"]))
        return parsed.astimezone(UTC)
    return datetime.fromisoformat(when["date"]).replace(tzinfo=UTC)


def _event_time(instant: datetime, zone: str | None) -> dict[str, str]:
    if zone is None:
        return {"dateTime": _rfc3339(instant)}
    return {"dateTime": instant.astimezone(ZoneInfo(zone)).isoformat(), "timeZone": zone}


def _declined_by(event: Mapping[str, Any], email: str) -> bool:
    return any(
        p.get("email") == email and p.get("responseStatus") == "declined"
        for p in event.get("attendees") or []
    )


def _organised_by(event: Mapping[str, Any], email: str) -> bool:
    return event.get("organizer", {}).get("email") == email


def _as_seen_by(event: Mapping[str, Any], email: str) -> dict[str, Any]:
    """The resource with ``self`` flags set for the calendar owner ``email``."""
    seen = copy.deepcopy(dict(event))
    for person in seen.get("attendees") or []:
        person.pop("self", None)
        if person["email"] == email:
            person["self"] = True
    if seen.get("organizer"):
        seen["organizer"]["self"] = seen["organizer"].get("email") == email
    return seen


def _guest_copy(event: Mapping[str, Any], guest: _Calendar) -> dict[str, Any]:
    """The organiser's event as it appears on a guest's calendar."""
    mirror = _as_seen_by(event, guest.email)
    extended = mirror.pop("extendedProperties", {})
    extended.pop("private", None)  # private properties stay on the organiser's copy
    own = guest.events.get(event["id"], {}).get("extendedProperties", {}).get("private")
    if own:
        extended["private"] = own
    if extended:
        mirror["extendedProperties"] = extended
    return mirror


def _tombstone(event: Mapping[str, Any]) -> dict[str, Any]:
    """What Google keeps of a deleted event: id and status (plus which occurrence it was)."""
    keep = ("id", "recurringEventId", "originalStartTime")
    return {k: copy.deepcopy(event[k]) for k in keep if k in event} | {"status": "cancelled"}


def _merge(current: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Patch semantics: objects merge key by key, arrays and scalars are replaced."""
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _matches_filters(event: Mapping[str, Any], request: Request) -> bool:
    for kind, param in (
        ("private", "privateExtendedProperty"),
        ("shared", "sharedExtendedProperty"),
    ):
        for condition in request.query.get(param, []):
            name, _, value = condition.partition("=")
            if event.get("extendedProperties", {}).get(kind, {}).get(name) != value:
                return False
    kinds = request.query.get("eventTypes", [])
    return not kinds or event.get("eventType", "default") in kinds
