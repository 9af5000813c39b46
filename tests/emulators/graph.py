"""A strict local Microsoft Graph v1.0 + identity platform, served over TLS, for tests and benches.

    with GraphEmulator() as graph:
        graph.add_mailbox("manager@contoso.test", "Maria Manager")
        settings = graph.settings(client_id, secret)      # authority, graph_url, ca_bundle
        ...
        graph.count("POST", "/me/events")

It speaks the wire format the real ``msal`` and ``requests`` clients see: OpenID discovery,
authorize/token, ``/me/events`` (transactionId de-duplication, attachments, instances,
cancel), ``getSchedule``, ``calendarView/delta`` (paged; an expired token is 410
``SyncStateNotFound`` as Graph answers it), ``/subscriptions`` (the real validationToken
handshake, notifications and lifecycle notifications POSTed to the app) and ``$batch``.
Bodies with properties the Graph type lacks are refused (``graph_schema``). Test controls
inject faults (429/503 with Retry-After, slow answers), revoke grants, expire delta tokens,
and play the other people (decline, cancel, move, delete), while counters record every call
and the most requests ever in flight per mailbox.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import secrets
import ssl
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import trustme
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.emulators.graph_calendar import (
    Exception_,
    Instance,
    Mailbox,
    StoredEvent,
    format_in,
    instance_at,
    instance_json,
    instances,
    iso_z,
    new_id,
    parse_local,
    zone,
)
from tests.emulators.graph_identity import Identity
from tests.emulators.graph_schema import UnknownProperty, validate

MAILBOX_CONCURRENCY = 4  # Graph's documented limit per app per mailbox (throttling-limits)
MAX_SUBSCRIPTION_MINUTES = 4230  # event subscriptions (older docs; the stricter answer)
DELTA_PAGE_SIZE = 10
BATCH_LIMIT = 20
_EXTENDED_FILTER = re.compile(
    r"singleValueExtendedProperties/Any\(ep: ep/id eq '([^']+)' and ep/value eq '([^']+)'\)"
)
_EXPAND_PROPERTY = re.compile(r"singleValueExtendedProperties\(\$filter=id eq '([^']+)'\)")


class GraphError(Exception):
    """An error Graph reports in its JSON shape."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {"date": iso_z(datetime.now(UTC)), "request-id": new_id("r")},
            }
        }


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


@dataclass
class Invite:
    """A meeting request (or update) as the attendee receives it."""

    kind: str  # "invite" | "update" | "cancel"
    organiser: str
    attendee: str
    event_id: str
    attachments: tuple[str, ...]


@dataclass
class _DeltaState:
    mailbox: str
    window: tuple[datetime, datetime]
    snapshot: dict[str, str]
    pending: list[dict[str, Any]] = field(default_factory=list)


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (tests make thousands)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class GraphEmulator:
    """Graph + identity on ``https://127.0.0.1:{port}``; start/stop or use as a context manager."""

    def __init__(self, tenant: str = "contoso-tenant", *, transaction_conflict: bool = False):
        self.identity = Identity(tenant=tenant)
        self.mailboxes: dict[str, Mailbox] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.invites: list[Invite] = []
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.latency = 0.0
        self.max_in_flight: Counter[str] = Counter()
        # Graph's answer to a repeated transactionId is not documented: by default return the
        # event created first; with ``transaction_conflict`` answer 409 instead.
        self.transaction_conflict = transaction_conflict
        self._in_flight: Counter[str] = Counter()
        self._transactions: dict[tuple[str, str], str] = {}
        self._delta: dict[str, _DeltaState] = {}
        self._lock = threading.RLock()
        self._outbox: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._ca = trustme.CA()
        self._tmp = tempfile.TemporaryDirectory()
        self.ca_bundle = str(Path(self._tmp.name) / "graph-ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_bundle)
        self._server: Any = None
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_port}"

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/v1.0"

    @property
    def authority(self) -> str:
        return self.identity.authority

    def start(self) -> GraphEmulator:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._server = make_server(
            "127.0.0.1",
            0,
            self._wsgi,
            threaded=True,
            ssl_context=context,
            request_handler=QuietHandler,
        )
        self.identity.base_url = self.base_url
        self._threads = [
            threading.Thread(target=self._server.serve_forever, daemon=True),
            threading.Thread(target=self._deliver_notifications, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._outbox.put(None)
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._tmp.cleanup()

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
        self,
        email: str,
        subject: str,
        start: datetime,
        end: datetime,
        show_as: str = "busy",
    ) -> str:
        """Put a plain event (busy time, out of office...) on someone's calendar."""
        data = {
            "id": new_id(),
            "subject": subject,
            "showAs": show_as,
            "start": format_in(start, "UTC"),
            "end": format_in(end, "UTC"),
            "organizer": self._recipient(email),
            "attendees": [],
            "isOrganizer": True,
        }
        with self._lock:
            stored = StoredEvent(email.lower(), data)
            stored.touch()
            self.mailboxes[email.lower()].events[stored.id] = stored
        return data["id"]

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
        """Make the next ``times`` Graph requests matching ``method``/``path`` fail or lag."""
        self.faults.append(Fault(status, times, retry_after, path, method, delay))

    def revoke(self, email: str) -> None:
        self.identity.revoke(email.lower())

    def expire_access_tokens(self) -> None:
        """Every access token is refused from now on (refresh tokens still work)."""
        self.identity.access_tokens.clear()

    def expire_delta_tokens(self) -> None:
        with self._lock:
            self._delta.clear()

    def series_of(self, email: str) -> list[StoredEvent]:
        """The series masters (and single events) a mailbox organises."""
        return [e for e in self.mailboxes[email.lower()].events.values() if e.source is None]

    def decline_occurrence(self, attendee: str, master_id: str, original_start: datetime) -> None:
        """``attendee`` declines one occurrence of the organiser's series."""
        with self._lock:
            master = self._find_stored(master_id)
            change = master.exceptions.setdefault(original_start.astimezone(UTC), Exception_())
            change.responses[attendee.lower()] = "declined"
            self._changed(master, "updated")

    def cancel_occurrence(self, master_id: str, original_start: datetime) -> None:
        """The organiser cancels one occurrence in Outlook."""
        with self._lock:
            master = self._find_stored(master_id)
            change = master.exceptions.setdefault(original_start.astimezone(UTC), Exception_())
            change.cancelled = True
            self._changed(master, "updated")

    def move_occurrence(
        self, master_id: str, original_start: datetime, new_start: datetime
    ) -> None:
        """The organiser drags one occurrence to another time."""
        with self._lock:
            master = self._find_stored(master_id)
            duration = parse_local(master.data["end"]) - parse_local(master.data["start"])
            change = master.exceptions.setdefault(original_start.astimezone(UTC), Exception_())
            change.start, change.end = new_start.astimezone(UTC), new_start + duration
            self._changed(master, "updated")

    def delete_series(self, master_id: str) -> None:
        """The organiser deletes the whole series in Outlook."""
        with self._lock:
            self._delete(self._find_stored(master_id))

    def send_lifecycle(self, subscription_id: str, event: str) -> int:
        """POST a lifecycle notification now; returns the app's HTTP status."""
        sub = self.subscriptions[subscription_id]
        item = {
            "subscriptionId": subscription_id,
            "subscriptionExpirationDateTime": sub["expirationDateTime"],
            "tenantId": self.identity.tenant,
            "clientState": sub.get("clientState"),
            "lifecycleEvent": event,
        }
        if event == "subscriptionRemoved":
            del self.subscriptions[subscription_id]
        url = sub.get("lifecycleNotificationUrl") or sub["notificationUrl"]
        return requests.post(url, json={"value": [item]}, timeout=10).status_code

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

    # ------------------------------------------------------------------ HTTP plumbing

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        identity = self.identity.handle(request, request.path)
        if identity is not None:
            return identity(environ, start_response)
        return self._graph(request)(environ, start_response)

    def _graph(self, request: Request) -> Response:
        mailbox = self.identity.user_for(
            request.headers.get("Authorization", "").removeprefix("Bearer ")
        )
        path = request.path.removeprefix("/v1.0")
        if mailbox is None:
            error = GraphError(401, "InvalidAuthenticationToken", "Access token is invalid.")
            self._record(request.method, path, None, 401)
            return self._respond(error.body(), 401)
        with self._lock:
            self._in_flight[mailbox] += 1
            crowded = self._in_flight[mailbox] > MAILBOX_CONCURRENCY
            self.max_in_flight[mailbox] = max(self.max_in_flight[mailbox], self._in_flight[mailbox])
        try:
            time.sleep(self.latency)
            if crowded:
                error = GraphError(
                    429,
                    "ApplicationThrottled",
                    "MailboxConcurrency limit hit",
                    {"Retry-After": "1"},
                )
                status, body, headers = error.status, error.body(), error.headers
            else:
                status, body, headers = self._dispatch(
                    request.method,
                    request.full_path.removeprefix("/v1.0").rstrip("?"),
                    request.get_data(),
                    dict(request.headers),
                    mailbox,
                )
        finally:
            with self._lock:
                self._in_flight[mailbox] -= 1
        self._record(request.method, path, mailbox, status)
        return self._respond(body, status, headers)

    def _record(self, method: str, path: str, mailbox: str | None, status: int, **kw: Any) -> None:
        with self._lock:
            self.calls.append(Call(method, path, mailbox, status, **kw))

    @staticmethod
    def _respond(body: Any, status: int, headers: dict | None = None) -> Response:
        if body is None:
            return Response(status=status, headers=headers)
        return Response(
            json.dumps(body), status=status, headers=headers, content_type="application/json"
        )

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _dispatch(
        self, method: str, target: str, raw: bytes, headers: dict[str, str], mailbox: str
    ) -> tuple[int, Any, dict[str, str]]:
        """Route one Graph request (top level or inside ``$batch``) to its handler."""
        split = urlsplit(target)
        path, args = split.path, dict(parse_qsl(split.query))
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
                return 200, self._batch(body, mailbox, headers), {}
            zone_name = _preferred_zone(headers)
            with self._lock:
                status, result = self._route(method, path, args, body, headers, mailbox, zone_name)
            return status, result, {}
        except GraphError as error:
            return error.status, error.body(), error.headers
        except UnknownProperty as error:
            return 400, GraphError(400, "RequestBodyRead", str(error)).body(), {}

    def _route(
        self,
        method: str,
        path: str,
        args: dict[str, str],
        body: Any,
        headers: dict[str, str],
        mailbox: str,
        zone_name: str,
    ) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        route = (method, *parts[:1], *(["{id}"] if len(parts) > 2 else []), *parts[3:])
        me = parts[:1] == ["me"]
        if method == "GET" and parts == ["me"]:
            return 200, self._me(mailbox)
        if method == "POST" and parts == ["me", "calendar", "getSchedule"]:
            return 200, self._get_schedule(body, zone_name)
        if method == "GET" and parts == ["me", "calendarView", "delta"]:
            return 200, self._calendar_view_delta(args, mailbox, zone_name)
        if parts == ["subscriptions"] and method == "POST":
            return 201, self._create_subscription(body, mailbox)
        if parts[:1] == ["subscriptions"] and len(parts) == 2:
            return self._subscription(method, parts[1], body)
        if me and parts[1:2] == ["events"]:
            if len(parts) == 2:
                if method == "POST":
                    return self._create_event(body, mailbox, zone_name)
                if method == "GET":
                    return 200, self._list_events(args, mailbox, zone_name)
            else:
                return self._event_route(
                    method, parts[2], parts[3:], args, body, mailbox, zone_name
                )
        raise GraphError(400, "BadRequest", f"Unsupported request {route} {path}")

    # ------------------------------------------------------------------ users & schedules

    def _me(self, mailbox: str) -> dict[str, Any]:
        box = self.mailboxes[mailbox]
        return {"id": box.email, "displayName": box.name, "mail": box.email}

    def _recipient(self, email: str) -> dict[str, Any]:
        box = self.mailboxes.get(email.lower())
        return {"emailAddress": {"address": email, "name": box.name if box else email}}

    def _get_schedule(self, body: dict[str, Any], zone_name: str) -> dict[str, Any]:
        validate(body, "getScheduleRequest")
        schedules = body.get("schedules") or []
        if len(schedules) > 100:
            raise GraphError(400, "ErrorInvalidParameter", "At most 100 schedules per request.")
        start, end = parse_local(body["startTime"]), parse_local(body["endTime"])
        if end - start > timedelta(days=62):
            raise GraphError(400, "ErrorInvalidTimeInterval", "The time window exceeds 62 days.")
        interval = int(body.get("availabilityViewInterval", 30))
        if not 5 <= interval <= 1440:
            raise GraphError(400, "ErrorInvalidParameter", "availabilityViewInterval: 5-1440.")
        return {"value": [self._schedule(s, start, end, interval, zone_name) for s in schedules]}

    def _schedule(
        self, email: str, start: datetime, end: datetime, interval: int, zone_name: str
    ) -> dict[str, Any]:
        box = self.mailboxes.get(email.lower())
        if box is None:
            return {
                "scheduleId": email,
                "availabilityView": "",
                "error": {
                    "message": "The specified object was not found in the store.",
                    "responseCode": "ErrorMailRecipientNotFound",
                },
            }
        items = [
            (i, i.event.data.get("showAs", "busy"))
            for i in self._view(box, start, end)
            if not i.cancelled
        ]
        codes = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}
        view, cursor = [], start
        while cursor < end:
            slot_end = cursor + timedelta(minutes=interval)
            here = [codes[s] for i, s in items if i.start < slot_end and i.end > cursor]
            view.append(max(here, default="0"))
            cursor = slot_end
        return {
            "scheduleId": email,
            "availabilityView": "".join(view),
            "scheduleItems": [
                {
                    "isPrivate": False,
                    "status": status,
                    "subject": i.event.data.get("subject", ""),
                    "location": "",
                    "start": format_in(i.start, zone_name),
                    "end": format_in(i.end, zone_name),
                }
                for i, status in items
            ],
            "workingHours": {
                "daysOfWeek": list(box.working_days),
                "startTime": box.working_start.strftime("%H:%M:%S.0000000"),
                "endTime": box.working_end.strftime("%H:%M:%S.0000000"),
                "timeZone": {"name": box.zone_name},
            },
        }

    # ------------------------------------------------------------------ events

    def _find_stored(self, event_id: str) -> StoredEvent:
        for box in self.mailboxes.values():
            if event_id in box.events:
                return box.events[event_id]
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found.")

    def _resolve(self, event_id: str, mailbox: str) -> tuple[StoredEvent, datetime | None]:
        """The stored event an id names in ``mailbox``, and the occurrence if it names one."""
        box = self.mailboxes[mailbox]
        master_id, _, stamp = event_id.partition("_")
        if event_id in box.events:
            return box.events[event_id], None
        if stamp and master_id in box.events:
            original = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            instance = instance_at(box.events[master_id], original)
            if instance is not None and not instance.cancelled:
                return box.events[master_id], original
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found.")

    def _event_json(self, stored: StoredEvent, zone_name: str, args: dict[str, str]) -> dict:
        body = dict(stored.data)
        body["start"] = format_in(parse_local(stored.data["start"]), zone_name)
        body["end"] = format_in(parse_local(stored.data["end"]), zone_name)
        body["type"] = "seriesMaster" if stored.data.get("recurrence") else "singleInstance"
        body["hasAttachments"] = bool(stored.attachments)
        body.pop("singleValueExtendedProperties", None)
        expand = _EXPAND_PROPERTY.search(args.get("$expand", ""))
        if expand:
            props = stored.data.get("singleValueExtendedProperties", [])
            matching = [p for p in props if p["id"].lower() == expand.group(1).lower()]
            body["singleValueExtendedProperties"] = matching
        return body

    def _create_event(self, body: dict, mailbox: str, zone_name: str) -> tuple[int, Any]:
        validate(body, "event")
        for required in ("start", "end"):
            if required not in body:
                raise GraphError(400, "ErrorInvalidRequest", f"'{required}' is required.")
        if body.get("attachments"):
            raise AssertionError("Graph ignores attachments in a create body; POST them after")
        recurrence = body.get("recurrence")
        if recurrence:
            start_day = parse_local(body["start"]).date().isoformat()
            if recurrence["range"]["startDate"] != start_day:
                raise GraphError(
                    400, "ErrorPropertyValidationFailure", "range.startDate must match start."
                )
        key = (mailbox, body.get("transactionId") or "")
        if key[1] and key in self._transactions and key[1]:
            existing = self.mailboxes[mailbox].events.get(self._transactions[key])
            if existing is not None:
                if self.transaction_conflict:
                    raise GraphError(409, "ErrorDuplicateTransactionId", "Duplicate transaction")
                return 201, self._event_json(existing, zone_name, {})
        data = {
            **body,
            "id": new_id(),
            "iCalUId": new_id("040000008200E0"),
            "organizer": self._recipient(mailbox),
            "isOrganizer": True,
            "attendees": body.get("attendees", []),
            "isCancelled": False,
        }
        stored = StoredEvent(mailbox, data)
        stored.touch()
        self.mailboxes[mailbox].events[stored.id] = stored
        if key[1]:
            self._transactions[key] = stored.id
        self._send_invites(stored, [])
        self._changed(stored, "created")
        return 201, self._event_json(stored, zone_name, {})

    def _list_events(self, args: dict[str, str], mailbox: str, zone_name: str) -> dict:
        wanted = _EXTENDED_FILTER.search(args.get("$filter", ""))
        if "$filter" in args and not wanted:
            raise GraphError(400, "BadRequest", "Unsupported $filter in the emulator")
        found = []
        for stored in self.mailboxes[mailbox].events.values():
            props = {
                p["id"].lower(): p["value"]
                for p in stored.data.get("singleValueExtendedProperties", [])
            }
            if wanted and props.get(wanted.group(1).lower()) != wanted.group(2):
                continue
            found.append(self._event_json(stored, zone_name, args))
        return {"value": found}

    def _event_route(
        self,
        method: str,
        event_id: str,
        rest: list[str],
        args: dict[str, str],
        body: Any,
        mailbox: str,
        zone_name: str,
    ) -> tuple[int, Any]:
        stored, original = self._resolve(event_id, mailbox)
        if not rest:
            if method == "GET":
                if original is None:
                    return 200, self._event_json(stored, zone_name, args)
                instance = instance_at(stored, original)
                assert instance is not None  # _resolve checked it
                return 200, instance_json(instance, zone_name)
            if method == "PATCH":
                validate(body, "event")
                self._patch(stored, original, body)
                return 200, self._event_json(stored, zone_name, {})
            if method == "DELETE":
                self._cancel(stored, original)
                return 204, None
        if rest == ["cancel"] and method == "POST":
            validate(body, "cancelRequest")
            self._cancel(stored, original)
            return 202, None
        if rest == ["instances"] and method == "GET":
            window = (_param_time(args, "startDateTime"), _param_time(args, "endDateTime"))
            found = [i for i in instances(stored, *window) if not i.cancelled]
            return 200, {"value": [instance_json(i, zone_name) for i in found]}
        if rest[:1] == ["attachments"]:
            return self._attachments(method, stored, original, rest[1:], body)
        raise GraphError(400, "BadRequest", f"Unsupported event request {method} {rest}")

    def _patch(self, stored: StoredEvent, original: datetime | None, body: dict) -> None:
        if stored.source is not None:
            raise GraphError(403, "ErrorAccessDenied", "Only the organiser can change the event.")
        if original is not None:
            change = stored.exceptions.setdefault(original, Exception_())
            if "start" in body:
                change.start = parse_local(body["start"]).astimezone(UTC)
            if "end" in body:
                change.end = parse_local(body["end"]).astimezone(UTC)
            if "body" in body:
                change.body = body["body"]
            self._changed(stored, "updated")
            return
        before = [a["emailAddress"]["address"].lower() for a in stored.data.get("attendees", [])]
        stored.data.update(body)
        stored.touch()
        self._send_invites(stored, before)
        self._changed(stored, "updated")

    def _send_invites(self, stored: StoredEvent, before: list[str]) -> None:
        """Invite new attendees (their copy carries today's attachments); update the others."""
        names = tuple(a["name"] for a in stored.attachments)
        for attendee in stored.data.get("attendees", []):
            email = attendee["emailAddress"]["address"].lower()
            kind = "update" if email in before else "invite"
            self.invites.append(Invite(kind, stored.mailbox, email, stored.id, names))
            box = self.mailboxes.get(email)
            if box is not None and kind == "invite":
                copy = StoredEvent(email, {**stored.data, "id": new_id(), "isOrganizer": False})
                copy.source, copy.attachments = stored, list(stored.attachments)
                copy.touch()
                box.events[copy.id] = copy
                self._changed(copy, "created")

    def _cancel(self, stored: StoredEvent, original: datetime | None) -> None:
        if original is not None:
            stored.master.exceptions.setdefault(original, Exception_()).cancelled = True
            self._changed(stored, "updated")
            for attendee in stored.data.get("attendees", []):
                email = attendee["emailAddress"]["address"].lower()
                self.invites.append(Invite("cancel", stored.mailbox, email, stored.id, ()))
            return
        self._delete(stored)

    def _delete(self, stored: StoredEvent) -> None:
        del self.mailboxes[stored.mailbox].events[stored.id]
        self._changed(stored, "deleted")
        for box in self.mailboxes.values():
            for copy in [c for c in box.events.values() if c.source is stored]:
                copy.data["isCancelled"] = True
                self.invites.append(Invite("cancel", stored.mailbox, box.email, stored.id, ()))
                self._changed(copy, "updated")

    def _attachments(
        self,
        method: str,
        stored: StoredEvent,
        original: datetime | None,
        rest: list[str],
        body: Any,
    ) -> tuple[int, Any]:
        if original is not None:
            change = stored.exceptions.setdefault(original, Exception_())
            if change.attachments is None:
                change.attachments = [dict(a) for a in stored.attachments]
            held = change.attachments
        else:
            held = stored.attachments
        if method == "GET" and not rest:
            return 200, {
                "value": [{k: v for k, v in a.items() if k != "contentBytes"} for a in held]
            }
        if method == "POST" and not rest:
            validate(body, "fileAttachment")
            if body.get("@odata.type") != "#microsoft.graph.fileAttachment":
                raise GraphError(400, "ErrorInvalidRequest", "@odata.type is required.")
            if len(body.get("contentBytes", "")) * 3 // 4 >= 3 * 1024 * 1024:
                raise GraphError(413, "ErrorRequestEntityTooLarge", "Use an upload session.")
            attachment = {**body, "id": new_id("AAMkAtt"), "size": len(body["contentBytes"])}
            held.append(attachment)
            stored.touch()
            self._changed(stored, "updated")
            return 201, attachment
        if method == "DELETE" and len(rest) == 1:
            for attachment in list(held):
                if attachment["id"] == rest[0]:
                    held.remove(attachment)
                    self._changed(stored, "updated")
                    return 204, None
            raise GraphError(404, "ErrorItemNotFound", "The attachment was not found.")
        raise GraphError(400, "BadRequest", f"Unsupported attachment request {method}")

    # ------------------------------------------------------------------ calendar view & delta

    def _view(self, box: Mailbox, start: datetime, end: datetime) -> list[Instance]:
        """What ``box``'s calendar shows: the organiser loses cancelled occurrences; the
        attendee keeps them, marked cancelled, until they remove them."""
        shown = []
        for stored in list(box.events.values()):
            for instance in instances(stored, start, end):
                if instance.cancelled and stored.source is None:
                    continue
                if stored.source is not None and stored.data.get("isCancelled"):
                    instance.cancelled = True
                shown.append(instance)
        return shown

    def _calendar_view_delta(self, args: dict[str, str], mailbox: str, zone_name: str) -> dict:
        allowed = {"startDateTime", "endDateTime", "$deltatoken", "$skiptoken"}
        if set(args) - allowed:
            raise GraphError(400, "ErrorInvalidUrlQuery", f"Unsupported: {set(args) - allowed}")
        if "$skiptoken" in args:
            state = self._delta.get(args["$skiptoken"])
            return self._delta_page(args["$skiptoken"], state, mailbox)
        if "$deltatoken" in args:
            state = self._delta.pop(args["$deltatoken"], None)
            if state is None or state.mailbox != mailbox:
                raise GraphError(
                    410,
                    "SyncStateNotFound",
                    "The sync state generation is not found. The delta token is expired and "
                    "data must be synchronized again.",
                )
            window, previous = state.window, state.snapshot
        else:
            window = (_param_time(args, "startDateTime"), _param_time(args, "endDateTime"))
            previous = {}
        current = {
            i.id: instance_json(i, zone_name) for i in self._view(self.mailboxes[mailbox], *window)
        }
        fingerprints = {k: json.dumps(v, sort_keys=True) for k, v in current.items()}
        items = [current[k] for k, f in fingerprints.items() if previous.get(k) != f]
        items += [
            {"@odata.type": "#microsoft.graph.event", "id": k, "@removed": {"reason": "deleted"}}
            for k in previous
            if k not in current
        ]
        token = secrets.token_urlsafe(16)
        self._delta[token] = _DeltaState(mailbox, window, fingerprints, items)
        return self._delta_page(token, self._delta[token], mailbox)

    def _delta_page(self, token: str, state: _DeltaState | None, mailbox: str) -> dict:
        if state is None or state.mailbox != mailbox:
            raise GraphError(410, "SyncStateNotFound", "The sync state generation is not found.")
        page, state.pending = state.pending[:DELTA_PAGE_SIZE], state.pending[DELTA_PAGE_SIZE:]
        link = f"{self.graph_url}/me/calendarView/delta"
        body: dict[str, Any] = {"value": page}
        if state.pending:
            body["@odata.nextLink"] = f"{link}?$skiptoken={token}"
        else:
            body["@odata.deltaLink"] = f"{link}?$deltatoken={token}"
        return body

    # ------------------------------------------------------------------ subscriptions

    def _create_subscription(self, body: dict, mailbox: str) -> dict[str, Any]:
        validate(body, "subscription")
        for required in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
            if not body.get(required):
                raise GraphError(400, "InvalidRequest", f"'{required}' is required.")
        self._check_expiration(body["expirationDateTime"])
        for url in (body["notificationUrl"], body.get("lifecycleNotificationUrl")):
            if url:
                self._validate_endpoint(url)
        sub = {**body, "id": new_id("sub"), "applicationId": "app", "_mailbox": mailbox}
        self.subscriptions[sub["id"]] = sub
        return {k: v for k, v in sub.items() if not k.startswith("_")}

    def _subscription(self, method: str, sub_id: str, body: Any) -> tuple[int, Any]:
        sub = self.subscriptions.get(sub_id)
        if sub is None:
            raise GraphError(404, "ResourceNotFound", "The object was not found.")
        if method == "PATCH":
            validate(body, "subscription")
            if set(body) - {"expirationDateTime"}:
                raise GraphError(400, "InvalidRequest", "Only expirationDateTime can change.")
            self._check_expiration(body["expirationDateTime"])
            sub["expirationDateTime"] = body["expirationDateTime"]
            return 200, {k: v for k, v in sub.items() if not k.startswith("_")}
        if method == "DELETE":
            del self.subscriptions[sub_id]
            return 204, None
        raise GraphError(405, "MethodNotAllowed", method)

    @staticmethod
    def _check_expiration(value: str) -> None:
        expires = datetime.fromisoformat(value.replace("Z", "+00:00"))
        now = datetime.now(UTC)
        if not now < expires <= now + timedelta(minutes=MAX_SUBSCRIPTION_MINUTES):
            raise GraphError(
                400,
                "InvalidRequest",
                f"Subscription expiration can only be {MAX_SUBSCRIPTION_MINUTES} minutes in "
                "the future.",
            )

    @staticmethod
    def _validate_endpoint(url: str) -> None:
        """Graph's handshake: POST ?validationToken=X; expect 200 text/plain X within 10 s."""
        token = f"Validation: Testing client application reachability {secrets.token_hex(4)}"
        try:
            answer = requests.post(url, params={"validationToken": token}, timeout=10)
        except requests.RequestException as error:
            message = f"Subscription validation request failed: {error}"
            raise GraphError(400, "InvalidRequest", message) from error
        ok = (
            answer.status_code == 200
            and answer.headers.get("Content-Type", "").startswith("text/plain")
            and answer.text == token
        )
        if not ok:
            raise GraphError(
                400,
                "InvalidRequest",
                "Subscription validation request failed. Response must exactly match "
                "validationToken query parameter.",
            )

    def _changed(self, stored: StoredEvent, change_type: str) -> None:
        """Queue a notification for every subscription on ``stored``'s mailbox."""
        for sub in self.subscriptions.values():
            if sub["_mailbox"] != stored.mailbox or change_type not in sub["changeType"]:
                continue
            item = {
                "subscriptionId": sub["id"],
                "subscriptionExpirationDateTime": sub["expirationDateTime"],
                "changeType": change_type,
                "resource": f"Users/{stored.mailbox}/Events/{stored.id}",
                "resourceData": {
                    "@odata.type": "#Microsoft.Graph.Event",
                    "@odata.id": f"Users/{stored.mailbox}/Events/{stored.id}",
                    "id": stored.id,
                },
                "clientState": sub.get("clientState"),
                "tenantId": self.identity.tenant,
            }
            self._outbox.put((sub["notificationUrl"], {"value": [item]}))

    def _deliver_notifications(self) -> None:
        while (job := self._outbox.get()) is not None:
            url, payload = job
            # Graph drops (and later retries) notifications it cannot deliver.
            with contextlib.suppress(requests.RequestException):
                requests.post(url, json=payload, timeout=3)

    # ------------------------------------------------------------------ $batch

    def _batch(self, body: dict, mailbox: str, headers: dict[str, str]) -> dict[str, Any]:
        requests_ = body.get("requests") or []
        if len(requests_) > BATCH_LIMIT:
            raise GraphError(400, "BadRequest", f"At most {BATCH_LIMIT} requests in a batch.")
        responses = []
        for sub in requests_:
            if not sub.get("url", "").startswith("/"):
                raise GraphError(400, "BadRequest", "Batch request urls are relative: /me/...")
            raw = json.dumps(sub["body"]).encode() if "body" in sub else b""
            sub_headers = {**headers, **sub.get("headers", {})}
            status, result, extra = self._dispatch(
                sub["method"], sub["url"], raw, sub_headers, mailbox
            )
            self._record(sub["method"], urlsplit(sub["url"]).path, mailbox, status, in_batch=True)
            response = {"id": sub["id"], "status": status, "headers": extra}
            if result is not None:
                response["body"] = result
            responses.append(response)
        return {"responses": responses}


def _preferred_zone(headers: dict[str, str]) -> str:
    """The zone named by ``Prefer: outlook.timezone="..."``; Graph's default is UTC."""
    found = re.search(r'outlook\.timezone="([^"]+)"', headers.get("Prefer", ""))
    if found:
        zone(found.group(1))  # unknown names fail loudly, as in Graph
        return found.group(1)
    return "UTC"


def _param_time(args: dict[str, str], name: str) -> datetime:
    if name not in args:
        raise GraphError(400, "ErrorInvalidParameter", f"{name} is required.")
    value = datetime.fromisoformat(args[name].replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
