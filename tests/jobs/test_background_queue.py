"""The embedded background queue: coalesced jobs wait a moment, gathering a burst."""

from __future__ import annotations

import threading
import time

from scheduler.jobs.background import BackgroundQueue


def test_a_burst_of_requests_during_the_settle_time_makes_one_run():
    queue = BackgroundQueue(settle=0.3)
    runs: list[float] = []
    asked = time.monotonic()
    accepted = [queue.submit("sync:c1", lambda: runs.append(time.monotonic())) for _ in range(50)]
    assert queue.drain(5)
    assert accepted.count(True) == 1 and len(runs) == 1
    assert runs[0] - asked >= 0.3  # it waited for the burst to gather


def test_without_a_settle_time_the_job_starts_at_once_and_later_asks_queue_again():
    queue = BackgroundQueue()
    started, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def first() -> None:
        started.set()
        release.wait(5)
        runs.append(1)

    assert queue.submit("sync:c1", first)
    assert started.wait(5)  # running: its name is free again
    assert queue.submit("sync:c1", lambda: runs.append(2))
    release.set()
    assert queue.drain(5) and runs == [1, 2]


def test_an_unnamed_job_does_not_wait_for_the_settle_time():
    queue = BackgroundQueue(settle=5.0)
    ran = threading.Event()
    queue.submit(None, ran.set)
    assert ran.wait(2)
