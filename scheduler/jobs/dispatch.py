"""Where jobs go: onto RQ queues in Redis, or — the embedded default — run right away.

Both dispatchers take the same calls, so use cases and web handlers never know which one
they have: ``enqueue(job_function, *ids, **keywords)``, and ``enqueue_later`` for callers
that must answer first (webhooks), with an optional coalescing ``name``. With Redis both go
to RQ; embedded, ``enqueue`` runs the job in the caller's thread (a page that asked for it
shows its result) and ``enqueue_later`` hands it to the in-process ``BackgroundQueue``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from scheduler.jobs import coalesce
from scheduler.jobs.background import BackgroundQueue
from scheduler.jobs.registry import declared
from scheduler.jobs.runtime import Runtime

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

log = logging.getLogger(__name__)

QUEUES = ("booking", "sync", "mail", "periodic")
# Failed jobs stay in RQ's registry a week (admins also see them in the audit log).
FAILURE_TTL = 7 * 24 * 3600
RESULT_TTL = 600


class Dispatcher(Protocol):
    def enqueue(
        self, function: Callable[..., Any], *args: Any, job_id: str | None = None, **kwargs: Any
    ) -> None:
        """Run ``function`` (declared with ``@job``) with ``args`` now or on a worker."""
        ...

    def enqueue_later(
        self, function: Callable[..., Any], *args: Any, name: str | None = None, **kwargs: Any
    ) -> bool:
        """Run ``function`` after the caller has answered; while a job ``name`` is waiting,
        adds nothing and returns False."""
        ...


# How long a coalesced background job (a webhook's sync) waits before it starts, gathering
# the notifications of a burst into it (see ``BackgroundQueue``): a quarter of the 2 s a
# change may take to reach its session.
COALESCED_JOB_SETTLE = 0.25


class InlineDispatcher:
    """No Redis: a job runs in the caller's thread, or (``enqueue_later``) on this process's
    background thread; its failure is recorded, not raised.

    Nothing is retried inline; the periodic reconciliation catches up with what failed.
    """

    def __init__(self, runtime: Runtime):
        self._runtime = runtime
        self.background = BackgroundQueue(settle=COALESCED_JOB_SETTLE)

    def enqueue_later(
        self, function: Callable[..., Any], *args: Any, name: str | None = None, **kwargs: Any
    ) -> bool:
        return self.background.submit(name, lambda: self.enqueue(function, *args, **kwargs))

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait (at most ``timeout`` seconds) for the background jobs; whether they ran."""
        return self.background.drain(timeout)

    def enqueue(
        self, function: Callable[..., Any], *args: Any, job_id: str | None = None, **kwargs: Any
    ) -> None:
        try:
            declared(function).perform(self._runtime, *args, **kwargs)
        except Exception:
            log.exception("inline job %s failed", function.__name__)


class RQDispatcher:
    """Jobs on RQ queues named by purpose; ``namespace`` keeps test runs apart."""

    def __init__(self, redis: Redis, runtime: Runtime, *, namespace: str = ""):
        self.redis = redis
        self.namespace = namespace
        self._runtime = runtime

    def queue(self, purpose: str) -> Queue:
        from rq import Queue

        return Queue(self.namespace + purpose, connection=self.redis)

    def queues(self) -> list[Queue]:
        return [self.queue(purpose) for purpose in QUEUES]

    def key(self, *parts: str) -> str:
        """A Redis key of Cadence's own (coalescing flags, locks, semaphores)."""
        return ":".join(("cadence", self.namespace.rstrip(":") or "main", *parts))

    def enqueue_later(
        self, function: Callable[..., Any], *args: Any, name: str | None = None, **kwargs: Any
    ) -> bool:
        if name is None:
            self.enqueue(function, *args, **kwargs)
            return True
        return coalesce.request_once(self, name, lambda: self.enqueue(function, *args, **kwargs))

    def enqueue(
        self, function: Callable[..., Any], *args: Any, job_id: str | None = None, **kwargs: Any
    ) -> None:
        from rq import Retry

        spec = declared(function).spec
        intervals = list(self._runtime.tuning.retry_intervals)
        self.queue(spec.queue).enqueue_call(
            function,
            args=args,
            kwargs=kwargs,
            job_id=job_id,
            timeout=spec.timeout,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            retry=Retry(max=spec.retries, interval=intervals) if spec.retries else None,
        )
