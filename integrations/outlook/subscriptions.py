"""Graph change notifications: subscription bodies, the validation handshake, verification.

learn.microsoft.com/graph/change-notifications-delivery-webhooks: Graph first POSTs
``notificationUrl?validationToken=X`` and wants ``200 text/plain X`` within 10 s; each later
notification must be answered 2xx within 3 s (so only enqueue work) and carries the
``clientState`` we chose, the only proof it came from our subscription. Lifecycle
notifications (``reauthorizationRequired``, ``missed``, ``subscriptionRemoved``) arrive on
``lifecycleNotificationUrl``; here that is the same URL, told apart by ``lifecycleEvent``.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from integrations.base import Channel
from integrations.outlook.events import parse_instant, utc_iso

RESOURCE = "me/events"
# Event subscriptions lived at most 4,230 minutes in the older docs (newer ones allow
# more): ask for a little less, so clock skew never makes Graph refuse the request.
LIFETIME = timedelta(minutes=4230) - timedelta(minutes=30)
RENEW_WHEN_LEFT = timedelta(hours=24)  # renew a day ahead: a failed renewal can be retried


class InvalidNotification(ValueError):
    """A POST to the webhook that did not come from our subscription."""


class NotificationAction(enum.StrEnum):
    SYNC = "sync"  # something changed: run an incremental sync
    FULL_RESYNC = "full_resync"  # ``missed``: notifications were lost, sync from scratch
    RENEW = "renew"  # ``reauthorizationRequired``: renew the subscription now
    RECREATE = "recreate"  # ``subscriptionRemoved``: open a new channel, then resync


_LIFECYCLE = {
    "missed": NotificationAction.FULL_RESYNC,
    "reauthorizationRequired": NotificationAction.RENEW,
    "subscriptionRemoved": NotificationAction.RECREATE,
}


@dataclass(frozen=True)
class Notification:
    """One verified notification and what Cadence should do about it."""

    action: NotificationAction
    subscription_id: str
    event_id: str | None = None
    change_type: str | None = None


def new_client_state() -> str:
    """A random secret Graph echoes in every notification (at most 128 characters)."""
    return secrets.token_urlsafe(32)


def subscription_payload(
    callback_url: str, client_state: str, expires_at: datetime
) -> dict[str, Any]:
    return {
        "changeType": "created,updated,deleted",
        "notificationUrl": callback_url,
        "lifecycleNotificationUrl": callback_url,
        "resource": RESOURCE,
        "expirationDateTime": utc_iso(expires_at),
        "clientState": client_state,
    }


def expiration_payload(expires_at: datetime) -> dict[str, Any]:
    return {"expirationDateTime": utc_iso(expires_at)}


def channel_from(subscription: Mapping[str, Any], client_state: str) -> Channel:
    return Channel(
        channel_id=subscription["id"],
        resource_id=subscription["resource"],
        secret=client_state,
        expires_at=parse_instant(subscription["expirationDateTime"]),
    )


def needs_renewal(channel: Channel, now: datetime) -> bool:
    """Whether ``channel`` should be renewed now (less than a day left)."""
    return channel.expires_at - now < RENEW_WHEN_LEFT


def validation_response(validation_token: str) -> tuple[str, int, dict[str, str]]:
    """The answer to Graph's handshake: (body, status, headers) for the web framework.

    The token is echoed as plain text, never HTML, so it cannot inject script.
    """
    return validation_token, 200, {"Content-Type": "text/plain; charset=utf-8"}


def verify_notification(payload: Mapping[str, Any], channel: Channel) -> list[Notification]:
    """The notifications in a webhook POST for ``channel``; ``InvalidNotification`` if any
    item names another subscription or carries the wrong ``clientState``."""
    items = payload.get("value")
    if not isinstance(items, list) or not items:
        raise InvalidNotification("no notifications in the payload")
    found = []
    for item in items:
        state = str(item.get("clientState") or "")
        if not hmac.compare_digest(state.encode(), channel.secret.encode()):
            raise InvalidNotification("clientState does not match the channel's secret")
        if item.get("subscriptionId") != channel.channel_id:
            raise InvalidNotification("notification for another subscription")
        lifecycle = item.get("lifecycleEvent")
        if lifecycle:
            action = _LIFECYCLE.get(lifecycle, NotificationAction.FULL_RESYNC)
            found.append(Notification(action, channel.channel_id))
        else:
            resource = item.get("resourceData") or {}
            found.append(
                Notification(
                    NotificationAction.SYNC,
                    channel.channel_id,
                    resource.get("id"),
                    item.get("changeType"),
                )
            )
    return found
