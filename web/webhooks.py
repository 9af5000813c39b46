"""Calendar push notifications (Google channels, Graph subscriptions) land here.

Each handler checks the notification with the adapter's own verify function, queues a sync
of the connection and answers at once, in every mode (Graph wants 2xx within 3 s; Google
backs off on slow answers): with Redis the sync goes to RQ, embedded to the process's
background thread. Duplicated, replayed, out-of-order and forged notifications are
harmless: forged ones are refused before anything is done, a Google message is claimed
before any work (in Redis, or embedded in the database: concurrent deliveries of it make
one sync), and the rest at most ask for a sync that is already queued. The blueprint is
CSRF-exempt: providers authenticate with channel secrets.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from redis.exceptions import RedisError

from integrations.base import Channel
from integrations.google import Verdict
from integrations.google import verify_notification as verify_google
from integrations.outlook import (
    InvalidNotification,
    NotificationAction,
    validation_response,
)
from integrations.outlook import verify_notification as verify_graph
from scheduler import jobs
from scheduler.jobs import coalesce, tasks
from scheduler.jobs.dispatch import RQDispatcher
from scheduler.jobs.periodic import EmbeddedTimer
from scheduler.jobs.runtime import Runtime
from scheduler.usecases.push_channels import connection_for_channel, stored_channel
from scheduler.usecases.push_messages import claim_message, release_message
from web.services import cadence

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

_EXTENSION = "cadence.jobs"


@bp.record_once
def _wire_pipeline(state: BlueprintSetupState) -> None:
    """Give the app its job pipeline: RQ queues with Redis, else jobs run inline."""
    app = state.app
    services = app.extensions["cadence"]
    runtime = jobs.build(
        services.settings,
        link=services.agenda_link,
        database=services.database,
        calendars=services.providers,
        clock=services.clock,
    )
    app.extensions[_EXTENSION] = runtime


@bp.errorhandler(RedisError)
def queue_unavailable(error: RedisError) -> Response:
    """Redis is down: 503 makes Google and Graph deliver the notification again later."""
    current_app.logger.warning("webhook could not enqueue: %s", error)
    return Response(status=503, headers={"Retry-After": "10"})


def pipeline() -> Runtime:
    """The current app's job pipeline (other blueprints enqueue through it)."""
    return current_app.extensions[_EXTENSION]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- Google


@bp.post("/google")
def google() -> Response:
    channel_id = request.headers.get("X-Goog-Channel-ID", "")
    found = _channel(channel_id)
    if found is None:
        return Response(status=404)
    org_id, connection_id, channel = found
    verdict = verify_google(request.headers, channel)
    if verdict.verdict is Verdict.REJECTED:
        return Response(status=403)
    number = verdict.message_number
    if verdict.verdict is not Verdict.SYNC:
        return Response(status=204)
    if number is None:
        tasks.request_sync(pipeline(), org_id, connection_id, answer_first=True)
        return Response(status=204)
    if _claim(org_id, connection_id, channel_id, number):
        try:
            tasks.request_sync(pipeline(), org_id, connection_id, answer_first=True)
        except Exception:
            # Not requested (Redis down: 503): Google's redelivery of this very number must
            # not read as a replay.
            _release(org_id, channel_id, number)
            raise
    return Response(status=204)


def _claim(org_id: str, connection_id: str, channel_id: str, number: int) -> bool:
    """Claim Google message ``number`` before any work: in Redis when jobs are there (one
    script call), else in the database (the embedded default, any number of processes)."""
    dispatcher = pipeline().dispatcher
    if isinstance(dispatcher, RQDispatcher):
        return coalesce.claim_message(dispatcher, channel_id, number)
    return claim_message(
        cadence().database,
        org_id=org_id,
        connection_id=connection_id,
        channel_id=channel_id,
        number=number,
    )


def _release(org_id: str, channel_id: str, number: int) -> None:
    dispatcher = pipeline().dispatcher
    if isinstance(dispatcher, RQDispatcher):
        coalesce.release_message(dispatcher, channel_id, number)
        return
    release_message(cadence().database, org_id=org_id, channel_id=channel_id, number=number)


# ---------------------------------------------------------------------------- Microsoft Graph


@bp.post("/microsoft")
@bp.post("/microsoft/lifecycle")
def microsoft() -> Response | tuple[str, int, dict[str, str]]:
    token = request.args.get("validationToken")
    if token is not None:
        return validation_response(token)  # the handshake before a subscription is created
    payload = request.get_json(silent=True)
    items = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        return Response(status=400)
    by_subscription: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        by_subscription[str((item or {}).get("subscriptionId") or "")].append(item)
    actions: list[tuple[str, str, NotificationAction]] = []
    for subscription_id, group in by_subscription.items():
        found = _channel(subscription_id)
        if found is None:
            return Response(status=404)
        org_id, connection_id, channel = found
        try:
            notifications = verify_graph({"value": group}, channel)
        except InvalidNotification:
            return Response(status=403)
        actions += [(org_id, connection_id, n.action) for n in notifications]
    for org_id, connection_id, action in dict.fromkeys(actions):
        _follow(org_id, connection_id, action)
    return Response(status=202)


def _follow(org_id: str, connection_id: str, action: NotificationAction) -> None:
    runtime = pipeline()
    if action in (NotificationAction.RENEW, NotificationAction.RECREATE):
        runtime.dispatcher.enqueue_later(tasks.keep_channel_open, org_id, connection_id, force=True)
    full = action in (NotificationAction.FULL_RESYNC, NotificationAction.RECREATE)
    if action is not NotificationAction.RENEW:
        tasks.request_sync(runtime, org_id, connection_id, full=full, answer_first=True)


# ---------------------------------------------------------------------------- shared


# How long a process keeps what it read of a channel. A burst of notifications for one
# channel (hundreds a second when a calendar changes in bulk) then costs one read of the
# connection and one decryption of its secret, not one per notification. A channel stopped
# or a connection disconnected in the meantime can still ask for a sync for this long:
# harmless, the sync job reads the connection afresh and does nothing for an inactive one.
CHANNEL_CACHE_SECONDS = 30.0
_CHANNEL_CACHE = "cadence.webhook-channels"
_CACHE_SIZE = 4096

Found = tuple[str, str, Channel]


class ChannelCache:
    """Channel id -> (organisation, connection, channel), for ``CHANNEL_CACHE_SECONDS``.

    Only channels found are kept: a channel opened a moment ago is never refused because an
    earlier miss was remembered. Per app (each has its own database), shared by its threads.
    """

    def __init__(self, seconds: float = CHANNEL_CACHE_SECONDS, size: int = _CACHE_SIZE):
        self._seconds, self._size = seconds, size
        self._entries: dict[str, tuple[float, Found]] = {}
        self._lock = threading.Lock()

    def get(self, channel_id: str, now: float) -> Found | None:
        with self._lock:
            entry = self._entries.get(channel_id)
        if entry is None or entry[0] <= now:
            return None
        return entry[1]

    def put(self, channel_id: str, found: Found, now: float) -> None:
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                if len(self._entries) >= self._size:
                    self._entries.clear()
            self._entries[channel_id] = (now + self._seconds, found)


def _channel(channel_id: str) -> Found | None:
    """(organisation, connection, channel) for a channel / subscription id we opened."""
    cache: ChannelCache = current_app.extensions.setdefault(_CHANNEL_CACHE, ChannelCache())
    now = time.monotonic()
    found = cache.get(channel_id, now)
    if found is not None:
        return found
    services = cadence()
    with services.database.session() as db:
        row = connection_for_channel(db, channel_id)
        if row is None:
            return None
        channel = stored_channel(row, services.cipher)
        if channel is None:
            return None
        found = (row.organization_id, row.id, channel)
    cache.put(channel_id, found, now)
    return found


def start_embedded_timer(app: Flask) -> EmbeddedTimer | None:
    """The embedded default's periodic jobs, from a thread of the serving process.

    Called by the process that serves the app (``bin/demo``), never by ``create_app``, so
    building an app in a test starts no thread. With Redis the scheduler process runs them.
    """
    runtime: Runtime = app.extensions[_EXTENSION]
    if isinstance(runtime.dispatcher, RQDispatcher):
        return None
    timer = app.extensions["cadence.timer"] = EmbeddedTimer(runtime.dispatcher).start()
    return timer
