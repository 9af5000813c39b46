"""What a job needs, built once per process (worker, scheduler or web) and passed in.

Jobs take ids, never objects; everything else they need — the database, the calendars, the
clock, where to enqueue follow-up work — comes from the ``Runtime`` installed when the process
started. Nothing here is created at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from integrations.base import CalendarProvider
from integrations.factory import CalendarOpener
from integrations.retry import RetryPolicy
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.models import CalendarConnection
from scheduler.settings import Settings
from scheduler.usecases.agendas import AgendaLink

if TYPE_CHECKING:
    from redis import Redis

    from scheduler.jobs.dispatch import Dispatcher

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Tuning:
    """The pipeline's knobs; defaults are production values, tests shrink the waits."""

    # The next occurrence's agenda is refreshed this long before it starts.
    agenda_lead: timedelta = timedelta(hours=24)
    conflict_weeks: int = 4
    # Push channels are replaced or renewed when less than this is left.
    renew_channels_within: timedelta = timedelta(hours=24)
    # A series still ``booking`` after this long lost its worker: finish it.
    booking_stale_after: timedelta = timedelta(minutes=5)
    # Graph allows about four concurrent requests per mailbox (PROVIDERS.md).
    mailbox_limit: int = 4
    mailbox_wait: timedelta = timedelta(seconds=20)
    # Seconds between RQ retries of a RateLimited / Transient failure.
    retry_intervals: tuple[int, ...] = (10, 60, 300)
    # The adapter's own in-call retries stay short: the queue retries later instead.
    adapter_retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(attempts=3, base_delay=0.5, max_delay=5.0)
    )
    # A running job beats this often (its worker's heartbeat, and the lease of its lock)...
    job_heartbeat: timedelta = timedelta(seconds=10)
    # ...and with no beat for this long its worker is gone: the job counts as abandoned.
    job_abandoned_after: timedelta = timedelta(seconds=40)
    # How often the scheduler process puts abandoned jobs back on their queues.
    requeue_abandoned_every: timedelta = timedelta(seconds=30)
    # A worker that lost Redis tries again at most this long apart (RQ doubles its wait up to
    # a minute, so a worker could sit out a minute of work after Redis came back).
    redis_retry_at_most: timedelta = timedelta(seconds=5)

    @property
    def lock_lease(self) -> int:
        """Seconds a running job's lock outlives its last beat: a beat less than the job
        itself, so the job's re-run finds the lock free."""
        return int((self.job_abandoned_after - self.job_heartbeat).total_seconds())


@dataclass
class Runtime:
    """One process's collaborators. ``jobs`` is set by the dispatcher that owns this runtime."""

    settings: Settings
    database: Database
    cipher: TokenCipher
    calendars: CalendarOpener
    link: AgendaLink
    clock: Clock = utc_now
    tuning: Tuning = field(default_factory=Tuning)
    redis: Redis | None = None
    jobs: Dispatcher | None = None

    def calendar(self, connection: CalendarConnection) -> CalendarProvider:
        return self.calendars(connection)

    def callback_url(self, provider: str) -> str:
        """Where a provider's push notifications for Cadence arrive."""
        return f"{self.settings.base_url}/webhooks/{provider}"

    @property
    def dispatcher(self) -> Dispatcher:
        if self.jobs is None:
            raise RuntimeError("no dispatcher: build the runtime with scheduler.jobs.start()")
        return self.jobs


_current: Runtime | None = None


def install(runtime: Runtime) -> Runtime:
    """Make ``runtime`` the one jobs in this process use (worker start, app start, tests)."""
    global _current
    _current = runtime
    return runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no Runtime installed in this process (see scheduler.jobs.start)")
    return _current
