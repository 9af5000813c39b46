"""A job whose worker died mid-run runs again within seconds of its heartbeat lapsing; a job
that is still running keeps beating and is never taken for abandoned."""

from __future__ import annotations

import threading
import time

import pytest
from rq import Queue, Retry
from rq.job import JobStatus

from scheduler.jobs import coalesce, tasks
from scheduler.jobs.abandoned import requeue_abandoned
from scheduler.jobs.periodic import run_scheduler
from scheduler.jobs.workers import BeatingWorker
from tests.e2e.stack import wait_until
from tests.jobs.conftest import QuietBeatingWorker, QuietForkingWorker, drain, queued


def start_then_die(runtime, queue: Queue, *, abandoned_after: int) -> None:
    """A worker takes the next job of ``queue``, registers it as running, and dies."""
    dequeued = Queue.dequeue_any([queue], None, connection=runtime.dispatcher.redis)
    assert dequeued is not None
    worker = BeatingWorker(
        [queue], connection=runtime.dispatcher.redis, heartbeat=1, abandoned_after=abandoned_after
    )
    worker.prepare_execution(dequeued[0])


def test_the_scheduler_requeues_a_sync_whose_worker_died_and_it_completes(
    runtime, booked, calendar
):
    dispatcher = runtime.dispatcher
    dispatcher.enqueue(tasks.sync_connection, booked.org_id, booked.connection_id, job_id="lost")
    queue = dispatcher.queue("sync")
    start_then_die(runtime, queue, abandoned_after=1)
    assert queued(runtime) == 0

    def swept() -> bool:
        run_scheduler(dispatcher, (), ticks=1, tick=0, requeue_every=0)
        return queued(runtime) == 1

    assert wait_until(swept, timeout=5) < 3  # the deadline is whole seconds: at most two
    drain(runtime)
    assert calendar.calls["changes"] == 1
    assert queue.fetch_job("lost").get_status() == JobStatus.FINISHED


def test_a_job_still_within_its_heartbeat_is_left_alone(runtime, booked):
    dispatcher = runtime.dispatcher
    dispatcher.enqueue(tasks.sync_connection, booked.org_id, booked.connection_id)
    start_then_die(runtime, dispatcher.queue("sync"), abandoned_after=40)

    assert requeue_abandoned(dispatcher, now=time.time() + 30) == []
    assert len(requeue_abandoned(dispatcher, now=time.time() + 41)) == 1


def test_an_abandoned_job_without_retries_left_fails_instead_of_running_again(runtime):
    dispatcher = runtime.dispatcher
    dispatcher.enqueue(tasks.reconcile_all)  # periodic fan-outs are never retried
    queue = dispatcher.queue("periodic")
    start_then_die(runtime, queue, abandoned_after=1)

    assert requeue_abandoned(dispatcher, now=time.time() + 2) == []
    assert queued(runtime) == 0
    assert len(queue.failed_job_registry) == 1


@pytest.mark.parametrize("worker_class", [QuietBeatingWorker, QuietForkingWorker])
def test_a_running_job_keeps_beating_so_it_is_never_taken_for_abandoned(runtime, worker_class):
    dispatcher = runtime.dispatcher
    queue = dispatcher.queue("sync")
    job = queue.enqueue(time.sleep, 3, retry=Retry(max=1))
    requeued: list[str] = []
    done = threading.Event()

    def sweep() -> None:
        while not done.wait(0.2):
            requeued.extend(requeue_abandoned(dispatcher, now=time.time()))

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        # Its deadline is two seconds away at any moment; the job takes three.
        worker_class([queue], connection=dispatcher.redis, heartbeat=1, abandoned_after=2).work(
            burst=True, with_scheduler=False
        )
    finally:
        done.set()
        sweeper.join()
    assert requeued == []
    assert job.get_status() == JobStatus.FINISHED


def test_a_held_lock_is_renewed_while_its_round_runs_and_lapses_when_nobody_renews_it(
    runtime,
):
    dispatcher = runtime.dispatcher
    rounds = coalesce.exclusive_rounds(dispatcher, "sync:c", lease=1, renew_every=0.2)
    assert next(rounds) == 1
    time.sleep(1.5)  # longer than the lease: the renewals kept it
    assert list(coalesce.exclusive_rounds(dispatcher, "sync:c", lease=1)) == []
    assert list(rounds) == [2]  # the round the second caller asked for

    # A holder that died: nothing renews its lock, and it lapses with its lease.
    dispatcher.redis.set(dispatcher.key("lock", "sync:d"), "dead", ex=1)
    wait_until(lambda: list(coalesce.exclusive_rounds(dispatcher, "sync:d", lease=1)), timeout=3)
