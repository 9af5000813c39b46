"""Faults: a worker killed mid-booking or mid-sync, Redis restarted, PostgreSQL briefly
unreachable."""

from __future__ import annotations

import threading
import time

from rq import Worker
from rq.job import JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from scheduler.models import Series, SeriesStatus
from tests.e2e.stack import TcpProxy, wait_until
from tests.e2e.tuned_process import FAST_RECOVERY

TUNED = "tests.e2e.tuned_process"


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


def _idle(stack) -> bool:
    """Nothing queued, nothing running, no notification on its way."""
    stack.google.wait_for_deliveries()
    queues = stack.runtime.dispatcher.queues()
    return all(
        queue.count == 0 and not StartedJobRegistry(queue=queue).get_job_ids(cleanup=False)
        for queue in queues
    )


def _settled(stack) -> bool:
    """Idle, and still idle a second later (a job may enqueue another as it ends)."""
    if not _idle(stack):
        return False
    time.sleep(1)
    return _idle(stack)


def test_a_sync_cut_short_by_a_worker_crash_completes_on_another_worker(stack_factory):
    """The Procfile's processes with the recovery intervals in seconds (FAST_RECOVERY); in
    production the same steps take up to 40 + 30 s (docs/pipeline.md)."""
    stack = stack_factory(workers=0)
    first = stack.start_worker(module=TUNED)
    stack.start_worker("scheduler", module=TUNED)
    series = stack.book_and_watch(timeout=30)
    # The scheduler's first round of periodic jobs (a full sync among them) is over.
    wait_until(lambda: _settled(stack), timeout=60)

    reading, release = threading.Event(), threading.Event()

    def hold_the_answer(method: str) -> None:
        if method == "events.list" and not reading.is_set():
            reading.set()
            release.wait(10)

    stack.google.after_call = hold_the_answer
    week = stack.sessions()[0]
    stack.google.respond(
        "george@acme.test",
        "pat@acme.test",
        series.provider_event_id,
        "declined",
        original_start=week.scheduled_start,
    )
    assert reading.wait(15)  # pushed, enqueued, and the worker is reading the calendar
    sync = stack.runtime.dispatcher.queue("sync")
    (job_id,) = StartedJobRegistry(queue=sync).get_job_ids(cleanup=False)
    stack.start_worker(module=TUNED)
    redis = stack.runtime.dispatcher.redis
    wait_until(lambda: len(Worker.all(connection=redis)) == 2, timeout=30)

    first.kill()  # mid-sync: the answer to its read never arrives
    stack.google.after_call = None
    release.set()

    def synced() -> bool:
        job = sync.fetch_job(job_id)
        done = job is not None and job.get_status() == JobStatus.FINISHED
        return done and stack.sessions()[0].rep_response == "declined"

    took = wait_until(synced, timeout=30)
    tuning = FAST_RECOVERY
    # The lapsed heartbeat and one sweep, plus the scheduler's 1 s tick and the sync itself
    # on a busy machine.
    bound = (tuning.job_abandoned_after + tuning.requeue_abandoned_every).total_seconds() + 6
    print(f"crashed sync completed {took:.1f} s after the kill (bound {bound:.0f} s)")
    assert took < bound


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
    wait_until(lambda: stack.sessions()[0].rep_response == "declined", timeout=15)
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
