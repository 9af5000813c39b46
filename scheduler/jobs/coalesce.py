"""Bursts of notifications for one connection become one sync.

- While a sync of a connection is *queued*, more requests add nothing: a marker key
  (``SET NX``) says one is waiting, and the job removes it before it reads the calendar, so a
  change made after that read is always followed by another request that enqueues again.
- While a sync is *running*, a second job for the same connection does not run beside it: it
  raises the connection's ``dirty`` flag and leaves; the running job syncs again before it lets
  go of the lock, and looks at the flag once more after, so no request is lost in between.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler.jobs.dispatch import RQDispatcher

# A queued marker outlives a lost enqueue by at most this long (the daily full sync and the
# next notification recover it).
MARKER_TTL = 120
MAX_ROUNDS = 10


def request_once(
    dispatcher: RQDispatcher, marker: str, enqueue: Callable[[], None], *, ttl: int = MARKER_TTL
) -> bool:
    """Enqueue unless a job for ``marker`` is already waiting; returns whether it enqueued."""
    key = dispatcher.key("queued", marker)
    if not dispatcher.redis.set(key, "1", nx=True, ex=ttl):
        return False
    try:
        enqueue()
    except Exception:
        dispatcher.redis.delete(key)
        raise
    return True


def started(dispatcher: RQDispatcher, marker: str) -> None:
    """The waiting job has begun: requests from now on must enqueue a new one."""
    dispatcher.redis.delete(dispatcher.key("queued", marker))


def exclusive_rounds(
    dispatcher: RQDispatcher, name: str, *, lease: int, renew_every: float | None = None
) -> Iterator[int]:
    """Rounds of work for ``name``, one process at a time.

    Yields nothing if another process holds the lock (it will do our round for us); otherwise
    yields once, then again each time someone asked meanwhile (at most ``MAX_ROUNDS``).
    ``lease`` (seconds) frees the lock if this process dies holding it; with ``renew_every``
    a thread renews the lease that often while the lock is held, the way the job's own
    heartbeat goes, so a short lease serves a round of any length.
    """
    redis = dispatcher.redis
    lock, dirty = dispatcher.key("lock", name), dispatcher.key("dirty", name)
    token = uuid.uuid4().hex
    rounds = 0
    redis.set(dirty, "1")
    while rounds < MAX_ROUNDS and redis.set(lock, token, nx=True, ex=lease):
        try:
            with kept_lease(dispatcher, lock, token, lease=lease, every=renew_every):
                while rounds < MAX_ROUNDS and redis.getdel(dirty):
                    rounds += 1
                    yield rounds
        finally:
            release_lock(dispatcher, lock, token)
        if not redis.exists(dirty):
            return


_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end
return 0
"""


@contextmanager
def kept_lease(
    dispatcher: RQDispatcher, lock: str, token: str, *, lease: int, every: float | None
) -> Iterator[None]:
    """While the block runs, renew ``lock`` (held by ``token``) to ``lease`` seconds every
    ``every`` seconds (``None``: never); a lock another process took since is left alone."""
    if every is None:
        yield
        return
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(every):
            with suppress(Exception):  # Redis briefly away: the next renewal tries again
                dispatcher.redis.eval(_RENEW, 1, lock, token, str(lease))

    thread = threading.Thread(target=renew, name=f"lease-{lock}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def release_lock(dispatcher: RQDispatcher, lock: str, token: str) -> None:
    """Free ``lock`` if ``token`` still holds it (atomically: a lock whose lease ran out and
    that another process took since is left alone)."""
    with suppress(Exception):  # an unreleased lock expires with its lease
        dispatcher.redis.eval(_RELEASE, 1, lock, token)


# Claim a Google message: raise the channel's highest claimed number to ARGV[1], atomically,
# only if it is higher; 1 if it was.
_CLAIM = """
local previous = tonumber(redis.call('get', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= previous then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
_UNCLAIM = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
# A channel lives at most a week (Google); its numbers are kept a day longer.
_MESSAGE_TTL = 8 * 24 * 3600


def claim_message(dispatcher: RQDispatcher, channel_id: str, number: int) -> bool:
    """Whether this delivery of Google message ``number`` is the one to act on: one Redis
    script raises the channel's highest claimed number, so of concurrent deliveries exactly
    one gets True, and a number not above one claimed before (a replay) gets False."""
    key = dispatcher.key("channel-message", channel_id)
    return bool(dispatcher.redis.eval(_CLAIM, 1, key, str(number), str(_MESSAGE_TTL)))


def release_message(dispatcher: RQDispatcher, channel_id: str, number: int) -> None:
    """Give a claim back if nothing claimed past it since (its sync could not be queued)."""
    with suppress(Exception):  # Redis is what failed: the key then holds no claim to undo
        dispatcher.redis.eval(
            _UNCLAIM, 1, dispatcher.key("channel-message", channel_id), str(number)
        )
