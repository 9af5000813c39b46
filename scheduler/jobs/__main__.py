"""``python -m scheduler.jobs worker|scheduler`` — the Procfile's background processes."""

from __future__ import annotations

import argparse
import logging
import os

from scheduler.jobs import start
from scheduler.jobs.dispatch import RQDispatcher
from scheduler.jobs.periodic import run_scheduler
from scheduler.settings import Settings
from web.agenda_links import agenda_link_builder


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scheduler.jobs")
    parser.add_argument("process", choices=["worker", "scheduler"])
    parser.add_argument("--burst", action="store_true", help="worker: stop when queues are empty")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_env(os.environ)
    if settings.redis_url is None:
        raise SystemExit("REDIS_URL is not set: without Redis, jobs run inline in the web app")
    runtime = start(
        settings,
        link=agenda_link_builder(settings.secret_key, settings.base_url),
        namespace=os.environ.get("CADENCE_QUEUE_NAMESPACE", ""),
    )
    dispatcher = runtime.dispatcher
    assert isinstance(dispatcher, RQDispatcher)
    if args.process == "worker":
        from rq import Worker

        worker = Worker(dispatcher.queues(), connection=dispatcher.redis)
        worker.work(with_scheduler=True, burst=args.burst)
    else:
        run_scheduler(dispatcher)


if __name__ == "__main__":
    main()
