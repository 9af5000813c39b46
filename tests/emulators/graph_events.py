"""The ``/me/events`` resource: create (transactionId), list, get, patch, delete, cancel,
instances and attachments, with invitations carried to the attendees' calendars.

Attendees only get a copy of the event (and its attachments as they are at that moment)
when they are invited, which is why an invite sent before the agenda is attached arrives
without it (PROVIDERS.md, Attachments).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.emulators.graph_calendar import (
    Exception_,
    Mailbox,
    StoredEvent,
    format_in,
    instance_at,
    instance_json,
    instances,
    new_id,
    parse_local,
)
from tests.emulators.graph_schema import validate
from tests.emulators.graph_wire import GraphError, param_time

_EXTENDED_FILTER = re.compile(
    r"singleValueExtendedProperties/Any\(ep: ep/id eq '([^']+)' and ep/value eq '([^']+)'\)"
)
_EXPAND_PROPERTY = re.compile(r"singleValueExtendedProperties\(\$filter=id eq '([^']+)'\)")
_ATTACHMENT_LIMIT = 3 * 1024 * 1024  # larger files need an upload session


@dataclass
class Invite:
    """A meeting request (or update, or cancellation) as the attendee receives it."""

    kind: str  # "invite" | "update" | "cancel"
    organiser: str
    attendee: str
    event_id: str
    attachments: tuple[str, ...]


class Calendars:
    """Every mailbox's events; ``notify(event, change_type)`` hears of each change."""

    def __init__(
        self, notify: Callable[[StoredEvent, str], None], *, transaction_conflict: bool = False
    ):
        self.mailboxes: dict[str, Mailbox] = {}
        self.invites: list[Invite] = []
        # Graph's answer to a repeated transactionId is not documented: by default the event
        # created first comes back; with ``transaction_conflict`` the answer is 409.
        self.transaction_conflict = transaction_conflict
        self._transactions: dict[tuple[str, str], str] = {}
        self._notify = notify

    def recipient(self, email: str) -> dict[str, Any]:
        box = self.mailboxes.get(email.lower())
        return {"emailAddress": {"address": email, "name": box.name if box else email}}

    def find(self, event_id: str) -> StoredEvent:
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

    def create(self, body: dict, mailbox: str, zone_name: str) -> tuple[int, Any]:
        validate(body, "event")
        for required in ("start", "end"):
            if required not in body:
                raise GraphError(400, "ErrorInvalidRequest", f"'{required}' is required.")
        # Graph ignores attachments in a create body (PROVIDERS.md); so does the emulator.
        body = {k: v for k, v in body.items() if k != "attachments"}
        recurrence = body.get("recurrence")
        if recurrence:
            start_day = parse_local(body["start"]).date().isoformat()
            if recurrence["range"]["startDate"] != start_day:
                raise GraphError(
                    400, "ErrorPropertyValidationFailure", "range.startDate must match start."
                )
        key = (mailbox, body.get("transactionId") or "")
        if key[1] and key in self._transactions:
            existing = self.mailboxes[mailbox].events.get(self._transactions[key])
            if existing is not None:
                if self.transaction_conflict:
                    raise GraphError(409, "ErrorDuplicateTransactionId", "Duplicate transaction")
                return 201, self._event_json(existing, zone_name, {})
        data = {
            **body,
            "id": new_id(),
            "iCalUId": new_id("040000008200E0"),
            "organizer": self.recipient(mailbox),
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
        self._notify(stored, "created")
        return 201, self._event_json(stored, zone_name, {})

    def list_events(self, args: dict[str, str], mailbox: str, zone_name: str) -> dict:
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

    def route(
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
            window = (param_time(args, "startDateTime"), param_time(args, "endDateTime"))
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
            self._notify(stored, "updated")
            return
        before = [a["emailAddress"]["address"].lower() for a in stored.data.get("attendees", [])]
        stored.data.update(body)
        stored.touch()
        self._send_invites(stored, before)
        self._notify(stored, "updated")

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
                self._notify(copy, "created")

    def _cancel(self, stored: StoredEvent, original: datetime | None) -> None:
        if original is not None:
            stored.master.exceptions.setdefault(original, Exception_()).cancelled = True
            self._notify(stored, "updated")
            for attendee in stored.data.get("attendees", []):
                email = attendee["emailAddress"]["address"].lower()
                self.invites.append(Invite("cancel", stored.mailbox, email, stored.id, ()))
            return
        self.delete(stored)

    def delete(self, stored: StoredEvent) -> None:
        del self.mailboxes[stored.mailbox].events[stored.id]
        self._notify(stored, "deleted")
        for box in self.mailboxes.values():
            for copy in [c for c in box.events.values() if c.source is stored]:
                copy.data["isCancelled"] = True
                self.invites.append(Invite("cancel", stored.mailbox, box.email, stored.id, ()))
                self._notify(copy, "updated")

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
            if len(body.get("contentBytes", "")) * 3 // 4 >= _ATTACHMENT_LIMIT:
                raise GraphError(413, "ErrorRequestEntityTooLarge", "Use an upload session.")
            attachment = {**body, "id": new_id("AAMkAtt"), "size": len(body["contentBytes"])}
            held.append(attachment)
            stored.touch()
            self._notify(stored, "updated")
            return 201, attachment
        if method == "DELETE" and len(rest) == 1:
            for attachment in list(held):
                if attachment["id"] == rest[0]:
                    held.remove(attachment)
                    self._notify(stored, "updated")
                    return 204, None
            raise GraphError(404, "ErrorItemNotFound", "The attachment was not found.")
        raise GraphError(400, "BadRequest", f"Unsupported attachment request {method}")
