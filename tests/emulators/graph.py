"""A strict local Microsoft Graph v1.0 + identity platform, served over TLS, for tests and benches.

    with GraphEmulator() as graph:
        graph.add_mailbox("maria@contoso.test", "Maria Manager")
        graph.register_app(client_id, secret, redirect_uri)
        MicrosoftSettings(..., authority=graph.authority, graph_url=graph.graph_url,
                          ca_bundle=graph.ca_bundle)
        ...
        graph.count("POST", "/me/events")

It speaks the wire format the real ``msal`` and ``requests`` clients see: OpenID discovery,
authorize and token (``graph_identity``), ``/me/events`` (``graph_events``), ``getSchedule``
(``graph_schedule``), ``mailboxSettings`` (``graph_mailbox``; refused without
``MailboxSettings.Read``, as Graph does), ``calendarView/delta`` (``graph_delta``),
``/subscriptions`` with the validation handshake and notifications (``graph_subscriptions``)
and ``$batch`` (here).
Bodies naming properties their Graph type lacks are refused (``graph_schema``). Test
controls inject faults (429/503 with Retry-After, slow answers), revoke grants, expire delta
tokens, shuffle delta rounds and play the other people (answer the series, decline one week,
cancel, move, delete); counters record every call and the most requests ever in flight per
mailbox.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.emulators.graph_calendar import (
    Exception_,
    Instance,
    Mailbox,
    StoredEvent,
    calendar_view,
    format_in,
    iso_z,
    new_id,
    parse_local,
)
from tests.emulators.graph_delta import DeltaRounds
from tests.emulators.graph_events import Calendars, Invite
from tests.emulators.graph_identity import Identity
from tests.emulators.graph_mailbox import mailbox_settings
from tests.emulators.graph_schedule import get_schedule
from tests.emulators.graph_schema import UnknownProperty
from tests.emulators.graph_subscriptions import Subscriptions
from tests.emulators.graph_wire import GraphError, preferred_zone
from tests.emulators.server import LocalServer, Request, Response
from tests.emulators.tls import LocalCA

MAILBOX_CONCURRENCY = 4  # per app per mailbox (learn.microsoft.com/graph/throttling-limits)
BATCH_LIMIT = 20  # learn.microsoft.com/graph/json-batching

__all__ = ["GraphEmulator", "Invite"]


@dataclass
class Fault:
    """Answer the next ``times`` matching Graph requests with ``status`` (or just slowly)."""

    status: int | None
    times: int
    retry_after: float | None = None
    path: str = ""
    method: str = ""
    delay: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.path in path and (not self.method or method == self.method)


@dataclass
class Call:
    method: str
    path: str
    mailbox: str | None
    status: int
    in_batch: bool = False
    at: float = field(default_factory=time.monotonic)  # when the answer was ready


class GraphEmulator:
    """Graph + identity on ``https://127.0.0.1:{port}``; start/stop or use as a context manager.

    ``ca`` lets several emulators share one throwaway CA; by default each has its own.
    """

    def __init__(
        self,
        tenant: str = "contoso-tenant",
        *,
        transaction_conflict: bool = False,
        ca: LocalCA | None = None,
    ):
        self.identity = Identity(tenant=tenant)
        self.push = Subscriptions(tenant)
        self.calendars = Calendars(self.push.changed, transaction_conflict=transaction_conflict)
        self.delta = DeltaRounds(self._view)
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.latency = 0.0  # seconds each Graph request takes (to make concurrency visible)
        self.max_in_flight: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._own_ca = ca is None
        self._ca = ca or LocalCA()
        self._server = LocalServer(self._handle, self._ca.server_context())

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/v1.0"

    @property
    def authority(self) -> str:
        return self.identity.authority

    @property
    def ca_bundle(self) -> str:
        return self._ca.bundle_path

    @property
    def mailboxes(self) -> dict[str, Mailbox]:
        return self.calendars.mailboxes

    @property
    def invites(self) -> list[Invite]:
        return self.calendars.invites

    @property
    def subscriptions(self) -> dict[str, dict[str, Any]]:
        return self.push.by_id

    def start(self) -> GraphEmulator:
        self._server.start()
        self.identity.base_url = self.base_url
        self.push.start()
        return self

    def stop(self) -> None:
        self.push.stop()
        self._server.stop()
        if self._own_ca:
            self._ca.close()

    def __enter__(self) -> GraphEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ test controls

    def add_mailbox(self, email: str, name: str, zone_name: str = "Pacific Standard Time") -> None:
        self.mailboxes[email.lower()] = Mailbox(email.lower(), name, zone_name)
        self.identity.names[email.lower()] = name

    def register_app(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.identity.register_app(client_id, secret, {redirect_uri})

    def add_event(
        self, email: str, subject: str, start: datetime, end: datetime, show_as: str = "busy"
    ) -> str:
        """Put a plain event (busy time, out of office...) on someone's calendar."""
        data = {
            "id": new_id(),
            "subject": subject,
            "showAs": show_as,
            "start": format_in(start, "UTC"),
            "end": format_in(end, "UTC"),
            "organizer": self.calendars.recipient(email),
            "attendees": [],
            "isOrganizer": True,
        }
        with self._lock:
            stored = StoredEvent(email.lower(), data)
            stored.touch()
            self.mailboxes[email.lower()].events[stored.id] = stored
        return stored.id

    def fail(
        self,
        status: int | None,
        times: int = 1,
        *,
        retry_after: float | None = None,
        path: str = "",
        method: str = "",
        delay: float = 0.0,
    ) -> None:
        """Make the next ``times`` Graph requests whose path contains ``path`` fail with
        ``status`` after ``delay`` seconds (``status=None``: answer normally, but late)."""
        self.faults.append(Fault(status, times, retry_after, path, method, delay))

    def revoke(self, email: str) -> None:
        self.identity.revoke(email.lower())

    def expire_access_tokens(self) -> None:
        """Every access token is refused from now on (refresh tokens still work)."""
        self.identity.access_tokens.clear()

    def expire_delta_tokens(self) -> None:
        with self._lock:
            self.delta.expire()

    def series_of(self, email: str) -> list[StoredEvent]:
        """The series masters (and single events) a mailbox organises."""
        return [e for e in self.mailboxes[email.lower()].events.values() if e.source is None]

    def decline_occurrence(self, attendee: str, master_id: str, original_start: datetime) -> None:
        """``attendee`` declines one occurrence of the organiser's series."""
        with self._lock:
            master, change = self._exception(master_id, original_start)
            change.responses[attendee.lower()] = "declined"
            self.push.changed(master, "updated")

    def respond_to_series(self, attendee: str, master_id: str, response: str) -> None:
        """``attendee`` answers the whole series (occurrences with an answer of their own
        keep it)."""
        with self._lock:
            master = self.calendars.find(master_id)
            for person in master.data.get("attendees", []):
                if person["emailAddress"]["address"].lower() == attendee.lower():
                    person["status"] = {"response": response, "time": iso_z(datetime.now(UTC))}
            master.touch()
            self.push.changed(master, "updated")

    def shuffle_delta(self, seed: int | None) -> None:
        """From now on each delta round lists its items in a seeded random order."""
        with self._lock:
            self.delta.shuffle = None if seed is None else random.Random(seed)

    def cancel_occurrence(self, master_id: str, original_start: datetime) -> None:
        """The organiser cancels one occurrence in Outlook."""
        with self._lock:
            master, change = self._exception(master_id, original_start)
            change.cancelled = True
            self.push.changed(master, "updated")

    def move_occurrence(
        self, master_id: str, original_start: datetime, new_start: datetime
    ) -> None:
        """The organiser drags one occurrence to another time."""
        with self._lock:
            master, change = self._exception(master_id, original_start)
            duration = parse_local(master.data["end"]) - parse_local(master.data["start"])
            change.start, change.end = new_start.astimezone(UTC), new_start + duration
            self.push.changed(master, "updated")

    def delete_series(self, master_id: str) -> None:
        """The organiser deletes the whole series in Outlook."""
        with self._lock:
            self.calendars.delete(self.calendars.find(master_id))

    def send_lifecycle(self, subscription_id: str, event: str) -> int:
        """POST a lifecycle notification (``missed``...) now; the app's HTTP status."""
        return self.push.send_lifecycle(subscription_id, event)

    def count(self, method: str = "", path: str = "", *, in_batch: bool = False) -> int:
        """How many Graph calls had this method and exact path (any, when empty); top-level
        HTTP requests unless ``in_batch`` (then the requests inside ``$batch``)."""
        return sum(
            1
            for c in self.calls
            if c.in_batch == in_batch
            and (not method or c.method == method)
            and (not path or c.path == path)
        )

    def reset_counts(self) -> None:
        self.calls.clear()
        self.max_in_flight.clear()
        self.identity.token_requests = 0
        self.identity.metadata_requests = 0

    def _exception(
        self, master_id: str, original_start: datetime
    ) -> tuple[StoredEvent, Exception_]:
        master = self.calendars.find(master_id)
        return master, master.exceptions.setdefault(original_start.astimezone(UTC), Exception_())

    def _view(self, mailbox: str, start: datetime, end: datetime) -> list[Instance]:
        return calendar_view(self.mailboxes[mailbox], start, end)

    # ------------------------------------------------------------------ HTTP plumbing

    def _handle(self, request: Request) -> Response:
        identity = self.identity.handle(request)
        if identity is not None:
            return identity
        path = request.path.removeprefix("/v1.0")
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        mailbox = self.identity.user_for(bearer)
        scopes = self.identity.scopes_for(bearer)
        if mailbox is None:
            self._record(request.method, path, None, 401)
            error = GraphError(401, "InvalidAuthenticationToken", "Access token is invalid.")
            return Response.json(401, error.body())
        with self._lock:
            self._in_flight[mailbox] += 1
            crowded = self._in_flight[mailbox] > MAILBOX_CONCURRENCY
            self.max_in_flight[mailbox] = max(self.max_in_flight[mailbox], self._in_flight[mailbox])
        try:
            time.sleep(self.latency)
            if crowded:
                status, body, headers = _error(_mailbox_concurrency())
            else:
                args = {name: values[-1] for name, values in request.query.items()}
                status, body, headers = self._dispatch(
                    request.method, path, args, request.body, dict(request.headers), mailbox, scopes
                )
        finally:
            with self._lock:
                self._in_flight[mailbox] -= 1
        self._record(request.method, path, mailbox, status)
        if body is None:
            return Response(status, headers=headers)
        return Response.json(status, body, headers)

    def _record(self, method: str, path: str, mailbox: str | None, status: int, **kw: Any) -> None:
        with self._lock:
            self.calls.append(Call(method, path, mailbox, status, **kw))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _dispatch(
        self,
        method: str,
        path: str,
        args: dict[str, str],
        raw: bytes,
        headers: dict[str, str],
        mailbox: str,
        scopes: frozenset[str],
    ) -> tuple[int, Any, dict[str, str]]:
        """One Graph request (top level or inside ``$batch``): (status, JSON, headers)."""
        fault = self._take_fault(method, path)
        if fault is not None:
            time.sleep(fault.delay)
            if fault.status is not None:
                extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                code = "TooManyRequests" if fault.status == 429 else "ServiceUnavailable"
                return fault.status, GraphError(fault.status, code, "injected").body(), extra
        try:
            body = json.loads(raw) if raw else None
            if method == "POST" and path == "/$batch":
                return 200, self._batch(body, mailbox, headers, scopes), {}
            zone_name = preferred_zone(headers)
            with self._lock:
                status, result = self._route(method, path, args, body, mailbox, zone_name, scopes)
            return status, result, {}
        except GraphError as error:
            return _error(error)
        except UnknownProperty as error:
            return _error(GraphError(400, "RequestBodyRead", str(error)))

    def _route(
        self,
        method: str,
        path: str,
        args: dict[str, str],
        body: Any,
        mailbox: str,
        zone_name: str,
        scopes: frozenset[str],
    ) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if method == "GET" and parts == ["me"]:
            box = self.mailboxes[mailbox]
            return 200, {"id": box.email, "displayName": box.name, "mail": box.email}
        if method == "GET" and parts == ["me", "mailboxSettings"]:
            return 200, mailbox_settings(self.mailboxes[mailbox], scopes, self.graph_url)
        if method == "POST" and parts == ["me", "calendar", "getSchedule"]:
            return 200, get_schedule(self.mailboxes, body, zone_name)
        if method == "GET" and parts == ["me", "calendarView", "delta"]:
            link = f"{self.graph_url}/me/calendarView/delta"
            return 200, self.delta.handle(args, mailbox, zone_name, link)
        if method == "POST" and parts == ["subscriptions"]:
            return 201, self.push.create(body, mailbox)
        if parts[:1] == ["subscriptions"] and len(parts) == 2:
            return self.push.handle(method, parts[1], body)
        if parts == ["me", "events"] and method == "POST":
            return self.calendars.create(body, mailbox, zone_name)
        if parts == ["me", "events"] and method == "GET":
            return 200, self.calendars.list_events(args, mailbox, zone_name)
        if parts[:2] == ["me", "events"] and len(parts) > 2:
            return self.calendars.route(method, parts[2], parts[3:], args, body, mailbox, zone_name)
        raise GraphError(400, "BadRequest", f"Unsupported request {method} {path}")

    def _batch(
        self, body: dict, mailbox: str, headers: dict[str, str], scopes: frozenset[str]
    ) -> dict[str, Any]:
        """Run each request of a ``$batch`` on its own: each is throttled on its own too.

        Graph runs a batch's independent requests at once, and they count against the
        mailbox's 4 concurrent requests with whatever else is in flight for it: past that,
        429 ``MailboxConcurrency``. A request waits for those it ``dependsOn`` (a failed
        dependency gives 424), so chained requests run one after another.
        """
        requests_ = body.get("requests") or []
        if len(requests_) > BATCH_LIMIT:
            raise GraphError(400, "BadRequest", f"At most {BATCH_LIMIT} requests in a batch.")
        with self._lock:
            others = self._in_flight[mailbox] - 1  # this $batch itself is no mailbox request
        depth: dict[str, int] = {}
        statuses: dict[str, int] = {}
        running: Counter[int] = Counter()  # requests served at once, per depth of the chains
        responses = []
        for sub in requests_:
            if not sub.get("url", "").startswith("/"):
                raise GraphError(400, "BadRequest", "Batch request urls are relative: /me/...")
            needs = [d for d in sub.get("dependsOn") or [] if d in depth]
            depth[sub["id"]] = level = 1 + max((depth[d] for d in needs), default=-1)
            url = urlsplit(sub["url"])
            if any(statuses[d] >= 400 for d in needs):
                status, result, extra = _error(
                    GraphError(424, "FailedDependency", "A dependency failed.")
                )
            elif others + running[level] >= MAILBOX_CONCURRENCY:
                status, result, extra = _error(_mailbox_concurrency())
            else:
                running[level] += 1
                with self._lock:
                    self.max_in_flight[mailbox] = max(
                        self.max_in_flight[mailbox], others + running[level]
                    )
                raw = json.dumps(sub["body"]).encode() if "body" in sub else b""
                sub_headers = {
                    **headers,
                    **{k.lower(): v for k, v in sub.get("headers", {}).items()},
                }
                status, result, extra = self._dispatch(
                    sub["method"],
                    url.path,
                    dict(parse_qsl(url.query)),
                    raw,
                    sub_headers,
                    mailbox,
                    scopes,
                )
            statuses[sub["id"]] = status
            self._record(sub["method"], url.path, mailbox, status, in_batch=True)
            response = {"id": sub["id"], "status": status, "headers": extra}
            if result is not None:
                response["body"] = result
            responses.append(response)
        return {"responses": responses}


def _mailbox_concurrency() -> GraphError:
    """Graph's answer to a fifth concurrent request for one mailbox."""
    return GraphError(
        429, "ApplicationThrottled", "MailboxConcurrency limit hit", {"Retry-After": "1"}
    )


def _error(error: GraphError) -> tuple[int, Any, dict[str, str]]:
    return error.status, error.body(), error.headers
