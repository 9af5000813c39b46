"""Cadence's background pipeline: jobs on RQ queues in Redis, or inline without Redis.

- ``registry``  the ``@job`` decorator: queue, timeout, retries only for RateLimited/Transient
- ``tasks``     the jobs (ids in, one use case called) and the periodic fan-outs
- ``periodic``  the periodic jobs as data; the single scheduler; the embedded timer
- ``dispatch``  ``RQDispatcher`` / ``InlineDispatcher``
- ``coalesce``  a burst of notifications for one connection becomes one sync
- ``mailbox``   at most four jobs at once per Outlook mailbox, fleet-wide
- ``runtime``   what jobs need, built once per process by ``start``

Processes: ``python -m scheduler.jobs worker`` and ``python -m scheduler.jobs scheduler``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from integrations.factory import CalendarOpener, connection_calendars
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.jobs.dispatch import InlineDispatcher, RQDispatcher
from scheduler.jobs.runtime import Clock, Runtime, Tuning, install, utc_now
from scheduler.settings import Settings
from scheduler.usecases.agendas import AgendaLink

if TYPE_CHECKING:
    from redis import Redis


def start(settings: Settings, **options: Any) -> Runtime:
    """``build`` this process's ``Runtime`` and install it as the one RQ jobs run in."""
    return install(build(settings, **options))


def build(
    settings: Settings,
    *,
    link: AgendaLink,
    database: Database | None = None,
    calendars: CalendarOpener | None = None,
    clock: Clock | None = None,
    tuning: Tuning | None = None,
    redis: Redis | None = None,
    namespace: str = "",
) -> Runtime:
    """This process's ``Runtime`` with its dispatcher.

    Jobs go to Redis when ``settings.redis_url`` is set (or ``redis`` is given) and run
    inline otherwise.
    """
    database = database or Database(settings.database_url)
    cipher = TokenCipher(settings.token_keys)
    tuning = tuning or Tuning(agenda_lead=timedelta(hours=settings.agenda_lead_hours))
    if redis is None and settings.redis_url is not None:
        redis = _connect(settings.redis_url)
    runtime = Runtime(
        settings=settings,
        database=database,
        cipher=cipher,
        calendars=calendars
        or connection_calendars(settings, database, cipher, retry=tuning.adapter_retry),
        link=link,
        clock=clock or utc_now,
        tuning=tuning,
        redis=redis,
    )
    runtime.jobs = (
        RQDispatcher(redis, runtime, namespace=namespace)
        if redis is not None
        else InlineDispatcher(runtime)
    )
    return runtime


def _connect(url: str) -> Redis:
    """A Redis client that rides out a restart: a dropped pooled connection is retried on a
    fresh one instead of failing the request or job that happened to use it."""
    from redis import Redis
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError, TimeoutError
    from redis.retry import Retry

    return Redis.from_url(
        url,
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
        retry_on_error=[ConnectionError, TimeoutError],
    )


__all__ = ["Runtime", "Tuning", "build", "start"]
