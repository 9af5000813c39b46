"""At most N jobs at a time talk to one Outlook mailbox, across every worker process.

Graph throttles at about four concurrent requests per mailbox (PROVIDERS.md). The adapter
limits its own process; this Redis semaphore limits the whole fleet. Holders are entries in
a sorted set scored by their lease's end, so a worker killed while holding one frees it when
the lease runs out.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from integrations.base import Transient

if TYPE_CHECKING:
    from scheduler.jobs.dispatch import RQDispatcher

_ACQUIRE = """
local now = tonumber(ARGV[1])
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('zadd', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
  redis.call('expire', KEYS[1], math.ceil(tonumber(ARGV[3])) + 1)
  return 1
end
return 0
"""


class MailboxBusy(Transient):
    """Every slot of the mailbox stayed taken while we waited: retry the job later."""


@contextmanager
def mailbox_slot(
    dispatcher: RQDispatcher,
    mailbox: str,
    *,
    limit: int,
    lease: float,
    wait: float,
    poll: float = 0.05,
) -> Iterator[None]:
    """Hold one of ``limit`` slots of ``mailbox`` for the block (``lease`` seconds at most)."""
    key = dispatcher.key("mailbox", mailbox.lower())
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while not dispatcher.redis.eval(
        _ACQUIRE, 1, key, str(time.time()), str(limit), str(lease), token
    ):
        if time.monotonic() >= deadline:
            raise MailboxBusy(f"{limit} jobs already use mailbox {mailbox}")
        time.sleep(poll)
    try:
        yield
    finally:
        dispatcher.redis.zrem(key, token)
