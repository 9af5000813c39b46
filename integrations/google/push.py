"""Push channels (events.watch) and the check every notification must pass.

Google authenticates a notification only by the channel token we chose, so each channel gets
a fresh random secret and every POST is checked against it in constant time. Channels cannot
be renewed, only replaced before they expire, then the old one stopped.
https://developers.google.com/calendar/api/guides/push
"""

from __future__ import annotations

import contextlib
import enum
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from googleapiclient.http import HttpRequest

from integrations.base import Channel, NotFound
from integrations.google.client import CalendarClient

if TYPE_CHECKING:
    from googleapiclient._apis.calendar.v3 import CalendarResource
    from googleapiclient._apis.calendar.v3 import Channel as ChannelRequest


class Verdict(enum.StrEnum):
    REJECTED = "rejected"  # not from our channel (wrong id or token): answer 403, do nothing
    IGNORED = "ignored"  # genuine but nothing to do: the first "sync" ping, a replayed number
    SYNC = "sync"  # the calendar changed: enqueue an incremental sync


@dataclass(frozen=True)
class Notification:
    verdict: Verdict
    message_number: int | None = None


def open_channel(client: CalendarClient, callback_url: str) -> Channel:
    """Watch the connected primary calendar; notifications go to ``callback_url`` (https)."""
    # Every attempt asks for a new channel id and secret: after a lost answer the first
    # channel may exist, and re-sending its id would be refused as not unique. An orphan
    # expires by itself, and its notifications fail ``verify_notification``.
    sent: list[ChannelRequest] = []

    def watch(service: CalendarResource) -> HttpRequest:
        sent.append(_channel_request(callback_url))
        return service.events().watch(calendarId="primary", body=sent[-1])

    answer = client.execute(watch)
    return Channel(
        channel_id=answer["id"],
        resource_id=answer["resourceId"],
        secret=sent[-1]["token"],
        expires_at=datetime.fromtimestamp(int(answer["expiration"]) / 1000, UTC),
    )


def _channel_request(callback_url: str) -> ChannelRequest:
    return {
        "id": str(uuid.uuid4()),
        "type": "web_hook",
        "address": callback_url,
        "token": secrets.token_urlsafe(32),
    }


def close_channel(client: CalendarClient, channel: Channel) -> None:
    """Stop a channel; one already gone counts as stopped."""
    body: ChannelRequest = {"id": channel.channel_id, "resourceId": channel.resource_id}
    with contextlib.suppress(NotFound):
        client.execute(lambda s: s.channels().stop(body=body))


def renew_channel(client: CalendarClient, channel: Channel, callback_url: str) -> Channel:
    """Open the replacement first, then stop the old one, so no change goes unnoticed."""
    replacement = open_channel(client, callback_url)
    close_channel(client, channel)
    return replacement


class HeaderPairs(Protocol):
    """Request headers as name/value pairs (a dict, or werkzeug's ``Headers``)."""

    def items(self) -> Iterable[tuple[str, str]]: ...


def verify_notification(
    headers: HeaderPairs, channel: Channel, last_message_number: int | None = None
) -> Notification:
    """Judge one notification for ``channel`` (header names are matched case-insensitively).

    ``last_message_number`` is the highest number already acted on for this channel; Google
    numbers a channel's messages increasingly, so anything not above it is a replay.
    """
    lower = {name.lower(): value for name, value in headers.items()}
    channel_id = lower.get("x-goog-channel-id", "")
    token = lower.get("x-goog-channel-token", "")
    genuine = hmac.compare_digest(channel_id.encode(), channel.channel_id.encode())
    genuine = hmac.compare_digest(token.encode(), channel.secret.encode()) and genuine
    if not genuine:
        return Notification(Verdict.REJECTED)
    try:
        number = int(lower.get("x-goog-message-number", ""))
    except ValueError:
        return Notification(Verdict.REJECTED)
    if lower.get("x-goog-resource-state") == "sync":
        return Notification(Verdict.IGNORED, number)
    if last_message_number is not None and number <= last_message_number:
        return Notification(Verdict.IGNORED, number)
    return Notification(Verdict.SYNC, number)
