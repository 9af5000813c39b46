"""Connecting a CalDAV calendar from the account page, against a real Radicale server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from scheduler.crypto import TokenCipher
from scheduler.models import CalendarConnection, Provider
from tests.web.conftest import post, sign_up
from web.demo.radicale import RadicaleServer, running_radicale


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale({"pat": "app-password"}) as server:
        server.make_calendar("pat", "work", "Work")
        yield server


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
    assert b"app-password" in TokenCipher(settings.token_keys).decrypt(row.token_blob)
    assert "Working" in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "wrong"}, "password"),
        ({"calendar": "Holidays"}, "calendar"),
        ({"url": "http://127.0.0.1:9/"}, "url"),
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
