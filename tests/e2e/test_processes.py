"""The Procfile's background processes: two schedulers, one run of each periodic job."""

from __future__ import annotations

import time
from collections import Counter

from rq.registry import FinishedJobRegistry

from scheduler.jobs.periodic import PERIODIC
from tests.e2e.stack import wait_until


def test_two_scheduler_processes_enqueue_each_periodic_job_once(stack):
    stack.start_worker("scheduler")
    stack.start_worker("scheduler")  # a second one, as after a botched deploy
    queue = stack.runtime.dispatcher.queue("periodic")
    finished = FinishedJobRegistry(queue=queue)
    declared = {job.function.__name__ for job in PERIODIC}

    def ran() -> Counter[str]:
        jobs = (queue.fetch_job(job_id) for job_id in finished.get_job_ids())
        return Counter(job.func_name.rsplit(".", 1)[1] for job in jobs if job is not None)

    wait_until(lambda: declared <= set(ran()), timeout=15)
    time.sleep(2)  # two more scheduler ticks: nothing is due again
    # Each periodic job ran once (the other finished jobs are the per-object ones they fanned
    # out); the daily reconciliation fully synced the connection.
    assert {name: ran()[name] for name in declared} == dict.fromkeys(declared, 1)
    wait_until(lambda: stack.connection().last_synced_at is not None, timeout=5)
