"""Web fixtures: the app built from test settings, an in-memory calendar and a pinned clock."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.crypto import TokenCipher
from scheduler.models import OutboxMessage, Person, Provider
from scheduler.usecases.connections import save_connection
from scheduler.usecases.directory import add_rep
from tests.memory_provider import MemoryCalendar
from web.app import create_app
from web.identity import hash_password

# A Monday in New York, two weeks before the US clocks go back (1 November 2026).
NOW = datetime(2026, 10, 19, 13, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def calendar() -> MemoryCalendar:
    return MemoryCalendar()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def app(settings, database, calendar, clock) -> Flask:
    return create_app(settings, database=database, providers=lambda _row: calendar, clock=clock)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/signin") -> str:
    """The CSRF token a page's forms carry (the session cookie keeps its twin)."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post(
    client: FlaskClient, path: str, data: dict | None = None, *, page: str | None = None, **kw
):  # type: ignore[no-untyped-def]
    """POST a form the way a browser would: with the token from a page of the app."""
    form = {"csrf_token": csrf_token(client, page or "/signin"), **(data or {})}
    return client.post(path, data=form, **kw)


@dataclass
class Org:
    """An organisation made through the sign-up page: its admin-manager and two reps."""

    org_id: str
    manager_id: str
    manager_email: str
    rep_ids: list[str]


def sign_up_form(
    client: FlaskClient, email: str, name: str, zone: str, organization: str = "", **extra
):  # type: ignore[no-untyped-def]
    """Only the sign-up form: an accepted one leaves the address to confirm."""
    return post(
        client,
        "/signup",
        {
            "email": email,
            "name": name,
            "zone": zone,
            "password": PASSWORD,
            "organization": organization,
            **extra,
        },
        page="/signup",
    )


def sign_up(client: FlaskClient, email: str, name: str, zone: str, organization: str = "", **extra):  # type: ignore[no-untyped-def]
    """Sign up as a person does: the form, then the link mailed to the address (read from the
    outbox), then sign in. Returns the sign-in's answer, or the form's when it was refused."""
    answer = sign_up_form(client, email, name, zone, organization, **extra)
    if answer.status_code != 302 or not answer.location.startswith("/verify-email"):
        return answer
    assert client.get(mailed_link(client.application, email, "verify-email")).status_code == 302
    return sign_in(client, email, extra.get("password", PASSWORD))


def mailed_link(app: Flask, email: str, kind: str) -> str:
    """The path of the link in the newest ``kind`` message to ``email`` in the outbox."""
    database = app.extensions["cadence"].database
    with database.session() as db:
        message = db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.to_email == email.lower(), OutboxMessage.kind == kind)
            .order_by(OutboxMessage.created_at.desc())
        ).first()
    assert message is not None, f"no {kind} message to {email}"
    found = re.search(r"http://127\.0\.0\.1:\d+(/\S+)", message.text_body)  # any base URL port
    assert found, message.text_body
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return post(client, "/signin", {"email": email, "password": password})


@pytest.fixture
def make_org(app: Flask, database, settings) -> Callable[..., Org]:
    """Sign up a manager (the organisation's admin), connect their calendar, add two reps."""

    def make(
        client: FlaskClient,
        email: str = "pat@acme.test",
        name: str = "Patrick",
        organization: str = "Acme",
        reps: tuple[tuple[str, str, str], ...] = (
            ("george@acme.test", "George", "America/New_York"),
            ("lena@acme.test", "Lena", "Europe/London"),
        ),
    ) -> Org:
        answer = sign_up(client, email, name, "America/New_York", organization)
        assert answer.status_code == 302, answer.get_data(as_text=True)
        with client.session_transaction() as session:
            org_id, manager_id = session["org_id"], session["person_id"]
        save_connection(
            database,
            TokenCipher(settings.token_keys),
            org_id=org_id,
            person_id=manager_id,
            provider=Provider.GOOGLE,
            account_email=email,
            grant=b"{}",
            now=NOW,
        )
        rep_ids = [
            add_rep(
                database,
                org_id=org_id,
                manager_id=manager_id,
                email=rep_email,
                name=rep_name,
                zone=zone,
                now=NOW,
            )
            for rep_email, rep_name, zone in reps
        ]
        return Org(org_id, manager_id, email, rep_ids)

    return make


def set_password(database, email: str) -> None:
    """Give an invited person the test password, as if they had signed up (and so joined)
    and confirmed their address."""
    with database.session() as db:
        for person in db.scalars(select(Person).where(Person.email == email)):
            person.password_hash = hash_password(PASSWORD)
            person.joined_at = person.joined_at or NOW
            person.email_verified_at = person.email_verified_at or NOW
