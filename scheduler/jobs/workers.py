"""The RQ workers Cadence runs: a running job beats every few seconds.

RQ keeps each running job in its queue's started registry until a deadline its worker keeps
pushing back (the heartbeat); a job past its deadline was abandoned by a worker that died.
RQ's ``SimpleWorker`` sends no heartbeat while a job runs, so the deadline is the job's whole
time limit plus a minute (six minutes for a sync); the forking ``Worker`` beats every 30 s
with a 90 s deadline. Both here beat every ``heartbeat`` seconds with an ``abandoned_after``
deadline, so ``scheduler.jobs.abandoned`` can put a crashed job back within a minute.

Both also outlive Redis going away (``OutlastsRedisOutages``): RQ waits for Redis only while
it waits for the next job, and quits on a Redis error anywhere else.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from redis.client import Pipeline
from redis.exceptions import ConnectionError as RedisAway
from rq import SimpleWorker, Worker
from rq.job import Job
from rq.queue import Queue
from rq.worker import BaseWorker


class OutlastsRedisOutages(BaseWorker):
    """A worker that carries on when Redis goes away under it (restarts, fails over, loads).

    RQ's work loop waits for Redis to return only while it waits for the next job; a Redis
    error anywhere else (recording a job's end, a beat, the checks between two jobs) ends the
    worker process for good, and the jobs queued meanwhile wait for a worker that never
    comes. Here a beat that fails is skipped (the next one tries again), and a job whose end
    cannot be recorded stays as Redis last saw it: if Redis kept it as running, the
    abandoned-job sweep runs it again once its heartbeat deadline passes (every job is
    idempotent). Either way the worker goes back to waiting for its next job, and with it
    for Redis.
    """

    def execute_job(self, job: Job, queue: Queue) -> None:
        try:
            super().execute_job(job, queue)
        except RedisAway as error:
            self.log.warning(
                "Worker %s: Redis went away during job %s; its outcome is not recorded: %s",
                self.name,
                job.id,
                error,
            )

    def check_for_suspension(self, burst: bool) -> None:
        with self._unless_redis_is_away("the suspension check"):
            super().check_for_suspension(burst)

    def run_maintenance_tasks(self) -> None:
        with self._unless_redis_is_away("the registries' cleaning"):
            super().run_maintenance_tasks()  # type: ignore[no-untyped-call]

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        with self._unless_redis_is_away("a heartbeat"):
            super().heartbeat(timeout, pipeline)

    def maintain_heartbeats(self, job: Job) -> None:
        with self._unless_redis_is_away(f"a heartbeat of job {job.id}"):
            super().maintain_heartbeats(job)

    def set_state(self, state: str, pipeline: Pipeline | None = None) -> None:
        with self._unless_redis_is_away(f"recording the state {state}"):
            super().set_state(state, pipeline)

    def set_current_job_working_time(
        self, current_job_working_time: float, pipeline: Pipeline | None = None
    ) -> None:
        with self._unless_redis_is_away("recording the job's working time"):
            super().set_current_job_working_time(current_job_working_time, pipeline)

    @contextmanager
    def _unless_redis_is_away(self, what: str) -> Iterator[None]:
        """Skip ``what`` if Redis is away: the next wait for a job waits for Redis too. (Given
        a pipeline, the calls only add to it: whoever runs it sees its errors.)"""
        try:
            yield
        except RedisAway as error:
            self.log.warning("Worker %s: skipped %s, Redis is away: %s", self.name, what, error)


class BeatingWorker(OutlastsRedisOutages, SimpleWorker):
    """Runs jobs in its own process (no fork per job) and beats from a thread meanwhile."""

    def __init__(self, *args: Any, heartbeat: int, abandoned_after: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.beat_every = heartbeat
        self.abandoned_after = abandoned_after
        self._beat_lock = threading.Lock()
        self._stopped = threading.Event()

    def get_heartbeat_ttl(self, job: Job) -> int:
        return self.abandoned_after

    def perform_job(self, job: Job, queue: Queue) -> bool:
        with self._beating(job):
            return super().perform_job(job, queue)

    def handle_execution_ended(self, job: Job, queue: Queue, heartbeat_ttl: int) -> None:
        # No beat after this point: RQ is about to close the job's execution.
        with self._beat_lock:
            self._stopped.set()
        super().handle_execution_ended(job, queue, heartbeat_ttl)

    @contextmanager
    def _beating(self, job: Job) -> Iterator[None]:
        self._stopped = stopped = threading.Event()

        def beat() -> None:
            while not stopped.wait(self.beat_every):
                with self._beat_lock:
                    if stopped.is_set():
                        return
                    try:
                        self.maintain_heartbeats(job)  # skipped while Redis is away
                    except Exception:  # any other failure: the next beat tries again
                        self.log.warning("heartbeat of job %s failed", job.id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"heartbeat-{job.id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            with self._beat_lock:
                stopped.set()
            thread.join()


class ForkingWorker(OutlastsRedisOutages, Worker):
    """Runs each job in a fork (``--fork``); the parent beats while it waits for the job."""

    def __init__(self, *args: Any, heartbeat: int, abandoned_after: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job_monitoring_interval = heartbeat
        self.abandoned_after = abandoned_after

    def get_heartbeat_ttl(self, job: Job) -> int:
        return self.abandoned_after
