"""The Graph HTTP client: typed errors, throttling, pagination, ``$batch``, mailbox cap.

Every request carries a fresh token from ``TokenSource``, runs under the shared
``RetryPolicy`` (Graph's ``Retry-After`` wins over backoff), and holds one of the mailbox's
slots while it is on the wire: Graph throttles an app at about 4 concurrent requests per
mailbox (learn.microsoft.com/graph/throttling-limits, "Outlook service limits"). The
requests inside one ``$batch`` count too (Graph runs the independent ones at once and
answers the fifth 429 ``MailboxConcurrency``): a batch holds at most 4 independent requests,
and as many slots as it runs at once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests

from integrations.base import (
    NotFound,
    ProviderError,
    RateLimited,
    ReconnectRequired,
    Transient,
)
from integrations.outlook.auth import TokenSource
from integrations.retry import RetryPolicy, retry_after_seconds

MAILBOX_CONCURRENCY = 4
BATCH_LIMIT = 20  # learn.microsoft.com/graph/json-batching
_THROTTLED = {429, 503, 504}


class GraphRequestError(ProviderError):
    """Graph refused a request as malformed or not allowed: a bug, not worth retrying."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


class Conflict(GraphRequestError):
    """409: the object already exists (e.g. a repeated transactionId)."""


class SyncReset(ProviderError):
    """Graph no longer knows a delta token (410 / ``SyncStateNotFound``): sync again."""


class MailboxLimiter:
    """At most ``limit`` requests in flight per mailbox, across every adapter in a process;
    a ``$batch`` takes as many slots as it runs requests at once."""

    def __init__(self, limit: int = MAILBOX_CONCURRENCY):
        self._limit = limit
        self._busy: Counter[str] = Counter()
        self._freed = threading.Condition()

    @contextmanager
    def slot(self, mailbox: str, weight: int = 1) -> Iterator[None]:
        key, weight = mailbox.lower(), min(max(weight, 1), self._limit)
        with self._freed:
            # All slots at once, or none: two batches each holding some could never finish.
            self._freed.wait_for(lambda: self._busy[key] + weight <= self._limit)
            self._busy[key] += weight
        try:
            yield
        finally:
            with self._freed:
                self._busy[key] -= weight
                if not self._busy[key]:
                    del self._busy[key]
                self._freed.notify_all()


SHARED_LIMITER = MailboxLimiter()


@dataclass(frozen=True)
class BatchRequest:
    """One request inside ``$batch``; ``url`` is relative to the version root (``/me/...``)."""

    id: str
    method: str
    url: str
    body: Mapping[str, Any] | None = None
    depends_on: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)


def concurrency(requests_: Sequence[BatchRequest]) -> int:
    """How many of ``requests_`` Graph runs at once in one ``$batch``: the most at one depth
    of their ``dependsOn`` chains (a request waits for those it depends on in the batch)."""
    depth: dict[str, int] = {}
    for request in requests_:
        depth[request.id] = 1 + max(
            (depth[d] for d in request.depends_on if d in depth), default=-1
        )
    return max(Counter(depth.values()).values(), default=0)


def batches(
    requests_: Sequence[BatchRequest],
    *,
    width: int = MAILBOX_CONCURRENCY,
    size: int = BATCH_LIMIT,
) -> Iterator[list[BatchRequest]]:
    """``requests_`` in order, cut into ``$batch`` bodies of at most ``size`` requests of
    which at most ``width`` run at once (dependencies come before their dependents)."""
    chunk: list[BatchRequest] = []
    for request in requests_:
        if chunk and (len(chunk) == size or concurrency([*chunk, request]) > width):
            yield chunk
            chunk = []
        chunk.append(request)
    if chunk:
        yield chunk


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    return retry_after_seconds(value, now=datetime.now(UTC))


def error_for(status: int, headers: Mapping[str, str], body: Any) -> ProviderError | None:
    """The typed error a Graph status means, or ``None`` for success."""
    if status < 400:
        return None
    error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
    code, message = error.get("code", ""), error.get("message", "")
    if status in _THROTTLED:
        return RateLimited(f"{status} {code}: {message}", retry_after(headers))
    if status >= 500:
        return Transient(f"{status} {code}: {message}", retry_after(headers))
    if status == 401:
        return ReconnectRequired(f"Graph refused the token: {code}")
    if status == 404:
        return NotFound(f"{code}: {message}")
    if status == 410 or code.lower() in ("syncstatenotfound", "resyncrequired"):
        return SyncReset(f"{status} {code}: {message}")
    if status == 409:
        return Conflict(status, code, message)
    return GraphRequestError(status, code, message)


def checked(
    answers: Mapping[str, tuple[int, Any]], *, allow: tuple[type[ProviderError], ...] = ()
) -> dict[str, Any]:
    """The bodies of ``batch`` answers by id; the first error raised unless it is one of
    ``allow`` (its body is then ``None``)."""
    bodies: dict[str, Any] = {}
    for request_id, (status, body) in answers.items():
        error = error_for(status, {}, body)
        if error is not None and not isinstance(error, allow):
            raise error
        bodies[request_id] = None if error is not None else body
    return bodies


class GraphClient:
    """Authenticated, throttled, retried Graph calls on behalf of one mailbox."""

    def __init__(
        self,
        graph_url: str,
        tokens: TokenSource,
        session: requests.Session,
        *,
        retry: RetryPolicy,
        limiter: MailboxLimiter = SHARED_LIMITER,
        timeout: float = 30.0,
    ):
        self._root = graph_url.rstrip("/")
        self._tokens = tokens
        self._session = session
        self._retry = retry
        self._limiter = limiter
        self._timeout = timeout

    def call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The JSON of a successful response (``None`` when empty); typed errors otherwise."""
        return self._retry.call(lambda: self._send(method, url, params, json, headers or {}))

    def pages(self, url: str, params: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a collection, following ``@odata.nextLink`` to the end."""
        page = self.call("GET", url, params=params)
        yield page
        while link := page.get("@odata.nextLink"):
            page = self.call("GET", link)
            yield page

    def batch(self, requests_: Sequence[BatchRequest]) -> dict[str, tuple[int, Any]]:
        """Send ``requests_`` in ``$batch`` bodies (``batches``: at most 4 independent
        requests each, Graph's per-mailbox concurrency): id -> (status, body).

        Sub-requests are throttled one by one (json-batching docs): the throttled and
        failed ones are sent again under the retry policy; others keep their answer, errors
        included, for the caller to judge with ``error_for``.
        """
        answers: dict[str, tuple[int, Any]] = {}
        for pending in batches(requests_):

            def one_round() -> None:
                nonlocal pending
                replies = self._send_batch(pending)
                again: list[BatchRequest] = []
                waits: list[ProviderError] = []
                for request in pending:
                    status, headers, body = replies[request.id]
                    error = error_for(status, headers, body)
                    if isinstance(error, RateLimited | Transient):
                        again.append(request)
                        waits.append(error)
                    else:
                        answers[request.id] = (status, body)
                pending = again
                if waits:
                    longest = max(
                        (e.retry_after for e in waits if isinstance(e, RateLimited)),
                        default=None,
                        key=lambda v: v or 0.0,
                    )
                    raise RateLimited("throttled inside $batch", longest)

            self._retry.call(one_round)
        return answers

    # ------------------------------------------------------------------ one attempt

    def _send_batch(
        self, pending: list[BatchRequest]
    ) -> dict[str, tuple[int, dict[str, str], Any]]:
        ids = {r.id for r in pending}
        payload = {
            "requests": [
                {
                    "id": r.id,
                    "method": r.method,
                    "url": r.url,
                    **({"body": r.body} if r.body is not None else {}),
                    "headers": {
                        **({"Content-Type": "application/json"} if r.body else {}),
                        **r.headers,
                    },
                    # A dependency answered in an earlier round is already done.
                    **(
                        {"dependsOn": [d for d in r.depends_on if d in ids]}
                        if any(d in ids for d in r.depends_on)
                        else {}
                    ),
                }
                for r in pending
            ]
        }
        reply = self._send("POST", "/$batch", None, payload, {}, weight=concurrency(pending))
        return {
            item["id"]: (item["status"], item.get("headers") or {}, item.get("body"))
            for item in reply["responses"]
        }

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: Any,
        headers: Mapping[str, str],
        *,
        weight: int = 1,
    ) -> Any:
        target = url if urlsplit(url).scheme else f"{self._root}{url}"
        attempt = partial(self._attempt, method, target, params, body, headers, weight=weight)
        response = attempt(force_refresh=False)
        if response.status_code == 401:
            # The cached token may have been revoked early: one forced refresh tells a
            # stale token (retry works) from a revoked grant (ReconnectRequired).
            response = attempt(force_refresh=True)
        payload = response.json() if response.content else None
        error = error_for(response.status_code, response.headers, payload)
        if error is not None:
            raise error
        return payload

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: Any,
        headers: Mapping[str, str],
        *,
        force_refresh: bool,
        weight: int,
    ) -> requests.Response:
        token = self._tokens.access_token(force_refresh=force_refresh)
        with self._limiter.slot(self._tokens.email, weight):
            try:
                return self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers={"Authorization": f"Bearer {token}", **headers},
                    timeout=self._timeout,
                )
            except (requests.Timeout, requests.ConnectionError) as error:
                raise Transient(f"{method} {url}: {error}") from error
