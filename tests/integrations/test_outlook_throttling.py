"""Graph's throttling rules: Retry-After honoured, 4 requests per mailbox, errors typed."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from integrations.base import NotFound, RateLimited, Transient
from integrations.outlook import OutlookCalendar
from integrations.outlook.graph import (
    BatchRequest,
    GraphRequestError,
    MailboxLimiter,
    batches,
    concurrency,
)
from integrations.retry import RetryPolicy
from scheduler.intervals import Interval
from tests.emulators.graph import GraphEmulator
from tests.fakes import MemoryTokenStore
from tests.integrations.outlook_support import MANAGER, REPS, Sleeps, make_calendar

pytest_plugins = ("tests.integrations.outlook_fixtures",)

WEEK = Interval(datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 14, tzinfo=UTC))


def test_a_real_retry_after_is_waited_out(graph: GraphEmulator, store: MemoryTokenStore) -> None:
    calendar = make_calendar(graph, store, time.sleep, retry=RetryPolicy(base_delay=0.0))
    graph.reset_counts()
    graph.fail(429, times=1, retry_after=0.2, path="/me/calendar/getSchedule")

    started = time.monotonic()
    calendar.free_busy([REPS[0]], WEEK)
    elapsed = time.monotonic() - started

    throttled, served = graph.calls
    assert (throttled.status, served.status) == (429, 200)
    gap = served.at - throttled.at
    print(f"Retry-After 0.2 s: next request {gap:.3f} s later, call took {elapsed:.3f} s")
    assert 0.2 <= gap < 0.6  # waited what Graph asked, not the policy's backoff


def run_in_threads(calendar: OutlookCalendar, threads: int, calls: int) -> int:
    """Call free_busy from ``threads`` threads; how many calls gave up throttled."""

    def work(n: int) -> int:
        gave_up = 0
        for _ in range(calls):
            try:
                calendar.free_busy([REPS[n % len(REPS)]], WEEK)
            except RateLimited:
                gave_up += 1
        return gave_up

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(work, range(threads)))


def test_never_more_than_four_requests_in_flight_per_mailbox(
    graph: GraphEmulator, store: MemoryTokenStore, sleeps: Sleeps
) -> None:
    graph.latency = 0.05
    shared = MailboxLimiter()
    # Two adapters for the same mailbox (say, a web request and a worker job) share the cap.
    first = make_calendar(graph, store, sleeps, limiter=shared)
    second = make_calendar(graph, store, sleeps, limiter=shared)
    graph.reset_counts()

    with ThreadPoolExecutor(2) as pool:
        gave_up = sum(pool.map(lambda c: run_in_threads(c, threads=6, calls=3), [first, second]))

    assert gave_up == 0
    assert graph.count("POST", "/me/calendar/getSchedule") == 36
    assert graph.max_in_flight[MANAGER] == 4  # the cap was reached, never passed
    assert all(c.status == 200 for c in graph.calls)


def test_without_the_cap_graph_would_throttle_the_mailbox(
    graph: GraphEmulator, store: MemoryTokenStore, sleeps: Sleeps
) -> None:
    """The same load through a looser limiter: the emulator sees more and answers 429."""
    graph.latency = 0.05
    loose = make_calendar(graph, store, sleeps, limiter=MailboxLimiter(limit=12))
    graph.reset_counts()

    run_in_threads(loose, threads=12, calls=2)

    assert graph.max_in_flight[MANAGER] > 4
    assert any(c.status == 429 for c in graph.calls)


def test_a_throttled_request_inside_a_batch_is_sent_again_alone(
    graph: GraphEmulator, calendar: OutlookCalendar, sleeps: Sleeps
) -> None:
    graph.fail(429, times=1, retry_after=0.2, path="/me/events/missing-2")
    answers = calendar.graph.batch(
        [BatchRequest(f"r{n}", "GET", f"/me/events/missing-{n}") for n in range(25)]
    )
    assert {status for status, _ in answers.values()} == {404}
    assert len(answers) == 25
    assert graph.count("POST", "/$batch") == 8  # 6 x 4 + 1, then the throttled one again
    assert graph.count("GET", "/me/events/missing-2", in_batch=True) == 2
    assert sleeps.waited == [0.2]


def test_a_batch_runs_at_most_four_independent_requests_for_one_mailbox(
    graph: GraphEmulator, calendar: OutlookCalendar, sleeps: Sleeps
) -> None:
    answers = calendar.graph.batch(
        [BatchRequest(f"r{n}", "GET", f"/me/events/missing-{n}") for n in range(9)]
    )
    assert {status for status, _ in answers.values()} == {404}  # none throttled
    assert graph.count("POST", "/$batch") == 3  # 4 + 4 + 1
    assert graph.max_in_flight[MANAGER] == 4 and sleeps.waited == []


def test_chained_requests_share_a_batch_since_they_run_one_after_another() -> None:
    chain = [BatchRequest("a", "GET", "/me")] + [
        BatchRequest(f"c{n}", "GET", "/me", depends_on=(f"c{n - 1}" if n else "a",))
        for n in range(10)
    ]
    assert concurrency(chain) == 1
    assert [len(b) for b in batches(chain)] == [11]
    wide = [BatchRequest(f"w{n}", "GET", "/me") for n in range(6)] + [
        BatchRequest(f"d{n}", "GET", "/me", depends_on=(f"w{n}",)) for n in range(6)
    ]
    assert [concurrency(b) for b in batches(wide)] == [4, 4, 4]


def test_the_emulator_throttles_the_fifth_independent_request_of_a_batch(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    """What the old single 9-request batch met: Graph's MailboxConcurrency inside $batch."""
    requests_ = [
        {"id": str(n), "method": "GET", "url": f"/me/events/missing-{n}"} for n in range(6)
    ]
    requests_.append({"id": "6", "method": "GET", "url": "/me", "dependsOn": ["0"]})
    answer = calendar.graph.call("POST", "/$batch", json={"requests": requests_})
    statuses = [r["status"] for r in answer["responses"]]
    assert statuses == [404, 404, 404, 404, 429, 429, 424]
    assert answer["responses"][4]["headers"]["Retry-After"] == "1"


def test_server_errors_and_timeouts_are_transient_and_retried(
    graph: GraphEmulator, store: MemoryTokenStore, sleeps: Sleeps
) -> None:
    calendar = make_calendar(graph, store, sleeps, timeout=0.3)
    graph.fail(500, times=1, path="/me/calendar/getSchedule")
    graph.fail(None, times=1, delay=0.5, path="/me/calendar/getSchedule")
    graph.reset_counts()

    assert REPS[0] in calendar.free_busy([REPS[0]], WEEK)
    assert len(sleeps.waited) == 2  # after the 500 and after the timeout

    graph.fail(502, times=5, path="/me/calendar/getSchedule")
    with pytest.raises(Transient):
        calendar.free_busy([REPS[0]], WEEK)


def test_client_errors_are_not_retried(graph: GraphEmulator, calendar: OutlookCalendar) -> None:
    with pytest.raises(NotFound):
        calendar.graph.call("GET", "/me/events/nope")
    with pytest.raises(GraphRequestError, match="RequestBodyRead"):
        calendar.graph.call("POST", "/me/events", json={"subject": "x", "colour": "red"})
    assert graph.count() == 2


def test_a_stale_access_token_is_refreshed_once_without_bothering_anyone(
    graph: GraphEmulator, calendar: OutlookCalendar, store: MemoryTokenStore
) -> None:
    saves = store.saves
    graph.expire_access_tokens()

    assert REPS[0] in calendar.free_busy([REPS[0]], WEEK)

    assert [c.status for c in graph.calls] == [401, 200]
    assert graph.identity.token_requests == 1
    assert store.saves == saves + 1
