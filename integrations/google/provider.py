"""``GoogleCalendar``: Cadence's ``CalendarProvider`` and ``PushChannels`` for Google Calendar.

Every write targets the connected manager's ``primary`` calendar, is idempotent, tells the
guest (``sendUpdates=all``) and stays tagged: occurrences inherit the series' private
extended properties. Deleting something already gone counts as done (404/410).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from googleapiclient.http import HttpRequest

from integrations.base import (
    AccountZone,
    AgendaDocument,
    CalendarChange,
    ChangeSet,
    Channel,
    NotFound,
    PersonAvailability,
    ProviderError,
    SeriesRef,
    SeriesSpec,
    TokenStore,
    split_window,
)
from integrations.google import push
from integrations.google.client import CalendarClient, Conflict, Gone
from integrations.google.events import (
    TAG_SERIES,
    agenda_fields,
    first_start,
    instance_id,
    recurrence_fields,
    series_body,
    time_fields,
)
from integrations.google.sync import changes_from_events
from integrations.retry import RetryPolicy
from scheduler.intervals import Busy, BusyKind, Interval
from scheduler.settings import GoogleSettings
from scheduler.working_time import known_zone

if TYPE_CHECKING:
    from googleapiclient._apis.calendar.v3 import CalendarResource, Event, FreeBusyRequest

# freeBusy limits: 50 calendars per request (developers.google.com/calendar/api/v3/reference/
# freebusy/query); longer ranges than 90 days fail with "The requested time range is too long"
# (seen in production by Cal.com: github.com/calcom/cal.diy pull 11696 and 11962).
FREEBUSY_MAX_CALENDARS = 50
FREEBUSY_MAX_SPAN = timedelta(days=90)
_PRIMARY = "primary"


class SeriesDeleted(ProviderError):
    """The series' event id is taken by the same series, deleted in the calendar since."""


class GoogleCalendar:
    """One manager's Google connection, as Cadence uses it."""

    def __init__(
        self,
        settings: GoogleSettings,
        tokens: TokenStore,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
    ):
        self._client = CalendarClient(settings, tokens, retry or RetryPolicy(), timeout)

    @property
    def email(self) -> str:
        """Who connected (the organiser of every series booked through this connection)."""
        return self._client.email

    # ------------------------------------------------------------------ availability

    def free_busy(self, emails: Sequence[str], window: Interval) -> dict[str, PersonAvailability]:
        """Busy time per person: one freeBusy call per 50 calendars per 90-day span.

        A calendar Google reports an error for (unknown, not shared) comes back as ``unknown``
        over that span, never as free.
        """
        people = list(dict.fromkeys(emails))
        busy: dict[str, list[Busy]] = {email: [] for email in people}
        unknown: dict[str, list[Interval]] = {email: [] for email in people}
        for span in split_window(window, FREEBUSY_MAX_SPAN):
            for start in range(0, len(people), FREEBUSY_MAX_CALENDARS):
                group = people[start : start + FREEBUSY_MAX_CALENDARS]
                body: FreeBusyRequest = {
                    "timeMin": _rfc3339(span.start),
                    "timeMax": _rfc3339(span.end),
                    "timeZone": "UTC",
                    "items": [{"id": email} for email in group],
                }

                def query(service: CalendarResource, body: FreeBusyRequest = body) -> HttpRequest:
                    return service.freebusy().query(body=body)

                answer = self._client.execute(query)
                calendars = answer.get("calendars", {})
                for email in group:
                    calendar = calendars.get(email)
                    if calendar is None or calendar.get("errors"):
                        unknown[email].append(span)
                        continue
                    busy[email].extend(
                        Busy(Interval(_parse_rfc3339(b["start"]), _parse_rfc3339(b["end"])))
                        for b in calendar.get("busy", [])
                    )
        return {
            email: PersonAvailability(email, busy=tuple(busy[email]), unknown=tuple(unknown[email]))
            for email in people
        }

    def out_of_office(self, window: Interval) -> PersonAvailability:
        """The connected account's out-of-office events over ``window`` (one listing).

        Google's free/busy cannot tell them from other busy time; its event list can
        (developers.google.com/calendar/api/v3/reference/events/list, ``eventTypes``).
        """
        pages = self._client.pages(
            lambda s, page_token: s.events().list(
                calendarId=_PRIMARY,
                eventTypes="outOfOffice",
                timeMin=_rfc3339(window.start),
                timeMax=_rfc3339(window.end),
                pageToken=page_token,
                maxResults=250,
            )
        )
        away = [
            Busy(
                Interval(
                    _event_instant(item["start"], page.get("timeZone", "UTC")),
                    _event_instant(item["end"], page.get("timeZone", "UTC")),
                ),
                BusyKind.OUT_OF_OFFICE,
                item.get("summary", ""),
            )
            for page in pages
            for item in page.get("items", [])
            # A repeating absence (rare) is left out rather than misread: its master shows
            # only the first occurrence, and expanding it needs singleEvents.
            if item.get("status") != "cancelled" and not item.get("recurrence")
        ]
        return PersonAvailability(self.email, busy=tuple(away))

    def account_zone(self) -> AccountZone | None:
        """The primary calendar's zone: the top-level ``timeZone`` of an events.list answer,
        readable with ``calendar.events`` (the Settings API would need another scope)."""
        page = self._client.execute(
            lambda s: s.events().list(calendarId=_PRIMARY, maxResults=1, showDeleted=False)
        )
        zone = page.get("timeZone", "")
        return AccountZone(zone) if known_zone(zone) else None

    # ------------------------------------------------------------------ series

    def create_series(self, spec: SeriesSpec) -> SeriesRef:
        """One events.insert with a deterministic id; a 409 adopts the event already there.

        A retry after a lost answer, a crash before Cadence recorded the ref, or a double click
        therefore never yields a second series. Raises ``ProviderError`` if the id is taken by
        an event that is not this series'.
        """
        body = series_body(spec)
        options: dict[str, Any] = {"sendUpdates": "all", "supportsAttachments": True}
        if spec.video_meeting:
            options["conferenceDataVersion"] = 1
        try:
            event = self._client.execute(
                lambda s: s.events().insert(calendarId=_PRIMARY, body=body, **options)
            )
        except Conflict:
            event = self._adopt(spec, body["id"])
        extra = {"ical_uid": event.get("iCalUID", ""), "meet_url": event.get("hangoutLink", "")}
        return SeriesRef(event["id"], {k: v for k, v in extra.items() if v})

    def _adopt(self, spec: SeriesSpec, google_id: str) -> dict[str, Any]:
        """The event already booked under this series' id, provided it is this live series."""
        try:
            event = self._client.execute(
                lambda s: s.events().get(calendarId=_PRIMARY, eventId=google_id)
            )
        except NotFound:
            event = {"status": "cancelled"}
        # Google keeps deleted events (status "cancelled") and their ids stay taken
        # (stackoverflow.com/q/27542721); some answers are 410 instead: either way, it is gone.
        if event.get("status") == "cancelled":
            raise SeriesDeleted(
                f"series {spec.series_id} was deleted in Google Calendar; book it under a new id"
            )
        tagged = event.get("extendedProperties", {}).get("private", {}).get(TAG_SERIES)
        if tagged != spec.series_id:
            raise ProviderError(
                f"event id {google_id} belongs to another event, not series {spec.series_id}"
            )
        return event

    def end_series(self, ref: SeriesRef, spec: SeriesSpec, from_day: date) -> None:
        """Rewrite the RRULE to end before ``from_day``, or delete it if nothing would remain."""
        try:
            if from_day <= first_start(spec).astimezone(spec.slot.tz).date():
                self._client.execute(
                    lambda s: s.events().delete(
                        calendarId=_PRIMARY, eventId=ref.provider_event_id, sendUpdates="all"
                    )
                )
                return
            last_day = from_day - timedelta(days=1)
            if spec.until is not None and spec.until < last_day:
                return  # it already ends earlier; never lengthen a series here
            self._patch(ref.provider_event_id, recurrence_fields(spec, last_day))
        except NotFound:
            return  # already deleted: nothing remains, which is what was asked

    def move_occurrence(
        self, ref: SeriesRef, spec: SeriesSpec, original_start: datetime, new_start: datetime
    ) -> None:
        """Move one occurrence (addressed by its instance id), keeping the slot's duration."""
        occurrence = instance_id(ref.provider_event_id, original_start)
        self._patch(occurrence, time_fields(spec, new_start))

    def cancel_occurrence(self, ref: SeriesRef, spec: SeriesSpec, original_start: datetime) -> None:
        """Cancel one occurrence; the guest is told. Already cancelled counts as done."""
        occurrence = instance_id(ref.provider_event_id, original_start)
        try:
            self._client.execute(
                lambda s: s.events().delete(
                    calendarId=_PRIMARY, eventId=occurrence, sendUpdates="all"
                )
            )
        except NotFound:
            return

    def update_occurrence_agenda(
        self,
        ref: SeriesRef,
        spec: SeriesSpec,
        original_start: datetime,
        agenda: AgendaDocument,
    ) -> None:
        """Replace one occurrence's description, agenda attachment and agenda hash."""
        occurrence = instance_id(ref.provider_event_id, original_start)
        self._patch(occurrence, agenda_fields(spec, agenda))

    def _patch(self, google_id: str, body: Event) -> None:
        self._client.execute(
            lambda s: s.events().patch(
                calendarId=_PRIMARY,
                eventId=google_id,
                body=body,
                sendUpdates="all",
                supportsAttachments=True,
            )
        )

    # ------------------------------------------------------------------ sync

    def changes(self, cursor: str | None, *, full: bool = False) -> ChangeSet:
        """Changes to Cadence's events since ``cursor`` (a sync token).

        ``None``, ``full``, or a token Google refuses with 410, means a full listing
        (``full_sync=True``): it includes cancelled occurrences of recurring events, so what
        happened while notifications were lost is still seen. The returned cursor is the last
        page's ``nextSyncToken``.
        """
        if full:
            cursor = None
        try:
            changes, token = self._read_changes(cursor)
            full_sync = cursor is None
        except Gone:
            changes, token = self._read_changes(None)
            full_sync = True
        return ChangeSet(changes=changes, cursor=token, full_sync=full_sync)

    def _read_changes(self, sync_token: str | None) -> tuple[tuple[CalendarChange, ...], str]:
        pages = list(self._event_pages(sync_token))
        items = [item for page in pages for item in page.get("items", [])]
        return changes_from_events(items), pages[-1]["nextSyncToken"]

    def _event_pages(self, sync_token: str | None) -> Iterator[dict[str, Any]]:
        # showDeleted on full listings too, so a deleted series is seen after a 410 as well.
        return self._client.pages(
            lambda s, page_token: s.events().list(
                calendarId=_PRIMARY,
                syncToken=sync_token,
                pageToken=page_token,
                showDeleted=True,
                maxResults=250,
            )
        )

    # ------------------------------------------------------------------ push

    def open_channel(self, callback_url: str) -> Channel:
        return push.open_channel(self._client, callback_url)

    def renew_channel(self, channel: Channel, callback_url: str) -> Channel:
        return push.renew_channel(self._client, channel, callback_url)

    def close_channel(self, channel: Channel) -> None:
        push.close_channel(self._client, channel)


def _rfc3339(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _parse_rfc3339(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _event_instant(when: dict[str, str], calendar_zone: str) -> datetime:
    """An EventDateTime as an instant; an all-day date starts at midnight in the calendar's
    zone (Google gives it at the top of every events.list page)."""
    if "dateTime" in when:
        return _parse_rfc3339(when["dateTime"])
    day = date.fromisoformat(when["date"])
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(when.get("timeZone", calendar_zone)))
