"""One retry policy for every provider: bounded exponential backoff with full jitter.

A provider's ``Retry-After`` wins over the computed delay, on every retryable answer (429,
503, ...): Graph requires it, and Google's ``execute(num_retries=...)`` ignores it, which is
why adapters call this instead. ``retry_after_seconds`` is the one reader of that header.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from integrations.base import RateLimited, Transient

T = TypeVar("T")


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for: delta-seconds or an HTTP date (RFC 9110
    10.2.3), never negative; ``None`` when absent or unreadable."""
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": the date is UTC anyway (RFC 5322)
        when = when.replace(tzinfo=now.tzinfo)
    return max((when - now).total_seconds(), 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before try number ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return self.rng.uniform(0, ceiling)

    def call(self, operation: Callable[[], T]) -> T:
        """Run ``operation``; retry ``RateLimited`` and ``Transient``; re-raise the last one."""
        for attempt in range(1, self.attempts + 1):
            try:
                return operation()
            except (RateLimited, Transient) as error:
                if attempt == self.attempts:
                    raise
                self.sleep(self.delay(attempt, error.retry_after))
        raise AssertionError("unreachable: the loop returns or raises")
