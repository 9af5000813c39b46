"""The one decorator every job is declared with (Redash's shape).

``@job("sync", timeout=300, subject="CalendarConnection")`` fixes the queue, the time limit
and what a failure is recorded against. Per-object jobs take ``(org_id, object_id, ...)``;
new arguments go last, as keywords with defaults, so jobs queued before a deploy still run.

Only ``RateLimited`` and ``Transient`` (and the database being briefly unreachable) are
retried, by RQ with backoff; any other error ends the job at once. A job's last failure is
written where admins see it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from sqlalchemy.exc import OperationalError

from integrations.base import RateLimited, Transient
from scheduler.jobs.runtime import Runtime, current

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# A provider asking us to slow down or failing for now, or the database briefly unreachable
# (a restart, a failover, a deadlock victim): worth trying again. Nothing else is.
RETRYABLE = (RateLimited, Transient, OperationalError)


@dataclass(frozen=True)
class JobSpec:
    name: str
    queue: str
    timeout: int  # seconds; RQ kills the job after this
    retries: int  # how many times a RateLimited / Transient failure is tried again
    subject: str | None  # the table the job's ``object_id`` names, for failure records


class Job(Generic[P, R]):
    """A declared job: its function (which takes the ``Runtime`` first) and its spec."""

    def __init__(self, function: Callable[Concatenate[Runtime, P], R], spec: JobSpec):
        self.function = function
        self.spec = spec

    def perform(self, runtime: Runtime, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run once in ``runtime``; record the failure if it will not be retried."""
        try:
            return self.function(runtime, *args, **kwargs)
        except Exception as error:
            final = not isinstance(error, RETRYABLE) or not _rq_will_retry()
            if final:
                _forbid_rq_retry()
                _record(runtime, self.spec, args, error)
            raise


def job(
    queue: str, *, timeout: int, retries: int = 3, subject: str | None = None
) -> Callable[[Callable[Concatenate[Runtime, P], R]], Callable[P, R]]:
    """Declare a job on ``queue`` (booking, sync, mail or periodic)."""

    def declare(function: Callable[Concatenate[Runtime, P], R]) -> Callable[P, R]:
        spec = JobSpec(function.__name__, queue, timeout, retries, subject)
        return _as_function(Job(function, spec))

    return declare


def _as_function(declared: Job[P, R]) -> Callable[P, R]:
    """A plain module-level function taking ids only (RQ stores jobs by import path) that
    runs in this process's installed runtime; it carries its ``Job`` as ``.job``."""

    @functools.wraps(declared.function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return declared.perform(current(), *args, **kwargs)

    run.job = declared  # type: ignore[attr-defined]
    return run


def declared(function: Callable[..., Any]) -> Job[Any, Any]:
    """The ``Job`` behind a function declared with ``@job``."""
    found = getattr(function, "job", None)
    if not isinstance(found, Job):
        raise TypeError(f"{function!r} is not declared with @job")
    return found


def _rq_will_retry() -> bool:
    from rq import get_current_job

    running = get_current_job()
    return running is not None and running.should_retry


def _forbid_rq_retry() -> None:
    """RQ retries whatever was enqueued with ``Retry``; a lost grant or a bug must not be."""
    from rq import get_current_job

    running = get_current_job()
    if running is not None:
        running.retries_left = 0


def _record(runtime: Runtime, spec: JobSpec, args: tuple[Any, ...], error: Exception) -> None:
    from scheduler.usecases.job_failures import record_job_failure

    log.warning("job %s%r failed: %s: %s", spec.name, args, type(error).__name__, error)
    if spec.subject is None or len(args) < 2:
        return  # fan-out jobs have no organisation; their failure stays in RQ's registry
    try:
        record_job_failure(
            runtime.database,
            org_id=str(args[0]),
            job=spec.name,
            subject_type=spec.subject,
            subject_id=str(args[1]),
            error=error,
            now=runtime.clock(),
        )
    except Exception:  # the database may be what failed; the log line above still stands
        log.exception("could not record the failure of %s", spec.name)
