"""Connecting a CalDAV account: each wrong setting gets an error that says which one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.base import RateLimited, ReconnectRequired, Transient
from integrations.caldav import (
    CalDAVCalendar,
    CalDAVCredentials,
    CalendarNotFound,
    NotCalDAV,
    ServerUnreachable,
    WrongPassword,
    check_connection,
    connect,
)
from integrations.outbound import OutboundPolicy
from integrations.retry import RetryPolicy
from scheduler.intervals import Interval
from tests.fakes import MemoryTokenStore
from web.demo.radicale import RadicaleServer, free_port, running_radicale

EMAIL = "manager@example.com"
WINDOW = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale({"manager": "app-password"}) as server:
        server.make_calendar("manager", "work", "Work")
        server.make_calendar("manager", "team", "Team")
        yield server


def local(url: str) -> OutboundPolicy:
    """The policy of a deployment whose operator allowed this local server."""
    return OutboundPolicy.trusting([url])


def credentials(server_url: str, password: str = "app-password", calendar: str = ""):
    return CalDAVCredentials(server_url, "manager", password, EMAIL, calendar)


@dataclass
class PlainWebServer:
    """A web server that is not CalDAV, and the request methods it received."""

    url: str
    methods: list[str] = field(default_factory=list)


@contextmanager
def plain_http_server(status: int, **headers: str) -> Iterator[PlainWebServer]:
    """Answer every request with ``status``, ``headers`` and a bit of HTML, no DAV header."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            received.append(self.command)
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", "13")
            self.end_headers()
            self.wfile.write(b"<html></html>")

        do_GET = do_OPTIONS = do_PROPFIND = do_REPORT = do_PUT = do_DELETE = answer

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield PlainWebServer(f"http://127.0.0.1:{server.server_address[1]}/", received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_check_connection_lists_the_calendars(radicale: RadicaleServer) -> None:
    assert sorted(check_connection(credentials(radicale.url), local(radicale.url))) == [
        "Team",
        "Work",
    ]


def test_a_wrong_password_says_so(radicale: RadicaleServer) -> None:
    with pytest.raises(WrongPassword, match="refused the username or password"):
        check_connection(credentials(radicale.url, password="not-it"), local(radicale.url))


def test_nothing_listening_is_unreachable() -> None:
    with pytest.raises(ServerUnreachable, match="cannot reach"):
        url = f"http://127.0.0.1:{free_port()}/"
        check_connection(credentials(url), local(url))


@pytest.mark.parametrize("status", [200, 404])
def test_a_web_server_that_is_not_caldav_is_named(status: int) -> None:
    with plain_http_server(status) as web, pytest.raises(NotCalDAV, match="does not announce"):
        check_connection(credentials(web.url), local(web.url))


def test_a_path_outside_the_account_is_named(radicale: RadicaleServer) -> None:
    with pytest.raises(NotCalDAV, match="no CalDAV account of yours"):
        check_connection(credentials(radicale.url + "someone-else/"), local(radicale.url))


def test_an_unknown_calendar_name_is_named(radicale: RadicaleServer) -> None:
    with pytest.raises(CalendarNotFound, match="'Holidays'"):
        check_connection(credentials(radicale.url, calendar="Holidays"), local(radicale.url))


def test_connect_saves_the_credentials_once_checked(radicale: RadicaleServer) -> None:
    store = MemoryTokenStore()
    chosen = credentials(radicale.url, calendar="Team")
    assert sorted(connect(store, chosen, local(radicale.url))) == ["Team", "Work"]
    assert store.blob is not None
    # With where the calendar is: its first use opens it there.
    assert CalDAVCredentials.from_blob(store.blob) == chosen.found_at(
        f"{radicale.url}manager/team/"
    )


def test_connect_saves_nothing_when_the_check_fails(radicale: RadicaleServer) -> None:
    store = MemoryTokenStore()
    with pytest.raises(WrongPassword):
        connect(store, credentials(radicale.url, password="not-it"), local(radicale.url))
    assert store.saves == 0


def test_the_calendar_chosen_by_name_is_the_one_used(radicale: RadicaleServer) -> None:
    with radicale.client("manager") as client:
        team = client.principal().calendar(name="Team")
        team.add_event(
            "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:team-standup\n"
            "DTSTAMP:20260101T000000Z\nDTSTART:20270302T080000Z\nDTEND:20270302T090000Z\n"
            "SUMMARY:Team standup\nEND:VEVENT\nEND:VCALENDAR\n"
        )
    busy_by_calendar = {}
    for name in ("Team", "Work"):
        store = MemoryTokenStore(credentials(radicale.url, calendar=name).to_blob())
        provider = CalDAVCalendar(store, outbound=local(radicale.url))
        busy_by_calendar[name] = [
            busy.label for busy in provider.free_busy([EMAIL], WINDOW)[EMAIL].busy
        ]
        provider.close()
    assert busy_by_calendar == {"Team": ["Team standup"], "Work": []}


def test_no_saved_credentials_means_reconnect() -> None:
    provider = CalDAVCalendar(MemoryTokenStore())
    with pytest.raises(ReconnectRequired, match="connect the calendar"):
        provider.free_busy([EMAIL], WINDOW)


def test_unreadable_saved_credentials_mean_reconnect() -> None:
    provider = CalDAVCalendar(MemoryTokenStore(b'{"url": "https://x"}'))
    with pytest.raises(ReconnectRequired, match="unreadable"):
        provider.free_busy([EMAIL], WINDOW)


def test_the_password_stays_out_of_logs() -> None:
    assert "app-password" not in repr(credentials("https://caldav.example/"))


def test_a_password_revoked_later_means_reconnect(radicale: RadicaleServer) -> None:
    store = MemoryTokenStore(credentials(radicale.url, password="revoked").to_blob())
    provider = CalDAVCalendar(
        store, retry=RetryPolicy(attempts=3, sleep=lambda _: None), outbound=local(radicale.url)
    )
    with pytest.raises(ReconnectRequired):
        provider.free_busy([EMAIL], WINDOW)


def test_server_errors_are_transient_and_retried() -> None:
    pauses: list[float] = []
    with plain_http_server(500) as web:
        store = MemoryTokenStore(credentials(web.url).to_blob())
        provider = CalDAVCalendar(
            store, retry=RetryPolicy(attempts=2, sleep=pauses.append), outbound=local(web.url)
        )
        with pytest.raises(Transient):
            provider.free_busy([EMAIL], WINDOW)
    assert len(pauses) == 1
    assert len(web.methods) == 2


def test_a_server_asking_to_slow_down_is_rate_limited_for_as_long_as_it_says() -> None:
    pauses: list[float] = []
    with plain_http_server(429, Retry_After="7") as web:
        store = MemoryTokenStore(credentials(web.url).to_blob())
        provider = CalDAVCalendar(
            store, retry=RetryPolicy(attempts=2, sleep=pauses.append), outbound=local(web.url)
        )
        with pytest.raises(RateLimited):
            provider.free_busy([EMAIL], WINDOW)
    assert pauses == [7.0]
