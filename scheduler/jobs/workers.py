"""The RQ workers Cadence runs: a running job beats every few seconds.

RQ keeps each running job in its queue's started registry until a deadline its worker keeps
pushing back (the heartbeat); a job past its deadline was abandoned by a worker that died.
RQ's ``SimpleWorker`` sends no heartbeat while a job runs, so the deadline is the job's whole
time limit plus a minute (six minutes for a sync); the forking ``Worker`` beats every 30 s
with a 90 s deadline. Both here beat every ``heartbeat`` seconds with an ``abandoned_after``
deadline, so ``scheduler.jobs.abandoned`` can put a crashed job back within a minute.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rq import SimpleWorker, Worker
from rq.job import Job
from rq.queue import Queue
from rq.worker import WorkerStatus


class BeatingWorker(SimpleWorker):
    """Runs jobs in its own process (no fork per job) and beats from a thread meanwhile."""

    def __init__(self, *args: Any, heartbeat: int, abandoned_after: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.beat_every = heartbeat
        self.abandoned_after = abandoned_after
        self._beat_lock = threading.Lock()
        self._stopped = threading.Event()

    def get_heartbeat_ttl(self, job: Job) -> int:
        return self.abandoned_after

    def execute_job(self, job: Job, queue: Queue) -> None:
        self.prepare_execution(job)
        with self._beating(job):
            self.perform_job(job, queue)
        self.set_state(WorkerStatus.IDLE)

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
                        self.maintain_heartbeats(job)
                    except Exception:  # Redis briefly away: the next beat tries again
                        self.log.warning("heartbeat of job %s failed", job.id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"heartbeat-{job.id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            with self._beat_lock:
                stopped.set()
            thread.join()


class ForkingWorker(Worker):
    """Runs each job in a fork (``--fork``); the parent beats while it waits for the job."""

    def __init__(self, *args: Any, heartbeat: int, abandoned_after: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job_monitoring_interval = heartbeat
        self.abandoned_after = abandoned_after

    def get_heartbeat_ttl(self, job: Job) -> int:
        return self.abandoned_after
