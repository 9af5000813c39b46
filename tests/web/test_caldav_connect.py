"""Connecting a CalDAV calendar from the account page, against a real Radicale server.

Radicale listens on 127.0.0.1, so these deployments allow its origin
(``CADENCE_CALDAV_PRIVATE_ORIGINS``) as an operator would for a self-hosted server; without
that setting it is refused like any other loopback address.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from integrations.caldav import CalDAVCredentials
from scheduler.crypto import TokenCipher
from scheduler.models import CalendarConnection, Provider
from scheduler.settings import Settings, origin_of
from tests.web.conftest import post, sign_up
from web.app import create_app
from web.demo.radicale import RadicaleServer, running_radicale


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale({"pat": "app-password"}) as server:
        server.make_calendar("pat", "work", "Work")
        yield server


@pytest.fixture
def settings(settings: Settings, radicale: RadicaleServer) -> Settings:
    return dataclasses.replace(
        settings, caldav_private_origins=frozenset({origin_of(radicale.url) or ""})
    )


def connect(client, radicale, **changes):  # type: ignore[no-untyped-def]
    form = {
        "url": radicale.url,
        "username": "pat",
        "password": "app-password",
        "email": "",
        "calendar": "Work",
        **changes,
    }
    return post(client, "/account/caldav", form, page="/account")


def test_a_caldav_calendar_is_checked_then_stored_encrypted(client, radicale, database, settings):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    answer = connect(client, radicale)
    assert answer.status_code == 302
    with database.session() as db:
        row = db.scalar(select(CalendarConnection))
    assert row.provider == Provider.CALDAV and row.account_email == "pat@acme.test"
    assert b"app-password" not in row.token_blob
    saved = CalDAVCredentials.from_blob(TokenCipher(settings.token_keys).decrypt(row.token_blob))
    assert saved.password == "app-password"
    # Where the check found the calendar: its first use opens it there.
    assert saved.calendar_url == f"{radicale.url}pat/work/"
    assert "Working" in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "wrong"}, "password"),
        ({"calendar": "Holidays"}, "calendar"),
        ({"url": "ftp://127.0.0.1/"}, "url"),
        ({"username": ""}, "username"),
    ],
)
def test_each_wrong_setting_is_named_beside_its_field(client, radicale, database, change, field):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    answer = connect(client, radicale, **change)
    assert answer.status_code == 400
    assert f'id="e-{field}"' in answer.get_data(as_text=True)
    with database.session() as db:
        assert db.scalar(select(CalendarConnection)) is None


def test_without_the_setting_a_loopback_server_is_refused_in_plain_words(
    settings, database, radicale
):
    strict = dataclasses.replace(settings, caldav_private_origins=frozenset())
    client = create_app(strict, database=database).test_client()
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    as_typed = connect(client, radicale)
    over_https = connect(client, radicale, url=radicale.url.replace("http:", "https:"))
    assert (as_typed.status_code, over_https.status_code) == (400, 400)
    assert url_error(as_typed) == (
        "Use the server&#39;s https:// address: Cadence does not send calendar passwords "
        "over plain http."
    )
    assert url_error(over_https).startswith(
        "Cadence does not connect to 127.0.0.1: it is a loopback address."
    )
    with database.session() as db:
        assert db.scalar(select(CalendarConnection)) is None


def test_an_allowed_origin_must_match_scheme_host_and_port(client, radicale, database):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    other_port = connect(client, radicale, url="https://127.0.0.1:9/")
    assert "it is a loopback address" in url_error(other_port)
    by_name = connect(
        client, radicale, url=radicale.url.replace("http://127.0.0.1", "https://localhost")
    )
    assert url_error(by_name).startswith("Cadence does not connect to localhost (")
    with database.session() as db:
        assert db.scalar(select(CalendarConnection)) is None


def url_error(answer) -> str:  # type: ignore[no-untyped-def]
    """The message beside the URL field: plain words, never the HTTP library's own."""
    found = re.search(r'<p class="error" id="e-url">([^<]*)</p>', answer.get_data(as_text=True))
    assert found, "no error beside the URL"
    return found.group(1)
