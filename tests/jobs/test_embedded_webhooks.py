"""Webhooks in the embedded default (no Redis): answered at once, the sync on the process's
background thread; concurrent deliveries of one Google message make one sync."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import select

from integrations.base import ChangeSet
from scheduler.crypto import TokenCipher
from scheduler.jobs.dispatch import InlineDispatcher
from scheduler.models import PushMessageClaim
from scheduler.usecases.push_messages import claim_message, release_message
from tests.jobs.conftest import PushCalendar, rep_declines_week1
from tests.jobs.test_webhooks import CHANNEL, change, google, graph, watch
from tests.sessions import series_sessions
from web.app import create_app
from web.webhooks import pipeline


class SlowCalendar(PushCalendar):
    """A calendar whose reads wait for ``released`` (at most 5 s), as a slow provider."""

    def __init__(self, clock) -> None:
        super().__init__(clock)
        self.released = threading.Event()
        self.reading = threading.Event()

    def changes(self, cursor: str | None, *, full: bool = False) -> ChangeSet:
        self.reading.set()
        self.released.wait(5)
        return super().changes(cursor, full=full)


@pytest.fixture
def calendar(clock) -> SlowCalendar:
    return SlowCalendar(clock)


@pytest.fixture
def app(settings, database, calendar, clock) -> Flask:
    assert settings.redis_url is None  # the embedded default
    return create_app(settings, database=database, providers=lambda row: calendar, clock=clock)


@pytest.fixture
def watched(booked, database, settings):
    return watch(booked, database, TokenCipher(settings.token_keys))


def background(app: Flask) -> InlineDispatcher:
    with app.app_context():
        dispatcher = pipeline().dispatcher
    assert isinstance(dispatcher, InlineDispatcher)
    return dispatcher


NOTIFICATIONS = {
    "google": lambda client: google(client, 2),
    "graph change": lambda client: graph(client, change()),
    # Graph's lifecycle notifications must be answered within 3 s too: missed -> a full sync.
    "graph lifecycle": lambda client: graph(
        client, change(lifecycleEvent="missed"), path="/webhooks/microsoft/lifecycle"
    ),
}


@pytest.mark.parametrize("notification", list(NOTIFICATIONS))
def test_a_webhook_answers_before_the_sync_it_asks_for(
    app, watched, calendar, database, notification
):
    rep_declines_week1(database, calendar, watched)
    client = app.test_client()

    started = time.perf_counter()
    answer = NOTIFICATIONS[notification](client)
    took = time.perf_counter() - started

    assert answer.status_code in (202, 204)
    assert took < 1.0  # the calendar read still waits on the slow provider
    assert calendar.reading.wait(5)  # ...on the background thread
    calendar.released.set()
    assert background(app).drain(timeout=10)
    assert series_sessions(database, watched.series_ids[0])[0].rep_response == "declined"


def test_notifications_during_a_sync_queue_one_more_and_no_more(app, watched, calendar):
    """RQ's coalescing: a sync waiting absorbs later asks; one that has started does not."""
    client = app.test_client()
    graph(client, change())
    assert calendar.reading.wait(5)  # the first sync is reading the calendar
    for _ in range(20):
        assert graph(client, change()).status_code == 202
    calendar.released.set()
    assert background(app).drain(timeout=10)
    assert calendar.calls["changes"] == 2


def test_concurrent_deliveries_of_one_google_message_make_one_sync(
    app, watched, calendar, database
):
    threading.Timer(0.3, calendar.released.set).start()  # syncs that overlap, if any run
    start = threading.Barrier(3)

    def deliver(_: int) -> int:
        client = app.test_client()
        start.wait(5)
        return google(client, 7).status_code

    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(deliver, range(3))) == [204, 204, 204]
    assert background(app).drain(timeout=10)

    assert calendar.calls["changes"] == 1
    assert google(app.test_client(), 7).status_code == 204  # a later redelivery: nothing
    assert background(app).drain(timeout=10)
    assert calendar.calls["changes"] == 1


def claim(database, team, number: int, channel: str = CHANNEL) -> bool:
    return claim_message(
        database,
        org_id=team.org_id,
        connection_id=team.connection_id,
        channel_id=channel,
        number=number,
    )


def test_a_message_is_claimed_by_exactly_one_of_many_threads(watched, database):
    """The claim itself, raced on the test's database (SQLite, or PostgreSQL when
    ``DATABASE_URL`` names one)."""
    start = threading.Barrier(8)

    def race(_: int) -> bool:
        start.wait(5)
        return claim(database, watched, 42)

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(race, range(8))) == [False] * 7 + [True]


def test_rising_numbers_claimed_at_once_each_claim_once(watched, database):
    """Many deliveries of rising numbers on one channel, all at once: each number is acted on
    at most once, the highest always is, and the channel keeps one row."""
    start = threading.Barrier(8)

    def deliver(number: int) -> bool:
        start.wait(5)
        return claim(database, watched, number)

    with ThreadPoolExecutor(8) as pool:
        claimed = dict(zip(range(100, 108), pool.map(deliver, range(100, 108)), strict=True))
    assert claimed[107]
    assert [claim(database, watched, n) for n in range(100, 108)] == [False] * 8  # replays
    with database.session() as db:
        kept = db.execute(select(PushMessageClaim.channel_id, PushMessageClaim.message_number))
        assert kept.all() == [(CHANNEL, 107)]


def test_a_replay_or_late_message_is_not_claimed(watched, database):
    claimed = [claim(database, watched, n) for n in (5, 6, 5, 4, 7)]
    assert claimed == [True, True, False, False, True]


def test_a_released_claim_can_be_claimed_again(watched, database):
    assert claim(database, watched, 9)
    release_message(database, org_id=watched.org_id, channel_id=CHANNEL, number=9)
    assert claim(database, watched, 9)
    release_message(database, org_id=watched.org_id, channel_id=CHANNEL, number=8)  # not held
    assert not claim(database, watched, 9)
