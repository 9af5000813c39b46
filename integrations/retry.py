"""One retry policy for every provider: bounded exponential backoff with full jitter.

A provider's ``Retry-After`` wins over the computed delay (Graph requires it; Google's
``execute(num_retries=...)`` ignores it, which is why adapters call this instead).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from integrations.base import RateLimited, Transient

T = TypeVar("T")


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
                retry_after = error.retry_after if isinstance(error, RateLimited) else None
                self.sleep(self.delay(attempt, retry_after))
        raise AssertionError("unreachable: the loop returns or raises")
