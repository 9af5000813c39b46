"""The one ``Retry-After`` reader both Google and Graph answers go through."""

from __future__ import annotations

from datetime import UTC, datetime

from integrations.base import RateLimited, Transient
from integrations.retry import RetryPolicy, retry_after_seconds

NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def test_delta_seconds_and_http_dates_both_read() -> None:
    assert retry_after_seconds("7", now=NOW) == 7.0
    assert retry_after_seconds("Mon, 07 Dec 2026 14:00:30 GMT", now=NOW) == 30.0
    assert retry_after_seconds("Mon, 07 Dec 2026 14:00:30 -0000", now=NOW) == 30.0


def test_past_dates_negative_values_and_garbage_never_wait_or_break() -> None:
    assert retry_after_seconds("Mon, 07 Dec 2026 13:00:00 GMT", now=NOW) == 0.0
    assert retry_after_seconds("-3", now=NOW) == 0.0
    assert retry_after_seconds("soon", now=NOW) is None
    assert retry_after_seconds(None, now=NOW) is None


def test_the_policy_waits_what_a_transient_answer_asked() -> None:
    waited: list[float] = []
    policy = RetryPolicy(attempts=3, base_delay=0.001, sleep=waited.append)
    answers = iter([Transient("503", retry_after=2.5), RateLimited("429", 1.5)])

    def flaky() -> str:
        error = next(answers, None)
        if error is not None:
            raise error
        return "done"

    assert policy.call(flaky) == "done"
    assert waited == [2.5, 1.5]
