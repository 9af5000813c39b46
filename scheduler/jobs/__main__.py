"""``python -m scheduler.jobs worker|scheduler`` — the Procfile's background processes."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence

from scheduler.jobs import start
from scheduler.jobs.dispatch import RQDispatcher
from scheduler.jobs.periodic import run_scheduler
from scheduler.jobs.runtime import Clock, Tuning
from scheduler.settings import Settings
from web.agenda_links import agenda_link_builder


def main(
    argv: Sequence[str] | None = None,
    *,
    tuning: Tuning | None = None,
    clock: Clock | None = None,
) -> None:
    """Run the worker or the scheduler named in ``argv``; ``tuning`` replaces the production
    intervals (the end-to-end tests shrink the waits) and ``clock`` the system's (they move
    it past a 1:1's end or a link's expiry)."""
    parser = argparse.ArgumentParser(prog="python -m scheduler.jobs")
    parser.add_argument("process", choices=["worker", "scheduler"])
    parser.add_argument("--burst", action="store_true", help="worker: stop when queues are empty")
    parser.add_argument("--fork", action="store_true", help="worker: run each job in a fork")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_env(os.environ)
    if settings.redis_url is None:
        raise SystemExit("REDIS_URL is not set: without Redis, jobs run inline in the web app")
    runtime = start(
        settings,
        link=agenda_link_builder(settings.secret_key, settings.base_url),
        namespace=os.environ.get("CADENCE_QUEUE_NAMESPACE", ""),
        tuning=tuning,
        clock=clock,
    )
    dispatcher = runtime.dispatcher
    assert isinstance(dispatcher, RQDispatcher)
    beats = runtime.tuning
    if args.process == "worker":
        from scheduler.jobs.workers import BeatingWorker, ForkingWorker

        # Jobs are short, I/O-bound calls; forking a fresh work horse for each one costs more
        # (new database connection, cold client libraries) than the job itself. Timeouts
        # still apply in-process; --fork isolates each job when that matters more.
        worker_class = ForkingWorker if args.fork else BeatingWorker
        _preload_adapters()
        worker = worker_class(
            dispatcher.queues(),
            connection=dispatcher.redis,
            heartbeat=int(beats.job_heartbeat.total_seconds()),
            abandoned_after=int(beats.job_abandoned_after.total_seconds()),
        )
        worker.max_connection_wait_time = beats.redis_retry_at_most.total_seconds()
        worker.work(with_scheduler=True, burst=args.burst)
    else:
        run_scheduler(dispatcher, requeue_every=beats.requeue_abandoned_every.total_seconds())


def _preload_adapters() -> None:
    """Import the adapters (and their client libraries) before the first job, so no job pays
    for it (and with ``--fork`` every work horse starts with them loaded)."""
    import importlib

    for name in ("integrations.google", "integrations.outlook", "integrations.caldav.provider"):
        try:
            importlib.import_module(name)
        except ImportError:  # a provider's optional dependency is missing: its jobs will say
            logging.getLogger(__name__).warning("could not preload %s", name)


if __name__ == "__main__":
    main()
