"""Rate limits on the doors people knock at: sign-in, sign-up, password reset, verification
re-sends. Each action has two limits (``Settings.rate_limits``): per account (the email
given) and per client address; an attempt over either is answered 429 with Retry-After and
a plain message, before the view runs (so a refused attempt costs no password hashing).

Counters use the ``limits`` package's moving window, in Redis when ``REDIS_URL`` is set
(shared by every web process) and in memory otherwise. A view takes a limit in one line::

    @bp.post("/password/reset")
    @rate_limited("password_reset")                     # the form's "email" field
    def reset(): ...

    @rate_limited("verification_resend", account=lambda: g.person.email)
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from scheduler.settings import Settings
from web.errors import error_answer

View = TypeVar("View", bound=Callable[..., Any])

_WHAT = {
    "signin": "sign-in attempts",
    "signup": "sign-up attempts",
    "password_reset": "password reset requests",
    "verification_resend": "verification emails",
}


@dataclass(frozen=True)
class Refusal:
    """An attempt over its limit: how long until the next one is allowed."""

    retry_after: int  # whole seconds, at least 1

    def message(self, action: str) -> str:
        minutes = math.ceil(self.retry_after / 60)
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        if self.retry_after < 60:
            wait = f"{self.retry_after} second{'s' if self.retry_after != 1 else ''}"
        return (
            f"Too many {_WHAT.get(action, 'attempts')} for this account or from your network. "
            f"Please wait {wait} and try again."
        )


class RateLimits:
    """The limits of every action, counted in one store."""

    def __init__(self, settings: Settings):
        config = settings.rate_limits
        if settings.redis_url:
            storage = storage_from_string(
                settings.redis_url,
                key_prefix=config.key_prefix,
                socket_timeout=1.0,
                socket_connect_timeout=1.0,
                wrap_exceptions=True,
            )
        else:
            storage = storage_from_string("memory://", wrap_exceptions=True)
        self._limiter = MovingWindowRateLimiter(storage)
        self._items: dict[str, tuple[RateLimitItem, RateLimitItem]] = {
            rule.action: (parse(rule.per_account), parse(rule.per_address)) for rule in config.rules
        }

    def attempt(self, action: str, *, account: str, address: str) -> Refusal | None:
        """Count one attempt at ``action``; a ``Refusal`` when it is over a limit.

        A store that does not answer lets the attempt through (and is logged): an outage of
        Redis must not lock everyone out of Cadence.
        """
        per_account, per_address = self._items[action]
        counted = [(per_address, ("address", _address_key(address)))]
        if account.strip():
            counted.append((per_account, ("account", _account_key(account))))
        waits = []
        try:
            for item, identifiers in counted:
                if not self._limiter.hit(item, action, *identifiers):
                    stats = self._limiter.get_window_stats(item, action, *identifiers)
                    waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        except StorageError as error:
            current_app.logger.warning("rate limit store unavailable: %s", error)
            return None
        return Refusal(max(waits)) if waits else None


def _account_key(email: str) -> str:
    """The email, hashed: the store never holds people's addresses."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _address_key(address: str) -> str:
    """The client's address; an IPv6 client by its /64 (one subscriber's whole network)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def init_rate_limits(app: Flask, settings: Settings) -> None:
    app.extensions["rate_limits"] = RateLimits(settings)
    hops = settings.rate_limits.trusted_proxies
    if hops:  # the client's address is the one the trusted proxies saw
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]


def rate_limits() -> RateLimits:
    return current_app.extensions["rate_limits"]  # type: ignore[no-any-return]


def too_many(action: str, refusal: Refusal) -> Response:
    """The 429 answer: a plain message, and when to come back."""
    answer = error_answer(429, refusal.message(action))
    answer.headers["Retry-After"] = str(refusal.retry_after)
    return answer


def rate_limited(
    action: str, *, account: str | Callable[[], str] = "email"
) -> Callable[[View], View]:
    """Count each POST to the view against ``action``'s limits: per account (the form field
    named ``account``, or what the callable returns) and per client address."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                who = account() if callable(account) else request.form.get(account, "")
                refusal = rate_limits().attempt(
                    action, account=who, address=request.remote_addr or ""
                )
                if refusal is not None:
                    return too_many(action, refusal)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
