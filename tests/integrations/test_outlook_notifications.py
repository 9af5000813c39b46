"""Graph change notifications: the real validation handshake, clientState, lifecycle events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.base import ChangeKind, Channel
from integrations.outlook import (
    InvalidNotification,
    NotificationAction,
    OutlookCalendar,
    verify_notification,
)
from integrations.outlook.graph import GraphRequestError
from integrations.outlook.subscriptions import LIFETIME, needs_renewal
from tests.emulators.graph import GraphEmulator
from tests.integrations.outlook_support import Webhook, series_spec

pytest_plugins = ("tests.integrations.outlook_fixtures",)


def test_opening_a_channel_passes_graphs_validation_handshake(
    graph: GraphEmulator, calendar: OutlookCalendar, webhook: Webhook
) -> None:
    channel = calendar.open_channel(webhook.url)

    assert webhook.validations == 2  # notificationUrl and lifecycleNotificationUrl
    sub = graph.subscriptions[channel.channel_id]
    assert sub["clientState"] == channel.secret and len(channel.secret) >= 32
    assert sub["resource"] == "me/events"
    left = channel.expires_at - datetime.now(UTC)
    assert timedelta(minutes=4100) < left <= timedelta(minutes=4230)


def test_a_webhook_that_does_not_echo_the_token_gets_no_subscription(
    graph: GraphEmulator, calendar: OutlookCalendar, webhook: Webhook
) -> None:
    webhook.echo_wrong_token = True
    with pytest.raises(GraphRequestError) as raised:
        calendar.open_channel(webhook.url)
    assert "validation" in str(raised.value)
    assert graph.subscriptions == {}


def test_a_booking_notifies_the_webhook_with_our_client_state(
    calendar: OutlookCalendar, webhook: Webhook
) -> None:
    channel = calendar.open_channel(webhook.url)
    ref = calendar.create_series(series_spec())

    payloads = webhook.wait_for(3)  # created, updated (file), updated (invite)

    notes = [n for p in payloads for n in verify_notification(p, channel)]
    assert {n.action for n in notes} == {NotificationAction.SYNC}
    assert {n.event_id for n in notes} == {ref.provider_event_id}
    assert {n.change_type for n in notes} == {"created", "updated"}


def test_a_wrong_client_state_or_subscription_is_rejected(
    calendar: OutlookCalendar, webhook: Webhook
) -> None:
    channel = calendar.open_channel(webhook.url)
    calendar.create_series(series_spec())
    genuine = webhook.wait_for(1)[0]

    forged = {"value": [{**genuine["value"][0], "clientState": "guessed"}]}
    with pytest.raises(InvalidNotification):
        verify_notification(forged, channel)
    other = {"value": [{**genuine["value"][0], "subscriptionId": "someone-else"}]}
    with pytest.raises(InvalidNotification):
        verify_notification(other, channel)
    with pytest.raises(InvalidNotification):
        verify_notification({"value": []}, channel)


def test_a_missed_lifecycle_event_leads_to_a_full_resync(
    graph: GraphEmulator, calendar: OutlookCalendar, webhook: Webhook
) -> None:
    channel = calendar.open_channel(webhook.url)
    ref = calendar.create_series(series_spec())
    cursor = calendar.changes(None).cursor
    webhook.wait_for(3)
    lost_week = datetime(2026, 12, 14, 17, tzinfo=UTC)
    graph.cancel_occurrence(ref.provider_event_id, lost_week)
    graph.expire_delta_tokens()  # Graph says it dropped notifications and sync state alike

    assert graph.send_lifecycle(channel.channel_id, "missed") == 202
    (note,) = verify_notification(webhook.last_lifecycle(), channel)
    assert note.action is NotificationAction.FULL_RESYNC
    assert calendar.follow_lifecycle(note, channel, webhook.url) == channel

    graph.reset_counts()
    result = calendar.changes(cursor, full=True)

    assert result.full_sync
    assert graph.count("GET", "/me/calendarView/delta") == 2  # a fresh round, no old token
    assert [(c.kind, c.original_start) for c in result.changes] == [
        (ChangeKind.OCCURRENCE_CANCELLED, lost_week)
    ]
    assert calendar.changes(result.cursor).changes == ()


def test_reauthorization_required_renews_the_subscription(
    graph: GraphEmulator, calendar: OutlookCalendar, webhook: Webhook
) -> None:
    channel = calendar.open_channel(webhook.url)
    graph.subscriptions[channel.channel_id]["expirationDateTime"] = "2026-01-01T00:00:00Z"
    graph.send_lifecycle(channel.channel_id, "reauthorizationRequired")
    (note,) = verify_notification(webhook.last_lifecycle(), channel)

    renewed = calendar.follow_lifecycle(note, channel, webhook.url)

    assert note.action is NotificationAction.RENEW
    assert renewed.channel_id == channel.channel_id and renewed.secret == channel.secret
    assert graph.subscriptions[channel.channel_id]["expirationDateTime"] != "2026-01-01T00:00:00Z"
    assert not needs_renewal(renewed, datetime.now(UTC))
    assert needs_renewal(renewed, datetime.now(UTC) + LIFETIME - timedelta(hours=23))


def test_a_removed_subscription_is_recreated(
    graph: GraphEmulator, calendar: OutlookCalendar, webhook: Webhook
) -> None:
    channel = calendar.open_channel(webhook.url)
    graph.send_lifecycle(channel.channel_id, "subscriptionRemoved")
    (note,) = verify_notification(webhook.last_lifecycle(), channel)

    replacement = calendar.follow_lifecycle(note, channel, webhook.url)

    assert note.action is NotificationAction.RECREATE
    assert set(graph.subscriptions) == {replacement.channel_id} != {channel.channel_id}
    # Renewing a subscription Graph already dropped opens a new one too.
    again = calendar.renew_channel(channel, webhook.url)
    assert again.channel_id in graph.subscriptions and again.channel_id != channel.channel_id


def test_close_channel_deletes_the_subscription_and_is_idempotent(
    graph: GraphEmulator, calendar: OutlookCalendar, webhook: Webhook
) -> None:
    channel = calendar.open_channel(webhook.url)
    calendar.close_channel(channel)
    calendar.close_channel(channel)
    assert graph.subscriptions == {}
    assert isinstance(channel, Channel)
