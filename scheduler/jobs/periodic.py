"""Periodic jobs, declared once as data, run by exactly one scheduler.

With Redis, ``run_scheduler`` holds a lease-lock so a second scheduler process only waits,
and keeps each job's last run in a Redis hash keyed by the job's stable name: a restarted
scheduler picks up where the last one stopped, never running a job twice in one interval. It
also puts jobs that dead workers abandoned back on their queues (``abandoned``).
Without Redis, ``EmbeddedTimer`` runs the same list inline from a thread of the web process.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from scheduler.jobs import tasks
from scheduler.jobs.abandoned import requeue_abandoned
from scheduler.jobs.coalesce import release_lock
from scheduler.jobs.dispatch import Dispatcher, RQDispatcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str  # stable: the key of its last run; renaming one runs it afresh
    every: timedelta
    function: Callable[..., Any]


PERIODIC: tuple[Periodic, ...] = (
    Periodic(
        "bookings.finish_interrupted", timedelta(minutes=5), tasks.finish_interrupted_bookings
    ),
    Periodic("sync.poll_unwatched", timedelta(minutes=5), tasks.poll_unwatched),
    # Picks the connections whose stored busy time is older than the refresh setting.
    Periodic("availability.refresh_stale", timedelta(minutes=5), tasks.refresh_stale_availability),
    # Pending conflicts: resolved (nothing sent), moved automatically, or mailed.
    Periodic("conflicts.notify", timedelta(minutes=15), tasks.notify_conflicts),
    Periodic("agendas.refresh_due", timedelta(minutes=15), tasks.refresh_due_agendas),
    Periodic("sessions.excuse", timedelta(hours=6), tasks.excuse_all),
    Periodic("sessions.reclassify", timedelta(hours=1), tasks.reclassify_sessions),
    Periodic("reports.digests", timedelta(hours=1), tasks.send_digests),
    Periodic("debriefs.chase", timedelta(minutes=15), tasks.chase_debriefs),
    # Hourly, so that each rep's email goes within the hour after 08:00 on their Monday.
    Periodic("action_items.rep_mails", timedelta(hours=1), tasks.send_rep_items),
    Periodic("mail.retry", timedelta(minutes=5), tasks.retry_mail),
    # Password sign-ups whose address nobody confirmed within CADENCE_UNCONFIRMED_DAYS.
    Periodic("accounts.undo_unconfirmed", timedelta(hours=1), tasks.undo_unconfirmed_sign_ups),
    Periodic("channels.renew", timedelta(hours=1), tasks.renew_channels),
    Periodic("sync.reconcile_all", timedelta(days=1), tasks.reconcile_all),
    Periodic("sessions.extend_horizon", timedelta(days=1), tasks.extend_horizons),
    Periodic("series.scan_conflicts", timedelta(days=1), tasks.scan_conflicts),
    Periodic("series.detect_stopped", timedelta(days=1), tasks.detect_stopped),
)


def due(
    schedule: tuple[Periodic, ...], last_runs: Mapping[str, float], now: float
) -> list[Periodic]:
    """The jobs whose interval has passed since their last run (never run: due now)."""
    return [
        job
        for job in schedule
        if now - last_runs.get(job.name, float("-inf")) >= job.every.total_seconds()
    ]


def run_scheduler(
    dispatcher: RQDispatcher,
    schedule: tuple[Periodic, ...] = PERIODIC,
    *,
    tick: float = 1.0,
    lease: int = 30,
    stop: threading.Event | None = None,
    ticks: int | None = None,
    requeue_every: float = 30.0,
) -> None:
    """Enqueue each periodic job when due, and every ``requeue_every`` seconds put the jobs
    dead workers abandoned back on their queues, while holding the scheduler lock.

    Stops when ``stop`` is set or after ``ticks`` ticks (tests); otherwise runs forever.
    """
    redis = dispatcher.redis
    lock, runs = dispatcher.key("scheduler", "lock"), dispatcher.key("scheduler", "last-run")
    me = uuid.uuid4().hex
    _forget_undeclared(dispatcher, schedule)
    count = 0
    swept = float("-inf")
    try:
        while (ticks is None or count < ticks) and not (stop and stop.is_set()):
            count += 1
            if _hold(dispatcher, lock, me, lease):
                if time.time() - swept >= requeue_every:
                    swept = time.time()
                    for job_id in requeue_abandoned(dispatcher, now=swept):
                        log.warning("requeued job %s: its worker stopped beating", job_id)
                # redis-py types a synchronous client's replies as possibly awaitable.
                stored = cast("dict[bytes, bytes]", redis.hgetall(runs))
                last = {k.decode(): float(v) for k, v in stored.items()}
                for job in due(schedule, last, time.time()):
                    # Written before enqueueing: a crash in between skips a run, never doubles it.
                    redis.hset(runs, job.name, str(time.time()))
                    dispatcher.enqueue(job.function)
                    log.info("enqueued periodic job %s", job.name)
            if ticks is None or count < ticks:
                (stop.wait if stop is not None else time.sleep)(tick)
    finally:
        # A clean exit hands over at once; a killed scheduler's lease runs out instead.
        release_lock(dispatcher, lock, me)


def _hold(dispatcher: RQDispatcher, lock: str, me: str, lease: int) -> bool:
    """Take the scheduler lock, or extend it if ours; false while another scheduler has it."""
    redis = dispatcher.redis
    if redis.set(lock, me, nx=True, ex=lease):
        return True
    # redis-py types a synchronous client's replies as possibly awaitable.
    if (cast("bytes | None", redis.get(lock)) or b"").decode() == me:
        redis.expire(lock, lease)
        return True
    return False


def _forget_undeclared(dispatcher: RQDispatcher, schedule: tuple[Periodic, ...]) -> None:
    """Reconcile the stored schedule with the declared one: drop jobs no longer declared."""
    runs = dispatcher.key("scheduler", "last-run")
    declared = {job.name for job in schedule}
    # redis-py types a synchronous client's replies as possibly awaitable.
    stored = cast("list[bytes]", dispatcher.redis.hkeys(runs))
    stale = [name for name in (k.decode() for k in stored) if name not in declared]
    if stale:
        dispatcher.redis.hdel(runs, *stale)


class EmbeddedTimer:
    """The embedded default's scheduler: a daemon thread running due jobs inline."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        schedule: tuple[Periodic, ...] = PERIODIC,
        *,
        tick: float = 30.0,
    ):
        self._dispatcher = dispatcher
        self._schedule = schedule
        self._tick = tick
        self._last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cadence-periodic", daemon=True)

    def start(self) -> EmbeddedTimer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def run_due(self) -> list[str]:
        """Run every job that is due now; returns their names."""
        ran = []
        for job in due(self._schedule, self._last, time.monotonic()):
            self._last[job.name] = time.monotonic()
            self._dispatcher.enqueue(job.function)
            ran.append(job.name)
        return ran

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:  # the timer outlives one bad run; the failure is in the log
                log.exception("periodic jobs failed")
            self._stop.wait(self._tick)
