"""A worker outlives Redis going away under it: a job that ends while Redis is down costs its
record, never the worker."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import JobStatus

from tests.e2e.stack import RedisServer, wait_until
from tests.jobs.conftest import QuietBeatingWorker, QuietForkingWorker


def run_until(gate: str) -> None:
    """A job that runs until the file ``gate`` exists (a forked work horse sees it too)."""
    while not Path(gate).exists():
        time.sleep(0.01)


def answer() -> int:
    return 42


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A ``redis-server`` of this test's own: it is stopped and started again."""
    server = RedisServer().start()
    yield server
    server.close()


@pytest.mark.parametrize("worker_class", [QuietBeatingWorker, QuietForkingWorker])
def test_a_worker_that_lost_redis_mid_job_takes_the_next_job_once_redis_is_back(
    own_redis, worker_class, tmp_path, caplog
):
    caplog.set_level(logging.WARNING, logger="rq.worker")
    redis = Redis.from_url(own_redis.url)
    queue = Queue("sync", connection=redis)
    gate = tmp_path / "gate"
    running = queue.enqueue(run_until, str(gate))
    waiting = queue.enqueue(answer)  # in the snapshot Redis restarts from
    worker = worker_class([queue], connection=redis, heartbeat=1, abandoned_after=5)
    worker.max_connection_wait_time = 0.2
    worker_ended = threading.Event()

    def waiting_for_redis() -> bool:
        return any("could not connect to Redis" in r.getMessage() for r in caplog.records)

    def outage() -> None:
        wait_until(lambda: running.get_status() == JobStatus.STARTED, timeout=10)
        own_redis.stop(save=True)
        gate.touch()  # the job ends while Redis is away: RQ cannot record its end
        wait_until(lambda: waiting_for_redis() or worker_ended.is_set(), timeout=15)
        own_redis.start()

    # The worker in this thread (it installs signal handlers), Redis's outage in another.
    outside = threading.Thread(target=outage)
    outside.start()
    try:
        worker.work(burst=True, with_scheduler=False)  # a burst worker stops once idle
    finally:
        worker_ended.set()
        outside.join()

    assert waiting.get_status() == JobStatus.FINISHED
    assert waiting.return_value() == 42
    # The job whose end went unrecorded is still registered as running: once its heartbeat
    # deadline passes, the abandoned-job sweep runs it again (test_abandoned).
    assert running.id in queue.started_job_registry.get_job_ids(cleanup=False)
    redis.close()
