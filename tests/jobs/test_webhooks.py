"""The webhooks: genuine notifications enqueue one sync; the rest are harmless."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event

from scheduler.jobs import coalesce
from scheduler.models import CalendarConnection
from tests.jobs.conftest import NOW, drain, queued
from web.app import create_app
from web.webhooks import pipeline

SECRET = "channel-secret-0123456789"
CHANNEL = "channel-1"


@pytest.fixture
def app(settings, database, calendar, clock, redis, runtime) -> Flask:
    """The app on the same Redis namespace as ``runtime``, so ``drain`` runs its jobs."""
    app = create_app(settings, database=database, providers=lambda row: calendar, clock=clock)
    app.extensions["cadence.jobs"] = runtime
    return app


@pytest.fixture
def watched(booked, database, runtime):
    return watch(booked, database, runtime.cipher)


def watch(team, database, cipher):
    """The team's connection with an open push channel."""
    with database.session() as db:
        row = db.get(CalendarConnection, team.connection_id)
        row.channel_id = CHANNEL
        row.channel_resource_id = "resource-1"
        row.channel_secret = cipher.encrypt(SECRET.encode())
        row.channel_expires_at = NOW + timedelta(days=7)
    return team


def google(client, number: int, *, state="exists", token=SECRET, channel=CHANNEL):
    return client.post(
        "/webhooks/google",
        headers={
            "X-Goog-Channel-ID": channel,
            "X-Goog-Channel-Token": token,
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(number),
            "X-Goog-Resource-ID": "resource-1",
        },
    )


def graph(client, *items, path="/webhooks/microsoft"):
    return client.post(path, json={"value": list(items)})


def change(client_state=SECRET, subscription=CHANNEL, **extra):
    return {
        "subscriptionId": subscription,
        "clientState": client_state,
        "changeType": "updated",
        "resource": "me/events/AAMk",
        "resourceData": {"id": "AAMk"},
        **extra,
    }


def test_a_genuine_google_notification_enqueues_a_sync(app, watched, runtime, calendar):
    answer = google(app.test_client(), 2)
    assert answer.status_code == 204 and queued(runtime) == 1
    drain(runtime)
    assert calendar.calls["changes"] == 1


def test_a_hundred_duplicate_notifications_make_one_sync(app, watched, runtime, calendar):
    client = app.test_client()
    assert {google(client, n).status_code for n in range(2, 102)} == {204}
    assert queued(runtime) == 1
    drain(runtime)
    assert calendar.calls["changes"] == 1


def test_replayed_and_out_of_order_google_notifications_are_ignored(app, watched, runtime):
    client = app.test_client()
    google(client, 5)
    drain(runtime)
    for number in (5, 3, 4):  # the same again, then two that arrive late
        assert google(client, number).status_code == 204
    assert queued(runtime) == 0
    google(client, 6)
    assert queued(runtime) == 1


def test_the_first_sync_ping_of_a_channel_does_nothing(app, watched, runtime):
    assert google(app.test_client(), 1, state="sync").status_code == 204
    assert queued(runtime) == 0


@pytest.mark.parametrize(
    ("token", "channel", "status"),
    [("forged", CHANNEL, 403), ("", CHANNEL, 403), (SECRET, "someone-elses", 404)],
)
def test_forged_google_notifications_are_refused(app, watched, runtime, token, channel, status):
    assert google(app.test_client(), 9, token=token, channel=channel).status_code == status
    assert queued(runtime) == 0


def test_the_graph_validation_handshake_echoes_the_token_as_plain_text(app):
    answer = app.test_client().post("/webhooks/microsoft?validationToken=<b>abc%20123</b>")
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    assert answer.get_data(as_text=True) == "<b>abc 123</b>"


def test_genuine_graph_notifications_enqueue_one_sync(app, watched, runtime, calendar):
    client = app.test_client()
    assert graph(client, change(), change(), change(changeType="deleted")).status_code == 202
    assert graph(client, change()).status_code == 202  # duplicated delivery
    assert queued(runtime) == 1
    drain(runtime)
    assert calendar.calls["changes"] == 1


@pytest.mark.parametrize(
    "item",
    [change(client_state="forged"), change(client_state=None), change(subscription="other")],
)
def test_forged_graph_notifications_are_refused(app, watched, runtime, item):
    assert graph(app.test_client(), change(), item).status_code in (403, 404)
    assert queued(runtime) == 0


def test_a_graph_body_that_is_not_a_notification_is_a_bad_request(app, watched, runtime):
    client = app.test_client()
    assert client.post("/webhooks/microsoft", data="nonsense").status_code == 400
    assert graph(client).status_code == 400
    assert queued(runtime) == 0


def test_lifecycle_notifications_resync_and_keep_the_subscription(app, watched, runtime, calendar):
    client = app.test_client()
    path = "/webhooks/microsoft/lifecycle"
    assert graph(client, change(lifecycleEvent="missed"), path=path).status_code == 202
    assert graph(client, change(lifecycleEvent="reauthorizationRequired"), path=path).status_code
    drain(runtime)
    # A full sync for the missed notifications, and one after the renewal.
    assert calendar.calls["changes"] == 2
    assert calendar.calls["renew_channel"] == 1


def channel_reads(database):
    """A list that grows by one each time the database is asked for a connection's channel."""
    reads: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "channel_id =" in statement:
            reads.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    return reads


def test_a_burst_of_notifications_reads_the_channel_once(app, watched, runtime, database):
    # How fast a webhook answers is measured by bench/sync.py; what makes it fast is that a
    # burst costs one read of the channel (and one decryption of its secret), not one each.
    reads = channel_reads(database)
    client = app.test_client()
    assert {google(client, n).status_code for n in range(2, 52)} == {204}
    assert len(reads) == 1
    assert google(client, 60, token="forged").status_code == 403  # still checked each time


def test_a_remembered_channel_is_read_again_once_its_time_is_up(app, watched, runtime, database):
    reads = channel_reads(database)
    client = app.test_client()
    google(client, 2)
    cache = app.extensions["cadence.webhook-channels"]
    cache._entries = {k: (0.0, found) for k, (_, found) in cache._entries.items()}  # lapsed
    google(client, 3)
    assert len(reads) == 2


def test_an_unknown_channel_is_not_remembered(app, watched, runtime, database):
    """A channel opened a moment after a notification for it was refused works at once."""
    client = app.test_client()
    assert google(client, 2, channel="opened-later").status_code == 404
    with database.session() as db:
        db.get(CalendarConnection, watched.connection_id).channel_id = "opened-later"
    assert google(client, 3, channel="opened-later").status_code == 204


def test_the_app_has_the_pipeline_of_its_settings(settings, database, calendar):
    app = create_app(settings, database=database, providers=lambda row: calendar)
    with app.app_context():
        assert type(pipeline().dispatcher).__name__ == "InlineDispatcher"


def test_a_notification_refused_for_want_of_redis_is_acted_on_when_redelivered(
    app, watched, runtime, monkeypatch
):
    from redis.exceptions import ConnectionError

    from scheduler.jobs import tasks

    client = app.test_client()
    real = tasks.request_sync

    def redis_down(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(tasks, "request_sync", redis_down)
    assert google(client, 7).status_code == 503
    monkeypatch.setattr(tasks, "request_sync", real)
    assert google(client, 7).status_code == 204  # Google's redelivery of the same message
    assert queued(runtime) == 1


def test_with_redis_a_message_is_claimed_by_exactly_one_of_many_threads(runtime):
    """Concurrent deliveries of one Google message: one Redis script call decides."""
    start = threading.Barrier(8)

    def claim(_: int) -> bool:
        start.wait(5)
        return coalesce.claim_message(runtime.dispatcher, CHANNEL, 42)

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(claim, range(8))) == [False] * 7 + [True]
    assert not coalesce.claim_message(runtime.dispatcher, CHANNEL, 41)  # arrived late
    assert coalesce.claim_message(runtime.dispatcher, CHANNEL, 43)
