"""Push channels: real notifications from the emulator to a local https receiver."""

from __future__ import annotations

from dataclasses import replace

import pytest

from integrations.google import GoogleCalendar, Verdict, verify_notification
from tests.emulators.google import GoogleEmulator
from tests.emulators.webhook import WebhookReceiver
from tests.fakes import MemoryTokenStore
from tests.integrations.test_google_calendar import (
    MANAGER,
    REPS,
    WEEK1,
    blob_for,
    fast_retry,
    spec_for,
)


@pytest.fixture
def emulator(ca):
    with GoogleEmulator({MANAGER: "Pat Manager", REPS[0]: "Rep 1"}, ca=ca) as emu:
        yield emu


@pytest.fixture
def receiver(ca):
    with WebhookReceiver(ca) as hooks:
        yield hooks


@pytest.fixture
def calendar(emulator):
    tokens = MemoryTokenStore(blob_for(emulator, MANAGER))
    return GoogleCalendar(emulator.settings(), tokens, retry=fast_retry([]))


def test_steady_state_lists_nothing_until_a_notification_arrives(emulator, receiver, calendar):
    ref = calendar.create_series(spec_for(REPS[0]))
    cursor = calendar.changes(None).cursor
    channel = calendar.open_channel(receiver.url)

    first = receiver.next()
    assert verify_notification(first.headers, channel).verdict is Verdict.IGNORED  # "sync" ping
    assert first.headers["x-goog-resource-state"] == "sync"
    emulator.wait_for_deliveries()
    emulator.reset_calls()
    assert receiver.pending() == 0

    emulator.respond(REPS[0], MANAGER, ref.provider_event_id, "declined", original_start=WEEK1)

    ping = receiver.next()
    verdict = verify_notification(ping.headers, channel, last_message_number=1)
    assert verdict.verdict is Verdict.SYNC and verdict.message_number == 2
    assert ping.headers["x-goog-resource-state"] == "exists"
    changed = calendar.changes(cursor)
    assert [c.kind.value for c in changed.changes] == ["attendee_responded"]
    assert emulator.calls == {"events.list": 1}


def test_a_notification_with_a_wrong_token_is_rejected(emulator, receiver, calendar):
    channel = calendar.open_channel(receiver.url)
    headers = dict(receiver.next().headers)
    headers["x-goog-resource-state"] = "exists"
    headers["x-goog-message-number"] = "5"

    assert verify_notification(headers, channel).verdict is Verdict.SYNC
    forged = headers | {"x-goog-channel-token": "guess"}
    assert verify_notification(forged, channel).verdict is Verdict.REJECTED
    tokenless = {k: v for k, v in headers.items() if k != "x-goog-channel-token"}
    assert verify_notification(tokenless, channel).verdict is Verdict.REJECTED
    other_channel = replace(channel, channel_id="someone-else")
    assert verify_notification(headers, other_channel).verdict is Verdict.REJECTED


def test_replayed_or_old_message_numbers_are_no_ops(emulator, receiver, calendar):
    channel = calendar.open_channel(receiver.url)
    headers = dict(receiver.next().headers) | {"x-goog-resource-state": "exists"}

    for number, expected in (("3", Verdict.IGNORED), ("2", Verdict.IGNORED), ("4", Verdict.SYNC)):
        verdict = verify_notification(headers | {"x-goog-message-number": number}, channel, 3)
        assert verdict.verdict is expected


def test_each_channel_gets_its_own_secret(emulator, receiver, calendar):
    one = calendar.open_channel(receiver.url)
    two = calendar.open_channel(receiver.url)

    assert one.secret != two.secret and one.channel_id != two.channel_id
    assert len(one.secret) >= 32


def test_renewing_opens_the_replacement_before_stopping_the_old_channel(
    emulator, receiver, calendar
):
    old = calendar.open_channel(receiver.url)

    new = calendar.renew_channel(old, receiver.url)

    assert emulator.channels() == [new.channel_id]
    assert emulator.calls == {"events.watch": 2, "channels.stop": 1}


def test_closing_stops_the_channel_and_closing_again_is_harmless(emulator, receiver, calendar):
    channel = calendar.open_channel(receiver.url)

    calendar.close_channel(channel)
    calendar.close_channel(channel)

    assert emulator.channels() == []
    emulator.add_busy(MANAGER, WEEK1, WEEK1.replace(hour=15))
    emulator.wait_for_deliveries()
    assert [d.state for d in emulator.deliveries] == ["sync"]
    assert receiver.next().headers["x-goog-resource-state"] == "sync"
    assert receiver.pending() == 0


def test_a_watch_whose_answer_was_lost_is_retried_as_a_new_channel(emulator, receiver, calendar):
    emulator.fail_next(1, 500, after_commit=True, method="events.watch")

    channel = calendar.open_channel(receiver.url)

    assert emulator.calls == {"events.watch": 2}
    assert channel.channel_id in emulator.channels() and len(emulator.channels()) == 2
    pings = [receiver.next(), receiver.next()]
    verdicts = [verify_notification(p.headers, channel).verdict for p in pings]
    assert sorted(verdicts) == [Verdict.IGNORED, Verdict.REJECTED]  # the orphan is not ours
