"""Background processes: ``python -m scheduler.jobs worker`` and ``... scheduler``.

Jobs are thin (ids in, a use case called). Periodic jobs are data, declared once in
``PERIODIC``; only the single ``scheduler`` process enqueues them.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from scheduler.settings import Settings

QUEUES = ("booking", "sync", "periodic")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    function: Callable[[], object]


# Filled by the background-pipeline work (sync reconciliation, agenda refresh, ...).
PERIODIC: tuple[PeriodicJob, ...] = ()


def run_worker(settings: Settings) -> None:
    from redis import Redis
    from rq import Queue, Worker

    if settings.redis_url is None:
        raise SystemExit("REDIS_URL is not set: with no Redis, jobs run inline in the web app")
    connection = Redis.from_url(settings.redis_url)
    Worker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work()


def run_scheduler(settings: Settings, *, ticks: int | None = None) -> None:
    """Enqueue each periodic job when it is due; ``ticks`` bounds the loop (for tests)."""
    from redis import Redis
    from rq import Queue

    if settings.redis_url is None:
        raise SystemExit("REDIS_URL is not set: with no Redis, periodic jobs run in the web app")
    queue = Queue("periodic", connection=Redis.from_url(settings.redis_url))
    due = {job.name: time.monotonic() for job in PERIODIC}
    tick = 0
    while ticks is None or tick < ticks:
        for job in PERIODIC:
            if time.monotonic() >= due[job.name]:
                # A stable job id: a restarted scheduler never queues the same run twice.
                queue.enqueue(job.function, job_id=f"periodic:{job.name}", result_ttl=0)
                due[job.name] = time.monotonic() + job.every.total_seconds()
        tick += 1
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scheduler.jobs")
    parser.add_argument("process", choices=["worker", "scheduler"])
    args = parser.parse_args()
    settings = Settings.from_env(os.environ)
    if args.process == "worker":
        run_worker(settings)
    else:
        run_scheduler(settings)


if __name__ == "__main__":
    main()
