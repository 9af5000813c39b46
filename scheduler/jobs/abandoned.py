"""Jobs a dead worker left half done go back on their queue at once.

A running job sits in its queue's started registry, scored by the deadline its worker's
heartbeat keeps pushing back (``scheduler.jobs.workers``). Past that deadline nobody runs it.
RQ notices only during a worker's maintenance (every ten minutes), and then retries it through
its scheduler after the job's retry interval; the scheduler process calls
``requeue_abandoned`` every ``Tuning.requeue_abandoned_every`` instead. Every job is
idempotent, so running the abandoned one again is safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rq.registry import StartedJobRegistry
from rq.utils import parse_composite_key

if TYPE_CHECKING:
    from scheduler.jobs.dispatch import RQDispatcher


def requeue_abandoned(dispatcher: RQDispatcher, *, now: float) -> list[str]:
    """Put back, at the front of its queue, each job whose heartbeat deadline passed before
    ``now`` (seconds since the epoch) and that has retries left, spending one of them; RQ's
    own cleanup fails the others (into the failed registry). Returns the ids put back."""
    redis = dispatcher.redis
    requeued = []
    for queue in dispatcher.queues():
        registry = StartedJobRegistry(queue=queue)
        for entry in cast("list[bytes]", redis.zrangebyscore(registry.key, 0, now)):
            job_id, _ = parse_composite_key(entry.decode())
            job = queue.fetch_job(job_id)
            if job is None or not job.retries_left:
                continue
            # Out of the registry first: of two processes sweeping at once, one requeues it.
            if not redis.zrem(registry.key, entry):
                continue
            job.retries_left -= 1
            queue.enqueue_job(job, at_front=True)
            requeued.append(job_id)
        registry.cleanup(timestamp=now)
    return requeued
