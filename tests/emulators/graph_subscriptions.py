"""``/subscriptions`` and the notifications Graph POSTs to the app.

learn.microsoft.com/graph/change-notifications-delivery-webhooks: creating a subscription
first POSTs ``notificationUrl?validationToken=X`` (and the lifecycle URL the same way) and
wants ``200 text/plain X`` back within 10 s; event subscriptions may live 4,230 minutes
(the older, stricter limit). Notifications carry the subscription's ``clientState`` and are
delivered from a background thread, as Graph delivers them asynchronously.
"""

from __future__ import annotations

import contextlib
import queue
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.emulators.graph_calendar import StoredEvent, new_id
from tests.emulators.graph_schema import validate
from tests.emulators.graph_wire import GraphError

MAX_MINUTES = 4230


class Subscriptions:
    """The tenant's subscriptions and the outbox of notifications to deliver."""

    def __init__(self, tenant: str):
        self.tenant = tenant
        self.by_id: dict[str, dict[str, Any]] = {}
        self._outbox: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._deliver, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._outbox.put(None)
        self._thread.join(timeout=5)

    def create(self, body: dict[str, Any], mailbox: str) -> dict[str, Any]:
        validate(body, "subscription")
        for required in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
            if not body.get(required):
                raise GraphError(400, "InvalidRequest", f"'{required}' is required.")
        _check_expiration(body["expirationDateTime"])
        for url in (body["notificationUrl"], body.get("lifecycleNotificationUrl")):
            if url:
                _validate_endpoint(url)
        sub = {**body, "id": new_id("sub"), "applicationId": "app", "_mailbox": mailbox}
        self.by_id[sub["id"]] = sub
        return _public(sub)

    def handle(self, method: str, sub_id: str, body: Any) -> tuple[int, Any]:
        """PATCH (the expiration only) or DELETE one subscription."""
        sub = self.by_id.get(sub_id)
        if sub is None:
            raise GraphError(404, "ResourceNotFound", "The object was not found.")
        if method == "PATCH":
            validate(body, "subscription")
            if set(body) - {"expirationDateTime"}:
                raise GraphError(400, "InvalidRequest", "Only expirationDateTime can change.")
            _check_expiration(body["expirationDateTime"])
            sub["expirationDateTime"] = body["expirationDateTime"]
            return 200, _public(sub)
        if method == "DELETE":
            del self.by_id[sub_id]
            return 204, None
        raise GraphError(405, "MethodNotAllowed", method)

    def changed(self, stored: StoredEvent, change_type: str) -> None:
        """Queue a notification for every subscription on ``stored``'s mailbox."""
        for sub in self.by_id.values():
            if sub["_mailbox"] != stored.mailbox or change_type not in sub["changeType"]:
                continue
            resource = f"Users/{stored.mailbox}/Events/{stored.id}"
            item = {
                "subscriptionId": sub["id"],
                "subscriptionExpirationDateTime": sub["expirationDateTime"],
                "changeType": change_type,
                "resource": resource,
                "resourceData": {
                    "@odata.type": "#Microsoft.Graph.Event",
                    "@odata.id": resource,
                    "id": stored.id,
                },
                "clientState": sub.get("clientState"),
                "tenantId": self.tenant,
            }
            self._outbox.put((sub["notificationUrl"], {"value": [item]}))

    def send_lifecycle(self, subscription_id: str, event: str) -> int:
        """POST a lifecycle notification now; the app's HTTP status."""
        sub = self.by_id[subscription_id]
        item = {
            "subscriptionId": subscription_id,
            "subscriptionExpirationDateTime": sub["expirationDateTime"],
            "tenantId": self.tenant,
            "clientState": sub.get("clientState"),
            "lifecycleEvent": event,
        }
        if event == "subscriptionRemoved":
            del self.by_id[subscription_id]
        url = sub.get("lifecycleNotificationUrl") or sub["notificationUrl"]
        return requests.post(url, json={"value": [item]}, timeout=10).status_code

    def _deliver(self) -> None:
        while (job := self._outbox.get()) is not None:
            url, payload = job
            # Graph drops (and later retries) notifications it cannot deliver.
            with contextlib.suppress(requests.RequestException):
                requests.post(url, json=payload, timeout=3)


def _public(sub: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sub.items() if not k.startswith("_")}


def _check_expiration(value: str) -> None:
    expires = datetime.fromisoformat(value.replace("Z", "+00:00"))
    now = datetime.now(UTC)
    if not now < expires <= now + timedelta(minutes=MAX_MINUTES):
        raise GraphError(
            400,
            "InvalidRequest",
            f"Subscription expiration can only be {MAX_MINUTES} minutes in the future.",
        )


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
