"""Outbound requests to a server a person named: https, public addresses, every hop checked.

Radicale and the small redirecting servers here listen on 127.0.0.1; names that resolve to
other addresses come from a resolver the test gives the policy (the only way to own a
name's answer without a DNS server of our own).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from integrations.base import ReconnectRequired
from integrations.caldav import CalDAVCalendar, CalDAVCredentials, check_connection
from integrations.checked_http import checked_session
from integrations.outbound import OutboundPolicy, OutboundRefused, address_refusal
from integrations.retry import RetryPolicy
from scheduler.intervals import Interval
from tests.fakes import MemoryTokenStore
from tests.integrations.test_caldav_connection import plain_http_server
from web.demo.radicale import RadicaleServer, running_radicale

EMAIL = "manager@example.com"
WINDOW = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))
PUBLIC = "93.184.215.14"


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale({"manager": "app-password"}) as server:
        server.make_calendar("manager", "work", "Work")
        yield server


def credentials(url: str) -> CalDAVCredentials:
    return CalDAVCredentials(url, "manager", "app-password", EMAIL)


class Names:
    """A resolver with the answers a test gives it, counting the lookups."""

    def __init__(self, **answers: list[str]):
        self.answers = {name.replace("_", "-") + ".test": found for name, found in answers.items()}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host in self.answers:
            return self.answers[host]
        return [str(info[4][0]) for info in socket.getaddrinfo(host, port)]


@pytest.mark.parametrize(
    ("address", "refusal"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("0.0.0.0", "an unspecified address"),
        ("10.1.2.3", "a private network address"),
        ("172.16.0.9", "a private network address"),
        ("192.168.1.20", "a private network address"),
        ("fd12::1", "a private network address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.251", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("100.64.0.1", "not a public address"),
        ("2002:7f00:1::", "a loopback address"),  # 6to4 carrying 127.0.0.1
        (PUBLIC, None),
        ("2606:4700::1111", None),
    ],
)
def test_only_public_addresses_are_allowed(address: str, refusal: str | None) -> None:
    assert address_refusal(ipaddress.ip_address(address)) == refusal


def test_a_loopback_server_is_refused_unless_its_origin_is_trusted(
    radicale: RadicaleServer,
) -> None:
    with pytest.raises(OutboundRefused, match="plain http"):
        check_connection(credentials(radicale.url))
    over_https = radicale.url.replace("http:", "https:")
    with pytest.raises(OutboundRefused, match=r"127\.0\.0\.1: it is a loopback address"):
        check_connection(credentials(over_https))
    trusted = OutboundPolicy.trusting([radicale.url])
    assert check_connection(credentials(radicale.url), trusted) == ("Work",)


def test_every_request_of_a_saved_connection_holds_to_the_policy(
    radicale: RadicaleServer,
) -> None:
    """Free/busy, changes and booking: not only the connect form."""
    store = MemoryTokenStore(credentials(radicale.url).to_blob())
    strict = CalDAVCalendar(store, retry=RetryPolicy(attempts=1))
    with pytest.raises(OutboundRefused) as refused:
        strict.free_busy([EMAIL], WINDOW)
    assert isinstance(refused.value, ReconnectRequired)  # the manager is asked to reconnect
    with pytest.raises(OutboundRefused):
        strict.changes(None)
    trusted = CalDAVCalendar(store, outbound=OutboundPolicy.trusting([radicale.url]))
    assert trusted.free_busy([EMAIL], WINDOW)[EMAIL].busy == ()
    assert trusted.changes(None).changes == ()
    trusted.close()


@pytest.mark.parametrize(
    "answers",
    [["10.1.2.3"], [PUBLIC, "10.1.2.3"], ["::1"], ["169.254.169.254"]],
    ids=["private", "one-of-several", "loopback-v6", "cloud-metadata"],
)
def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(
    answers: list[str],
) -> None:
    names = Names(calendar=answers)
    policy = OutboundPolicy(resolve=names)
    with pytest.raises(OutboundRefused, match=r"Cadence does not connect to calendar\.test \("):
        check_connection(credentials("https://calendar.test/dav/"), policy)
    assert names.lookups == ["calendar.test"]


@contextmanager
def redirecting_server(location: str) -> Iterator[str]:
    """A server on 127.0.0.1 that answers every request with a redirect to ``location``."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            self.send_response(307)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_OPTIONS = do_PROPFIND = do_REPORT = answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_redirect_to_a_private_address_is_refused(radicale: RadicaleServer) -> None:
    names = Names(internal=["10.0.0.7"])
    with redirecting_server("https://internal.test/admin") as trusted_url:
        policy = OutboundPolicy.trusting([trusted_url], resolve=names)
        with pytest.raises(OutboundRefused, match=r"internal\.test \(10\.0\.0\.7\)"):
            check_connection(credentials(trusted_url), policy)
    assert "internal.test" in names.lookups


def test_a_redirect_from_a_trusted_server_to_an_untrusted_local_one_is_refused(
    radicale: RadicaleServer,
) -> None:
    with (
        plain_http_server(200, DAV="1, calendar-access") as other,
        redirecting_server(other.url) as trusted_url,
    ):
        policy = OutboundPolicy.trusting([trusted_url])
        with pytest.raises(OutboundRefused, match="plain http"):
            check_connection(credentials(trusted_url), policy)
        over_https = other.url.replace("http:", "https:")
        with (
            redirecting_server(over_https) as second_url,
            pytest.raises(OutboundRefused, match="it is a loopback address"),
        ):
            check_connection(credentials(second_url), OutboundPolicy.trusting([second_url]))
    assert other.methods == []  # the redirect target never received a request


def test_the_connection_goes_to_the_addresses_checked_from_one_lookup() -> None:
    """A name that answers a public address, then (rebound) a loopback one, is looked up
    once per connection, and the socket is given exactly the address that was checked."""
    answers = iter([[PUBLIC], ["127.0.0.1"]])
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    session = checked_session(OutboundPolicy(resolve=rebinding))
    records = session.resolver.getaddrinfo("rebind.test", 443, socket.AF_UNSPEC, socket.SOCK_STREAM)
    assert [record[4] for record in records] == [(PUBLIC, 443)]
    assert lookups == ["rebind.test"]
    session.close()
