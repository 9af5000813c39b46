"""Faults: a worker killed mid-booking, Redis restarted, PostgreSQL briefly unreachable."""

from __future__ import annotations

import threading
import time

from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from scheduler.models import Series, SeriesStatus
from tests.e2e.stack import TcpProxy, wait_until


def _series_in_google(stack) -> list[dict]:
    return [
        event
        for event in stack.google.events("pat@acme.test")
        if event.get("recurrence") and event.get("status") != "cancelled"
    ]


def test_a_worker_killed_mid_booking_leaves_exactly_one_series(stack):
    inserted, release = threading.Event(), threading.Event()

    def hold_the_answer(method: str) -> None:
        if method == "events.insert":
            inserted.set()
            release.wait(10)

    stack.google.after_call = hold_the_answer
    stack.enqueue_booking()
    assert inserted.wait(10)
    stack.workers[0].kill()  # the event exists at Google; the answer never arrives
    stack.google.after_call = None
    release.set()
    assert stack.series().status == SeriesStatus.BOOKING

    stack.start_worker()
    # RQ notices an abandoned job once its heartbeat lapses (90 s); move that clock on.
    queue = stack.runtime.dispatcher.queue("booking")
    StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600)

    wait_until(lambda: stack.series().status == SeriesStatus.ACTIVE, timeout=10)
    assert len(_series_in_google(stack)) == 1
    with stack.database.session() as db:
        assert db.scalar(select(func.count()).select_from(Series)) == 1


def test_jobs_queued_before_a_redis_restart_run_after_it(stack_factory):
    stack = stack_factory(workers=0)
    stack.enqueue_booking()

    stack.redis.restart()
    stack.start_worker()

    wait_until(lambda: stack.series().status == SeriesStatus.ACTIVE, timeout=15)
    assert len(_series_in_google(stack)) == 1


def test_a_worker_and_the_webhook_carry_on_after_redis_comes_back(stack):
    series = stack.book_and_watch()
    week1 = stack.sessions()[0]
    client = stack.app.test_client()

    stack.redis.stop(save=True)
    connection = stack.connection()
    genuine = {
        "X-Goog-Channel-ID": connection.channel_id,
        "X-Goog-Channel-Token": stack.runtime.cipher.decrypt(connection.channel_secret).decode(),
        "X-Goog-Resource-State": "exists",
        "X-Goog-Message-Number": "1000",
    }
    # While Redis is down a notification is refused with 503: Google delivers it again.
    assert client.post("/webhooks/google", headers=genuine).status_code == 503
    stack.redis.start()

    stack.google.respond(
        "george@acme.test",
        "pat@acme.test",
        series.provider_event_id,
        "declined",
        original_start=week1.scheduled_start,
    )
    wait_until(lambda: stack.sessions()[0].outcome == "declined", timeout=15)
    assert stack.google.deliveries[-1].status == 204


def test_the_web_answers_503_while_postgresql_is_unreachable_and_recovers(stack_factory):
    proxy = TcpProxy(("127.0.0.1", 5432))
    try:
        stack = stack_factory(workers=0, database_port=proxy.port)
        client = stack.app.test_client()
        assert client.get("/healthz").status_code == 200

        proxy.cut()
        assert client.get("/healthz").status_code == 503
        answer = client.post("/webhooks/google", headers={"X-Goog-Channel-ID": "c"})
        assert answer.status_code == 503

        proxy.restore()
        wait_until(lambda: client.get("/healthz").status_code == 200, timeout=5)
        assert (
            client.post("/webhooks/google", headers={"X-Goog-Channel-ID": "c"}).status_code == 404
        )
    finally:
        proxy.close()
