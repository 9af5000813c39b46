"""The embedded default's background queue: one thread running jobs after their request
has answered (webhooks must answer at once, whatever the sync costs).

Coalescing is RQ's (``coalesce.request_once`` / ``started``): while a job is waiting under a
name, more requests for that name add nothing; the name is freed when the job starts, so a
change made after the job read the calendar always queues another. One thread runs the jobs
in order, so two syncs of a connection never run side by side.

A named job waits ``settle`` seconds before it starts: a calendar changed in bulk sends
hundreds of notifications a second, and without the wait each sync would start the moment
the one before ended, one after another for the whole burst, taking the process's time from
the webhooks it must answer. With it, a burst makes one sync per ``settle`` (plus the sync's
own time), each reading every change made until it started. The thread exits when the
queue is empty and a new one starts with the next job, so an idle app holds no thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundQueue:
    def __init__(self, name: str = "cadence-jobs", *, settle: float = 0.0) -> None:
        self._name = name
        self._settle = settle
        # (name, work, not before): in order of submission, so in order of "not before" too
        self._waiting: deque[tuple[str | None, Callable[[], object], float]] = deque()
        self._names: set[str] = set()
        self._busy = 0  # jobs waiting or running
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, name: str | None, work: Callable[[], object]) -> bool:
        """Queue ``work``; returns False (and queues nothing) if a job named ``name`` is
        already waiting."""
        with self._changed:
            if name is not None:
                if name in self._names:
                    return False
                self._names.add(name)
            wait = self._settle if name is not None else 0.0
            self._waiting.append((name, work, time.monotonic() + wait))
            self._busy += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        return True

    def drain(self, timeout: float) -> bool:
        """Wait until every queued job has run (at most ``timeout`` seconds); whether it did."""
        deadline = time.monotonic() + timeout
        with self._changed:
            return self._changed.wait_for(
                lambda: self._busy == 0, max(deadline - time.monotonic(), 0.0)
            )

    def _run(self) -> None:
        while True:
            with self._changed:
                if not self._waiting:
                    self._thread = None
                    return
                early = self._waiting[0][2] - time.monotonic()
                if early > 0:
                    self._changed.wait(early)
                    continue
                name, work, _ = self._waiting.popleft()
                if name is not None:
                    self._names.discard(name)  # started: later requests queue again
            try:
                work()
            except Exception:  # a job's own failure is recorded by its dispatcher
                log.exception("background job %s failed", name or work)
            finally:
                with self._changed:
                    self._busy -= 1
                    self._changed.notify_all()
