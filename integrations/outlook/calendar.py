"""``OutlookCalendar``: a manager's Microsoft 365 calendar behind ``CalendarProvider``.

Booking follows Graph's rule that attendees only see attachments added before they are
invited (PROVIDERS.md): create the series, attach the agenda, then invite the rep. Each step
checks what the previous attempt left, so a retry after a crash anywhere converges on one
event, one attachment and one invitation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests

from integrations.base import (
    AccountZone,
    AgendaDocument,
    ChangeSet,
    Channel,
    NotFound,
    PersonAvailability,
    SeriesRef,
    SeriesSpec,
    TokenStore,
)
from integrations.outlook import events as payloads
from integrations.outlook import mailbox, subscriptions
from integrations.outlook.auth import TokenSource, http_session
from integrations.outlook.graph import (
    SHARED_LIMITER,
    BatchRequest,
    Conflict,
    GraphClient,
    MailboxLimiter,
    checked,
)
from integrations.outlook.schedule import read_availability
from integrations.outlook.sync import read_changes, restart
from integrations.retry import RetryPolicy
from scheduler.intervals import Interval
from scheduler.settings import MicrosoftSettings

DEFAULT_HORIZON = timedelta(weeks=13)  # one agenda period (PRODUCT.md)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OutlookCalendar:
    """One connected Microsoft 365 account: ``CalendarProvider`` and ``PushChannels``."""

    def __init__(
        self,
        settings: MicrosoftSettings,
        store: TokenStore,
        *,
        retry: RetryPolicy | None = None,
        limiter: MailboxLimiter = SHARED_LIMITER,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        horizon: timedelta = DEFAULT_HORIZON,
        clock: Callable[[], datetime] = _utc_now,
    ):
        session = session or http_session(settings)
        self.tokens = TokenSource(settings, store)
        self.graph = GraphClient(
            settings.graph_url,
            self.tokens,
            session,
            retry=retry or RetryPolicy(),
            limiter=limiter,
            timeout=timeout,
        )
        self._horizon = horizon
        self._clock = clock

    # ------------------------------------------------------------------ availability

    def free_busy(self, emails: Sequence[str], window: Interval) -> dict[str, PersonAvailability]:
        return read_availability(self.graph, emails, window)

    def account_zone(self) -> AccountZone | None:
        """The mailbox's zone and working hours (``MailboxSettings.Read``)."""
        return mailbox.account_zone(self.graph.call("GET", mailbox.SETTINGS_URL) or {})

    # ------------------------------------------------------------------ booking

    def create_series(self, spec: SeriesSpec) -> SeriesRef:
        """Create (or find again) the series, attach the agenda, then invite the rep."""
        event = self._create_or_find(spec)
        event_id = event["id"]
        if not event.get("hasAttachments") or not self._has_attachment(
            event_id, spec.agenda.filename
        ):
            self.graph.call(
                "POST",
                f"/me/events/{event_id}/attachments",
                json=payloads.attachment_payload(spec.agenda),
            )
        if not payloads.has_attendee(event, spec.attendee_email):
            self.graph.call(
                "PATCH", f"/me/events/{event_id}", json=payloads.attendees_payload(spec)
            )
        return SeriesRef(event_id, {"transaction_id": payloads.transaction_id(spec.series_id)})

    def _create_or_find(self, spec: SeriesSpec) -> dict[str, Any]:
        """POST with the series' transactionId: Graph hands back the first event on a retry.

        What Graph answers to a repeated transactionId is not documented; if it is a 409,
        the event is found by Cadence's extended property instead.
        """
        try:
            created: dict[str, Any] = self.graph.call(
                "POST",
                "/me/events",
                json=payloads.create_payload(spec),
                headers=self._prefer_zone(spec),
            )
        except Conflict:
            found = self._find_series(spec)
            if found is None:
                raise
            return found
        return created

    def _find_series(self, spec: SeriesSpec) -> dict[str, Any] | None:
        prop = payloads.SERIES_PROPERTY_ID
        query = {
            "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{prop}' and "
            f"ep/value eq '{spec.series_id}')",
            "$expand": payloads.EXPAND_SERIES_PROPERTY,
        }
        page = self.graph.call("GET", "/me/events", params=query, headers=self._prefer_zone(spec))
        return next(iter(page.get("value", [])), None)

    def _has_attachment(self, event_id: str, name: str) -> bool:
        page = self.graph.call(
            "GET", f"/me/events/{event_id}/attachments", params={"$select": "id,name"}
        )
        return any(a.get("name") == name for a in page.get("value", []))

    @staticmethod
    def _prefer_zone(spec: SeriesSpec) -> dict[str, str]:
        return {"Prefer": f'outlook.timezone="{spec.slot.zone}"'}

    def end_series(self, ref: SeriesRef, spec: SeriesSpec, from_day: date) -> None:
        """End before ``from_day`` (PATCH the range), or delete if nothing would remain."""
        first = spec.slot.first_on_or_after(spec.first_day)
        try:
            if from_day <= first:
                self.graph.call("DELETE", f"/me/events/{ref.provider_event_id}")
                return
            until = from_day - timedelta(days=1)
            recurrence = payloads.recurrence_payload(spec, first, until)
            self.graph.call(
                "PATCH", f"/me/events/{ref.provider_event_id}", json={"recurrence": recurrence}
            )
        except NotFound:
            return  # already gone: nothing remains after from_day

    def move_occurrence(
        self, ref: SeriesRef, spec: SeriesSpec, original_start: datetime, new_start: datetime
    ) -> None:
        occurrence = self._occurrence_id(ref, original_start)
        body = payloads.time_payload(spec, new_start)
        self.graph.call("PATCH", f"/me/events/{occurrence}", json=body)

    def cancel_occurrence(self, ref: SeriesRef, spec: SeriesSpec, original_start: datetime) -> None:
        """Cancel (organiser's ``cancel`` action tells the rep); already cancelled is done."""
        try:
            occurrence = self._occurrence_id(ref, original_start)
        except NotFound:
            return
        self.graph.call(
            "POST",
            f"/me/events/{occurrence}/cancel",
            json={"Comment": f"{spec.title}: this week's 1:1 is cancelled."},
        )

    def update_occurrence_agenda(
        self,
        ref: SeriesRef,
        spec: SeriesSpec,
        original_start: datetime,
        agenda: AgendaDocument,
    ) -> None:
        """New body and agenda file on one occurrence: two ``$batch`` round trips.

        The new file goes up first; only once it is there do the body change and the old
        file go. A failure before that leaves the old agenda whole, and the caller retries;
        a retry after a partial success removes every older copy of the file.
        """
        occurrence = self._occurrence_id(ref, original_start)
        base = f"/me/events/{occurrence}"
        first = checked(
            self.graph.batch(
                [
                    BatchRequest("files", "GET", f"{base}/attachments?$select=id,name"),
                    BatchRequest(
                        "add", "POST", f"{base}/attachments", payloads.attachment_payload(agenda)
                    ),
                ]
            )
        )
        added = first["add"]["id"]
        stale = [
            a["id"]
            for a in first["files"]["value"]
            if a["name"] == agenda.filename and a["id"] != added
        ]
        # The body changes after the file is there: attendees get the file with the update.
        answers = self.graph.batch(
            [
                BatchRequest("body", "PATCH", base, payloads.body_payload(agenda)),
                *(
                    BatchRequest(f"drop{n}", "DELETE", f"{base}/attachments/{a}")
                    for n, a in enumerate(stale)
                ),
            ]
        )
        checked({"body": answers.pop("body")})
        # An old file already gone (a retry) is as good as deleted.
        checked(answers, allow=(NotFound,))

    def _occurrence_id(self, ref: SeriesRef, original_start: datetime) -> str:
        """Graph's id of the occurrence that originally started at ``original_start``."""
        start, end = payloads.occurrence_window(original_start)
        page = self.graph.call(
            "GET",
            f"/me/events/{ref.provider_event_id}/instances",
            params={"startDateTime": payloads.utc_iso(start), "endDateTime": payloads.utc_iso(end)},
        )
        for item in page.get("value", []):
            if payloads.parse_instant(item["originalStart"]) == original_start.astimezone(UTC):
                occurrence_id: str = item["id"]
                return occurrence_id
        raise NotFound(f"no occurrence of {ref.provider_event_id} at {original_start}")

    # ------------------------------------------------------------------ sync

    def changes(self, cursor: str | None, *, full: bool = False) -> ChangeSet:
        """Delta since ``cursor``; ``full`` (after Graph's ``missed``) reads everything again
        and still reports what vanished since ``cursor``."""
        start = restart(cursor) if full else cursor
        return read_changes(self.graph, start, self._clock(), self._horizon)

    # ------------------------------------------------------------------ push channels

    def open_channel(self, callback_url: str) -> Channel:
        """Subscribe to the mailbox's events; Graph validates ``callback_url`` first."""
        secret = subscriptions.new_client_state()
        body = subscriptions.subscription_payload(
            callback_url, secret, self._clock() + subscriptions.LIFETIME
        )
        created = self.graph.call("POST", "/subscriptions", json=body)
        return subscriptions.channel_from(created, secret)

    def renew_channel(self, channel: Channel, callback_url: str) -> Channel:
        """Push the expiry out again; a subscription Graph dropped is opened anew."""
        body = subscriptions.expiration_payload(self._clock() + subscriptions.LIFETIME)
        try:
            renewed = self.graph.call("PATCH", f"/subscriptions/{channel.channel_id}", json=body)
        except NotFound:
            return self.open_channel(callback_url)
        return subscriptions.channel_from(renewed, channel.secret)

    def close_channel(self, channel: Channel) -> None:
        try:
            self.graph.call("DELETE", f"/subscriptions/{channel.channel_id}")
        except NotFound:
            return

    def follow_lifecycle(
        self, notification: subscriptions.Notification, channel: Channel, callback_url: str
    ) -> Channel:
        """Keep the channel alive after a lifecycle notification; the channel to keep.

        ``FULL_RESYNC`` and ``RECREATE`` also mean notifications were lost: call
        ``changes(cursor, full=True)``.
        """
        action = notification.action
        if action is subscriptions.NotificationAction.RENEW:
            return self.renew_channel(channel, callback_url)
        if action is subscriptions.NotificationAction.RECREATE:
            return self.open_channel(callback_url)
        return channel
