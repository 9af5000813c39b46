"""Incremental sync: ``calendarView/delta`` pages turned into Cadence ``CalendarChange``s.

Delta over a calendar view returns occurrences, not series (learn.microsoft.com/graph/
delta-query-events), and accepts no ``$expand``; a removed item is only ``{"id", "@removed"}``.
So the cursor remembers which series masters are Cadence's and which occurrence ids belong
to them, and masters seen for the first time (or whose occurrences vanished) are read in one
``$batch``: a 404 master means the series was deleted, an earlier end date that it was
shortened, anything else that single occurrences were cancelled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from integrations.base import (
    CalendarChange,
    ChangeKind,
    ChangeSet,
    NotFound,
    ProviderError,
    Response,
)
from integrations.outlook.events import (
    EXPAND_SERIES_PROPERTY,
    parse_graph_time,
    parse_instant,
    series_tag,
    utc_iso,
)
from integrations.outlook.graph import BatchRequest, GraphClient, SyncReset, checked
from integrations.outlook.zones import to_iana
from scheduler.intervals import Interval

LOOK_BACK = timedelta(days=7)  # last week's sessions can still be cancelled or declined
_RESPONSES = {
    "accepted": Response.ACCEPTED,
    "tentativelyAccepted": Response.TENTATIVE,
    "declined": Response.DECLINED,
}


@dataclass
class SyncState:
    """What the cursor string carries between syncs."""

    delta_link: str
    window: Interval
    masters: dict[str, str] = field(default_factory=dict)  # master id -> series id ("": not ours)
    occurrences: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (master, start)

    def dump(self) -> str:
        return json.dumps(
            {
                "delta": self.delta_link,
                "window": [self.window.start.isoformat(), self.window.end.isoformat()],
                "masters": self.masters,
                "occurrences": self.occurrences,
            },
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, cursor: str | None) -> SyncState | None:
        """The state in ``cursor``; ``None`` (a full sync) when it is missing or unreadable."""
        if not cursor:
            return None
        try:
            raw = json.loads(cursor)
            window = Interval(*(datetime.fromisoformat(v) for v in raw["window"]))
            occurrences = {k: (v[0], v[1]) for k, v in raw["occurrences"].items()}
            return cls(raw["delta"], window, dict(raw["masters"]), occurrences)
        except (ValueError, KeyError, TypeError):
            return None


def read_changes(
    client: GraphClient, cursor: str | None, now: datetime, horizon: timedelta
) -> ChangeSet:
    """Changes since ``cursor`` over a rolling window ``[now - 7 days, now + horizon)``."""
    previous = SyncState.load(cursor)
    wanted_end = now + horizon
    # Roll the window forward a week at a time: a new window is a new delta round.
    if previous and previous.delta_link and wanted_end - previous.window.end < timedelta(days=7):
        try:
            items, previous.delta_link = _drain(client, previous.delta_link, None)
            return ChangeSet(tuple(_changes(client, previous, items)), previous.dump())
        except SyncReset:
            pass  # Graph forgot the token: read everything again below
    window = Interval(now - LOOK_BACK, wanted_end)
    params = {"startDateTime": utc_iso(window.start), "endDateTime": utc_iso(window.end)}
    items, link = _drain(client, "/me/calendarView/delta", params)
    state = SyncState(link, window)
    if previous is not None:
        # What we knew and no longer see happened while we were not listening: treat it as
        # removed, so a full resync still reports cancellations and deleted series.
        state.masters = previous.masters
        present = {item["id"] for item in items}
        for occurrence_id, (master_id, start) in previous.occurrences.items():
            if window.start <= parse_instant(start) < window.end:
                state.occurrences[occurrence_id] = (master_id, start)
                if occurrence_id not in present:
                    items.append({"id": occurrence_id, "@removed": {"reason": "unseen"}})
    return ChangeSet(tuple(_changes(client, state, items)), state.dump(), full_sync=True)


def restart(cursor: str | None) -> str | None:
    """``cursor`` without its delta token: the next sync reads everything again but still
    reports what disappeared meanwhile (for Graph's ``missed`` lifecycle notification)."""
    state = SyncState.load(cursor)
    if state is None:
        return None
    state.delta_link = ""
    return state.dump()


def _drain(
    client: GraphClient, url: str, params: dict[str, str] | None
) -> tuple[list[dict[str, Any]], str]:
    """All items of one delta round and the deltaLink that ends it."""
    items: list[dict[str, Any]] = []
    for page in client.pages(url, params):
        items.extend(page.get("value", []))
        if "@odata.deltaLink" in page:
            return items, page["@odata.deltaLink"]
    raise ProviderError("delta round ended without a deltaLink")


def _changes(
    client: GraphClient, state: SyncState, items: list[dict[str, Any]]
) -> list[CalendarChange]:
    """The changes ``items`` mean, updating ``state``'s knowledge of masters and occurrences."""
    removed: dict[str, list[datetime]] = {}
    for item in items:
        if "@removed" in item and item["id"] in state.occurrences:
            master_id, start = state.occurrences.pop(item["id"])
            removed.setdefault(master_id, []).append(parse_instant(start))
    unknown = {i["seriesMasterId"] for i in items if i.get("seriesMasterId")} - set(state.masters)
    masters = _read_masters(client, unknown | {m for m in removed if state.masters.get(m)})
    for master_id in unknown:
        body = masters.get(master_id)
        state.masters[master_id] = (series_tag(body) or "") if body else ""

    changes: list[CalendarChange] = []
    for item in items:
        series_id = state.masters.get(item.get("seriesMasterId") or "")
        if "@removed" in item or not series_id:
            continue
        state.occurrences[item["id"]] = (item["seriesMasterId"], item["originalStart"])
        changes.extend(occurrence_changes(item, series_id))
    for master_id in sorted(removed):
        series_id = state.masters.get(master_id)
        if series_id:
            changes.extend(
                _removal_changes(
                    master_id, series_id, masters.get(master_id), removed.get(master_id, [])
                )
            )
            if masters.get(master_id) is None:
                _forget(state, master_id)
    return changes


def occurrence_changes(item: dict[str, Any], series_id: str) -> Iterable[CalendarChange]:
    """What one Cadence occurrence, as delta shows it now, says happened to it.

    Derived from its current state alone, so a full resync reports the same again.
    """
    event_id = item["seriesMasterId"]
    original = parse_instant(item["originalStart"])
    if item.get("isCancelled"):
        yield CalendarChange(ChangeKind.OCCURRENCE_CANCELLED, series_id, event_id, original)
        return
    start, end = parse_graph_time(item["start"]), parse_graph_time(item["end"])
    if start != original:
        yield CalendarChange(
            ChangeKind.OCCURRENCE_MOVED, series_id, event_id, original, new_start=start, new_end=end
        )
    organiser = ((item.get("organizer") or {}).get("emailAddress") or {}).get("address", "")
    for attendee in item.get("attendees") or []:
        email = (attendee.get("emailAddress") or {}).get("address", "").lower()
        response = _RESPONSES.get((attendee.get("status") or {}).get("response", ""))
        if response and email != organiser.lower():
            yield CalendarChange(
                ChangeKind.ATTENDEE_RESPONDED,
                series_id,
                event_id,
                original,
                response=response,
                attendee_email=email,
                changed_by=email,
            )


def _removal_changes(
    master_id: str, series_id: str, master: dict[str, Any] | None, starts: list[datetime]
) -> Iterable[CalendarChange]:
    """Occurrences gone from the view: the series deleted, shortened, or single cancellations."""
    if master is None:
        yield CalendarChange(ChangeKind.SERIES_DELETED, series_id, master_id)
        return
    until = _series_end(master)
    if until is not None and any(_local_day(s, master) > until for s in starts):
        yield CalendarChange(ChangeKind.SERIES_SHORTENED, series_id, master_id, until=until)
    for start in sorted(starts):
        if until is None or _local_day(start, master) <= until:
            yield CalendarChange(ChangeKind.OCCURRENCE_CANCELLED, series_id, master_id, start)


def _read_masters(client: GraphClient, ids: set[str]) -> dict[str, dict[str, Any] | None]:
    """Series masters by id in one ``$batch`` (``None``: the master no longer exists)."""
    requests = [
        BatchRequest(m, "GET", f"/me/events/{m}?$expand={EXPAND_SERIES_PROPERTY}")
        for m in sorted(ids)
    ]
    return checked(client.batch(requests), allow=(NotFound,))


def _series_end(master: dict[str, Any]) -> date | None:
    rng = (master.get("recurrence") or {}).get("range") or {}
    return date.fromisoformat(rng["endDate"]) if rng.get("type") == "endDate" else None


def _local_day(instant: datetime, master: dict[str, Any]) -> date:
    """The occurrence's date in the series' own zone (what ``range.endDate`` counts in)."""
    named = ((master.get("recurrence") or {}).get("range") or {}).get("recurrenceTimeZone")
    zone = to_iana(named or (master.get("start") or {}).get("timeZone") or "UTC") or "UTC"
    return instant.astimezone(ZoneInfo(zone)).date()


def _forget(state: SyncState, master_id: str) -> None:
    state.masters.pop(master_id, None)
    for occurrence_id in [k for k, (m, _) in state.occurrences.items() if m == master_id]:
        del state.occurrences[occurrence_id]
