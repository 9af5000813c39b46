"""``GET /me/calendarView/delta``: rounds of pages, then changes since a delta token.

A round's items are computed when it starts and handed out ten a page (Graph's default);
the delta token remembers what the window looked like, so the next round returns what
changed and ``{"id", "@removed"}`` for what left. A token Graph forgot (``expire``) is
410 ``SyncStateNotFound`` — the answer seen from Graph in microsoftgraph/microsoft-graph-docs
issue #2350.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.emulators.graph_calendar import Instance, instance_json
from tests.emulators.graph_wire import GraphError, param_time

PAGE_SIZE = 10
_ALLOWED = {"startDateTime", "endDateTime", "$deltatoken", "$skiptoken"}


@dataclass
class _Round:
    mailbox: str
    window: tuple[datetime, datetime]
    snapshot: dict[str, str]
    pending: list[dict[str, Any]] = field(default_factory=list)


class DeltaRounds:
    """Delta state for every mailbox; ``view(mailbox, start, end)`` reads a calendar."""

    def __init__(self, view: Callable[[str, datetime, datetime], list[Instance]]):
        self._view = view
        self._rounds: dict[str, _Round] = {}
        # Graph promises no order within a round; set, it shuffles each round's items.
        self.shuffle: random.Random | None = None

    def expire(self) -> None:
        """Forget every token, as Graph does when its sync state cache overflows."""
        self._rounds.clear()

    def handle(
        self, args: Mapping[str, str], mailbox: str, zone_name: str, link: str
    ) -> dict[str, Any]:
        """One page; ``link`` is the URL next/delta links are built on."""
        if set(args) - _ALLOWED:
            # Delta on calendarView takes no $select/$expand/$filter (event-delta docs).
            raise GraphError(400, "ErrorInvalidUrlQuery", f"Unsupported: {set(args) - _ALLOWED}")
        if "$skiptoken" in args:
            return self._page(args["$skiptoken"], mailbox, link)
        if "$deltatoken" in args:
            state = self._rounds.pop(args["$deltatoken"], None)
            if state is None or state.mailbox != mailbox:
                raise GraphError(
                    410,
                    "SyncStateNotFound",
                    "The sync state generation is not found. The delta token is expired and "
                    "data must be synchronized again.",
                )
            window, previous = state.window, state.snapshot
        else:
            window = (param_time(args, "startDateTime"), param_time(args, "endDateTime"))
            previous = {}
        current = {i.id: instance_json(i, zone_name) for i in self._view(mailbox, *window)}
        fingerprints = {k: json.dumps(v, sort_keys=True) for k, v in current.items()}
        items = [current[k] for k, f in fingerprints.items() if previous.get(k) != f]
        items += [
            {"@odata.type": "#microsoft.graph.event", "id": k, "@removed": {"reason": "deleted"}}
            for k in previous
            if k not in current
        ]
        if self.shuffle is not None:
            self.shuffle.shuffle(items)
        token = secrets.token_urlsafe(16)
        self._rounds[token] = _Round(mailbox, window, fingerprints, items)
        return self._page(token, mailbox, link)

    def _page(self, token: str, mailbox: str, link: str) -> dict[str, Any]:
        state = self._rounds.get(token)
        if state is None or state.mailbox != mailbox:
            raise GraphError(410, "SyncStateNotFound", "The sync state generation is not found.")
        page, state.pending = state.pending[:PAGE_SIZE], state.pending[PAGE_SIZE:]
        body: dict[str, Any] = {"value": page}
        if state.pending:
            body["@odata.nextLink"] = f"{link}?$skiptoken={token}"
        else:
            body["@odata.deltaLink"] = f"{link}?$deltatoken={token}"
        return body
