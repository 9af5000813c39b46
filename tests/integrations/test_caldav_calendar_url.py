"""Where the CalDAV adapter finds its calendar: once from the account, then at the URL it
remembered with the credentials, and again from the account when that URL is gone.

Against a real Radicale. Requests are seen where the adapter's outbound policy checks them:
every request of the client is checked (redirects too) before it is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from integrations.caldav import CalDAVCalendar, CalDAVCredentials, CalendarNotFound
from integrations.outbound import OutboundPolicy
from integrations.retry import RetryPolicy
from scheduler.intervals import Interval
from tests.fakes import MemoryTokenStore
from tests.integrations.test_caldav import MANAGER, add_event, new_spec
from tests.integrations.test_caldav_connection import plain_http_server
from web.demo.radicale import RadicaleServer

WINDOW = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))


@dataclass(frozen=True)
class SeenPolicy(OutboundPolicy):
    """The policy of a deployment trusting the test's servers, keeping every URL it checks."""

    seen: list[str] = field(default_factory=list, compare=False)

    def check_url(self, url: str) -> None:
        self.seen.append(url)
        super().check_url(url)


@pytest.fixture
def name(calendar_name: str) -> str:
    return calendar_name


def policy(*servers: str) -> SeenPolicy:
    return SeenPolicy(OutboundPolicy.trusting(servers).trusted_origins)


def credentials(radicale: RadicaleServer, name: str, **more: str) -> CalDAVCredentials:
    return CalDAVCredentials(radicale.url, "manager", "app-password", MANAGER, name, **more)


def adapter(store: MemoryTokenStore, outbound: OutboundPolicy) -> CalDAVCalendar:
    return CalDAVCalendar(store, retry=RetryPolicy(attempts=1), outbound=outbound)


def busy_labels(store: MemoryTokenStore, outbound: OutboundPolicy) -> list[str]:
    """One operation on a connection opened afresh, as each job and page opens it."""
    calendar = adapter(store, outbound)
    try:
        return [busy.label for busy in calendar.free_busy([MANAGER], WINDOW)[MANAGER].busy]
    finally:
        calendar.close()


def used_once(radicale: RadicaleServer, name: str) -> MemoryTokenStore:
    """The store of a connection whose calendar a first operation found and remembered."""
    store = MemoryTokenStore(credentials(radicale, name).to_blob())
    busy_labels(store, policy(radicale.url))
    return store


def remembered(store: MemoryTokenStore) -> str:
    assert store.blob is not None
    return CalDAVCredentials.from_blob(store.blob).calendar_url


def move_calendar(radicale: RadicaleServer, name: str) -> str:
    """Delete the calendar and make one of the same name elsewhere; its new URL."""
    with radicale.client("manager") as client:
        client.principal().calendar(name=name).delete()
    return radicale.make_calendar("manager", f"{name}-moved", name)


def add_busy(radicale: RadicaleServer, name: str, summary: str) -> None:
    with radicale.client("manager") as client:
        add_event(
            client.principal().calendar(name=name), summary, WINDOW.start + timedelta(hours=9)
        )


def test_the_second_operation_opens_the_calendar_where_the_first_found_it(
    radicale: RadicaleServer, name: str
) -> None:
    store = MemoryTokenStore(credentials(radicale, name).to_blob())
    first = policy(radicale.url)
    assert busy_labels(store, first) == []
    calendar_url = f"{radicale.url}manager/{name}/"
    assert remembered(store) == calendar_url and store.saves == 1
    assert any(not url.startswith(calendar_url) for url in first.seen)  # it was found

    second = policy(radicale.url)
    add_busy(radicale, name, "Pipeline review")
    assert busy_labels(store, second) == ["Pipeline review"]
    # The server URL is checked as the client opens (no request); then every request goes
    # to the calendar itself: no principal, home set or calendar list.
    opening, *requests = second.seen
    assert opening == radicale.url
    assert requests and all(url.startswith(calendar_url) for url in requests)
    assert store.saves == 1


def test_a_blob_saved_before_the_calendar_url_was_kept_still_works(
    radicale: RadicaleServer, name: str
) -> None:
    old = {"url": radicale.url, "username": "manager", "password": "app-password"}
    store = MemoryTokenStore(json.dumps(old | {"email": MANAGER, "calendar": name}).encode())
    add_busy(radicale, name, "Forecast call")
    assert busy_labels(store, policy(radicale.url)) == ["Forecast call"]
    assert remembered(store) == f"{radicale.url}manager/{name}/"


def test_a_calendar_moved_on_the_server_is_found_again_and_remembered(
    radicale: RadicaleServer, name: str
) -> None:
    store = used_once(radicale, name)
    moved_to = move_calendar(radicale, name)
    add_busy(radicale, name, "Moved along")
    assert busy_labels(store, policy(radicale.url)) == ["Moved along"]
    assert remembered(store) == moved_to and store.saves == 2


def test_a_series_is_booked_in_the_calendar_where_it_moved(
    radicale: RadicaleServer, name: str
) -> None:
    # A PUT into a calendar that is gone is answered 409 (Conflict), not 404.
    store = used_once(radicale, name)
    moved_to = move_calendar(radicale, name)
    calendar = adapter(store, policy(radicale.url))
    ref = calendar.create_series(new_spec())
    calendar.close()
    assert ref.extra["href"].startswith(moved_to.removeprefix(radicale.url.rstrip("/")))
    assert remembered(store) == moved_to


def test_a_calendar_deleted_on_the_server_is_not_found(radicale: RadicaleServer, name: str) -> None:
    store = used_once(radicale, name)
    with radicale.client("manager") as client:
        client.principal().calendar(name=name).delete()
    with pytest.raises(CalendarNotFound, match=name):
        busy_labels(store, policy(radicale.url))


def test_a_remembered_url_on_another_server_is_never_followed(
    radicale: RadicaleServer, name: str
) -> None:
    with plain_http_server(200) as elsewhere:
        stored = credentials(radicale, name, calendar_url=f"{elsewhere.url}manager/{name}/")
        store = MemoryTokenStore(stored.to_blob())
        # Even a server the policy would allow: the URL is not the credentials' server's.
        assert busy_labels(store, policy(radicale.url, elsewhere.url)) == []
    assert elsewhere.methods == []
    assert remembered(store) == f"{radicale.url}manager/{name}/"


def test_settings_changed_on_the_account_page_find_their_own_calendar(
    radicale: RadicaleServer, name: str
) -> None:
    store = used_once(radicale, name)
    other = f"team-{uuid4().hex[:8]}"
    radicale.make_calendar("manager", other, other)
    add_busy(radicale, other, "Team offsite")
    # What the account page saves: the typed settings, no remembered URL.
    store.save(credentials(radicale, other).to_blob())
    assert busy_labels(store, policy(radicale.url)) == ["Team offsite"]
    assert remembered(store) == f"{radicale.url}manager/{other}/"


class ChangedMeanwhile(MemoryTokenStore):
    """A store whose credentials the person replaces just after a job read them."""

    def __init__(self, before: bytes, after: bytes):
        super().__init__(before)
        self.after = after

    def load(self) -> bytes | None:
        blob, self.blob = self.blob, self.after
        return blob


def test_a_calendar_found_with_old_settings_does_not_overwrite_new_ones(
    radicale: RadicaleServer, name: str
) -> None:
    typed_meanwhile = credentials(radicale, "Another calendar").to_blob()
    store = ChangedMeanwhile(credentials(radicale, name).to_blob(), typed_meanwhile)
    assert busy_labels(store, policy(radicale.url)) == []
    assert store.blob == typed_meanwhile and store.saves == 0
