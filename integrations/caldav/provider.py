"""``CalDAVCalendar``: one person's CalDAV calendar behind Cadence's ``CalendarProvider``.

A series is one calendar object at ``<calendar>/<UID>.ics``; every edit is a read, a change
made by ``series_ical``, and a write with ``If-Match`` so that an edit made meanwhile by
another app is never overwritten. Changes come from the RFC 6578 sync-collection REPORT
where the server has it, else from comparing every object's ETag.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, TypeVar, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

import icalendar
from caldav.calendarobjectresource import CalendarObjectResource, Event
from caldav.collection import Calendar
from caldav.davclient import DAVClient
from caldav.davobject import DAVObject
from caldav.elements import dav
from caldav.lib import error as caldav_error
from caldav.lib.url import URL

from integrations.base import (
    AgendaDocument,
    CalendarChange,
    ChangeSet,
    PersonAvailability,
    ReconnectRequired,
    SeriesRef,
    SeriesSpec,
    TokenStore,
    Transient,
)
from integrations.caldav import series_ical
from integrations.caldav.busy_time import busy_time
from integrations.caldav.connection import (
    CalDAVCredentials,
    choose_calendar,
    named_calendars,
    open_client,
    settled,
    translated_errors,
)
from integrations.caldav.series_changes import deleted, new_changes, observe
from integrations.caldav.sync_cursor import SeenSeries, SyncCursor
from integrations.outbound import OutboundPolicy
from integrations.retry import RetryPolicy
from scheduler.intervals import Interval

if TYPE_CHECKING:
    from caldav.response import DAVResponse

T = TypeVar("T")

# A write refused because the object changed since we read it is read and tried again.
_EDIT_ATTEMPTS = 3
_SYNC_TOKEN_REFUSED = dav.ValidSyncToken.tag
# What servers answer when they do not implement the sync-collection REPORT.
_NO_SYNC_STATUSES = frozenset({400, 403, 405, 415, 501})
# What a request to a calendar that is no longer at its URL gets (409: a PUT into it).
_GONE_STATUSES = frozenset({404, 409, 410})


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Reading:
    """What a sync read: changed objects' data and removed hrefs, and where to resume."""

    changed: dict[str, str]
    removed: set[str]
    sync_token: str | None
    etags: dict[str, str] | None
    full_sync: bool


class CalDAVCalendar:
    """A connected CalDAV calendar (``CalendarProvider``); credentials live in ``store``.

    ``zone`` is the person's zone, for all-day and floating events. ``sync_collection=False``
    skips the RFC 6578 REPORT for servers that get it wrong (it is also abandoned on its own
    when a server refuses it). Every request holds to ``outbound`` (default: https to public
    addresses only). No request is sent before the first call.
    """

    def __init__(
        self,
        store: TokenStore,
        *,
        zone: str = "UTC",
        retry: RetryPolicy | None = None,
        sync_collection: bool = True,
        clock: Callable[[], datetime] = _utc_now,
        outbound: OutboundPolicy | None = None,
    ):
        self._store = store
        self._outbound = outbound or OutboundPolicy()
        self._zone = ZoneInfo(zone)
        self._retry = retry or RetryPolicy()
        self._sync_collection = sync_collection
        self._clock = clock
        self._loaded: CalDAVCredentials | None = None
        self._connected: tuple[DAVClient, Calendar] | None = None
        # The calendar was opened at its remembered URL, not yet found again by this object.
        self._unconfirmed = False

    def close(self) -> None:
        if self._connected is not None:
            self._connected[0].close()
            self._connected = None

    # ------------------------------------------------------------------ free/busy

    def free_busy(self, emails: Sequence[str], window: Interval) -> dict[str, PersonAvailability]:
        """Busy time of the connected person; anyone else is unknown over the whole window.

        A CalDAV account reads only its own calendars (RFC 6638 free-busy lookups of other
        people are rarely offered and not by Radicale), so a rep is never reported free.
        """
        own = self._credentials().email.lower()
        availability = {}
        for email in emails:
            if email.lower() == own:
                busy = busy_time(self._events_in(window), email, window, self._zone)
                availability[email] = PersonAvailability(email, busy=busy)
            else:
                availability[email] = PersonAvailability(email, unknown=(window,))
        return availability

    def _events_in(self, window: Interval) -> list[icalendar.Event]:
        """Every VEVENT occurring in ``window``, recurrences expanded to single occurrences."""

        def search() -> list[icalendar.Event]:
            # Expanded events, not a free-busy-query REPORT: free-busy answers lose who
            # declined and what an event is (out of office), which Cadence needs.
            found: list[CalendarObjectResource] = settled(
                self._calendar().search(start=window.start, end=window.end, event=True, expand=True)
            )
            return [event for each in found for event in each.icalendar_instance.events]

        return self._call("reading busy time", search)

    # ------------------------------------------------------------------ the series

    def create_series(self, spec: SeriesSpec) -> SeriesRef:
        """Book the series at ``<UID>.ics``; a series already there is left as it is."""
        uid = series_ical.series_uid(spec.series_id)
        body = series_ical.new_series(spec, self._clock()).to_ical()

        def put() -> str:
            calendar = self._calendar()
            event: CalendarObjectResource = Event(
                calendar.client, url=self._url_for(uid), parent=calendar
            )
            try:
                event.save(raw_data=body, no_overwrite=True)
            except caldav_error.ConsistencyError:
                # Booked before (a retry, a double click), maybe under another name.
                event = settled(calendar.get_event_by_uid(uid))
            return _href(_url(event))

        return SeriesRef(provider_event_id=uid, extra={"href": self._call("booking", put)})

    def end_series(self, ref: SeriesRef, spec: SeriesSpec, from_day: date) -> None:
        """UNTIL the day before ``from_day``; the object is deleted if nothing remains."""
        now = self._clock()
        self._rewrite(
            ref,
            "ending the series",
            lambda ical: series_ical.end_series(ical, spec, from_day, now),
        )

    def move_occurrence(
        self, ref: SeriesRef, spec: SeriesSpec, original_start: datetime, new_start: datetime
    ) -> None:
        """An override (RECURRENCE-ID) with the new start and the same duration."""
        now = self._clock()
        self._rewrite(
            ref,
            "moving an occurrence",
            lambda ical: series_ical.move_occurrence(ical, spec, original_start, new_start, now),
        )

    def cancel_occurrence(self, ref: SeriesRef, spec: SeriesSpec, original_start: datetime) -> None:
        """An EXDATE on the series (servers with implicit scheduling tell the attendee)."""
        now = self._clock()
        self._rewrite(
            ref,
            "cancelling an occurrence",
            lambda ical: series_ical.cancel_occurrence(ical, spec, original_start, now),
        )

    def update_occurrence_agenda(
        self,
        ref: SeriesRef,
        spec: SeriesSpec,
        original_start: datetime,
        agenda: AgendaDocument,
    ) -> None:
        """An override of that occurrence with the new DESCRIPTION and ATTACH."""
        now = self._clock()
        self._rewrite(
            ref,
            "updating an agenda",
            lambda ical: series_ical.replace_agenda(ical, spec, original_start, agenda, now),
        )

    def _rewrite(
        self, ref: SeriesRef, what: str, edit: Callable[[icalendar.Calendar], bool | None]
    ) -> None:
        """Read the series, ``edit`` it, write it back unless it changed meanwhile (then start
        over). ``edit`` returning False means nothing remains: the object is deleted."""

        def attempt() -> bool:
            calendar = self._calendar()
            event = calendar.event_by_url(self._url_of(ref))
            ical = icalendar.Calendar.from_ical(event.data)
            if edit(ical) is False:
                event.delete()
                return True
            try:
                event.save(raw_data=ical.to_ical(), precondition="etag")
            except caldav_error.ETagMismatchError:
                return False
            return True

        for _ in range(_EDIT_ATTEMPTS):
            if self._call(what, attempt):
                return
        raise Transient(f"{what}: the event kept changing while we wrote it")

    # ------------------------------------------------------------------ changes

    def changes(self, cursor: str | None, *, full: bool = False) -> ChangeSet:
        """Changes to Cadence series since ``cursor``, found by comparing what each changed
        series says now with what the cursor remembers of it; ``full`` reads every object
        again (no sync token, no ETags) against that same memory."""
        previous = SyncCursor.decode(cursor) or SyncCursor()
        if full:
            previous = SyncCursor(series=previous.series)
        reading = self._call("reading changes", lambda: self._read(previous))
        series = dict(previous.series)
        found: list[CalendarChange] = []
        for href in sorted(reading.removed):
            gone = series.pop(href, None)
            if gone is not None:
                found.append(deleted(gone.series_id, gone.uid))
        for href, data in sorted(reading.changed.items()):
            observed = observe(data)
            if observed is None:
                continue  # not a Cadence series (or one whose X- properties were stripped)
            before = series.get(href)
            found.extend(new_changes(before.facts if before else frozenset(), observed))
            series[href] = SeenSeries(observed.series_id, observed.uid, frozenset(observed.facts))
        next_cursor = SyncCursor(reading.sync_token, reading.etags, series)
        return ChangeSet(tuple(found), next_cursor.encode(), full_sync=reading.full_sync)

    def _read(self, previous: SyncCursor) -> _Reading:
        calendar = self._calendar()
        if self._sync_collection and previous.etags is None:
            try:
                return self._read_by_sync_token(calendar, previous, previous.sync_token)
            except caldav_error.DAVError as failure:
                if _SYNC_TOKEN_REFUSED in failure.preconditions:
                    return self._read_by_sync_token(calendar, previous, None)
                if failure.status not in _NO_SYNC_STATUSES:
                    raise
        return self._read_by_etags(calendar, previous)

    def _read_by_sync_token(
        self, calendar: Calendar, previous: SyncCursor, token: str | None
    ) -> _Reading:
        result = settled(
            calendar.get_objects_by_sync_token(token, load_objects=False, disable_fallback=True)
        )
        removed = {_href(url) for url in result.deleted_urls}
        changed = _load(
            calendar, [_url(each) for each in result if _href(_url(each)) not in removed]
        )
        if token is None:  # everything was listed: what is not listed is gone
            removed |= set(previous.series) - set(changed)
        return _Reading(changed, removed, str(result.sync_token), None, full_sync=token is None)

    def _read_by_etags(self, calendar: Calendar, previous: SyncCursor) -> _Reading:
        # caldav types get_properties as parsed properties; unparsed, it is the response itself.
        response = cast(
            "DAVResponse",
            settled(calendar.get_properties([dav.GetEtag()], depth=1, parse_response_xml=False)),
        )
        home = _url(calendar)
        etags = {
            _href(home.join(href)): str(props.get(dav.GetEtag.tag))
            for href, props in response.expand_simple_props([dav.GetEtag()]).items()
        }
        etags.pop(_href(home), None)  # the calendar itself
        known = previous.etags or {}
        changed = _load(
            calendar,
            [home.join(href) for href, etag in etags.items() if known.get(href) != etag],
        )
        removed = (set(known) | set(previous.series)) - set(etags)
        return _Reading(changed, removed, None, etags, full_sync=previous.etags is None)

    # ------------------------------------------------------------------ plumbing

    def _calendar(self) -> Calendar:
        """The chosen calendar, opened on first use (inside the caller's retries): directly
        at the URL where it was last found, else found from the account and remembered."""
        if self._connected is None:
            credentials = self._credentials()
            client = open_client(credentials, self._outbound)
            known = credentials.known_calendar_url()
            try:
                calendar = client.calendar(url=known) if known else self._find(client)
            except BaseException:
                client.close()
                raise
            self._connected = (client, calendar)
            self._unconfirmed = known is not None
        return self._connected[1]

    def _find(self, client: DAVClient) -> Calendar:
        """The chosen calendar, found from the account (principal, home set, calendar list);
        where it was found is saved with the credentials for the next connections."""
        credentials = self._credentials()
        calendar = choose_calendar(named_calendars(client), credentials.calendar)
        found_at = str(_url(calendar))
        if found_at != credentials.calendar_url:
            self._remember(credentials.found_at(found_at))
        return calendar

    def _remember(self, found: CalDAVCredentials) -> None:
        """Save ``found`` unless the person changed the saved credentials meanwhile (their
        new ones are kept, and find their calendar on their own next use)."""
        self._loaded = found
        try:
            saved = CalDAVCredentials.load(self._store)
        except ReconnectRequired:
            return
        if saved.same_account(found):
            self._store.save(found.to_blob())

    def _found_elsewhere(self) -> bool:
        """After a failure that may mean the remembered calendar URL is gone (the calendar
        was moved or deleted): whether the calendar, found again, is at another URL now.
        Found once per connection at most, and only when it was opened by a remembered URL."""
        if self._connected is None or not self._unconfirmed:
            return False
        self._unconfirmed = False
        client, before = self._connected
        with translated_errors("finding the calendar again"):
            calendar = self._find(client)
        self._connected = (client, calendar)
        return _href(_url(calendar)) != _href(_url(before))

    def _credentials(self) -> CalDAVCredentials:
        """The saved credentials, read once: the store is a database row to decrypt, and
        ``_calendar`` runs inside every retry until the first connection succeeds."""
        if self._loaded is None:
            self._loaded = CalDAVCredentials.load(self._store)
        return self._loaded

    def _url_for(self, uid: str) -> URL:
        return _url(self._calendar()).join(quote(uid, safe="") + ".ics")

    def _url_of(self, ref: SeriesRef) -> URL:
        href = ref.extra.get("href")
        return _url(self._calendar()).join(href) if href else self._url_for(ref.provider_event_id)

    def _call(self, what: str, operation: Callable[[], T]) -> T:
        """``operation`` with the library's errors translated, retried when worth it."""

        def translated() -> T:
            with translated_errors(what):
                try:
                    return operation()
                except caldav_error.DAVError as failure:
                    # The remembered calendar URL may be gone: found again elsewhere, the
                    # operation is run there (the failure stands if it is still there).
                    if failure.status not in _GONE_STATUSES or not self._found_elsewhere():
                        raise
                return operation()

        return self._retry.call(translated)


def _load(calendar: Calendar, urls: list[URL]) -> dict[str, str]:
    """The data of the objects at ``urls`` in one calendar-multiget REPORT, by href;
    objects deleted meanwhile are left out (the next sync reports them)."""
    if not urls:
        return {}
    loaded: list[CalendarObjectResource] = settled(calendar.multiget(urls))
    return {_href(_url(each)): each.data for each in loaded if each.data}


def _url(resource: DAVObject) -> URL:
    """Where a calendar or object the server listed lives (such resources always have one)."""
    if resource.url is None:
        raise TypeError(f"the CalDAV resource {resource!r} has no URL")
    return resource.url


def _href(url: URL | str) -> str:
    """The path naming an object on its server, spelled the same whichever way it came."""
    return str(URL.objectify(url).canonical().path)
