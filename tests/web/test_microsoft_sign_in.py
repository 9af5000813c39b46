""" "Continue with Microsoft" against the Graph emulator: MSAL's flow kept in the session,
one consent signs the manager in and stores the calendar connection."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from scheduler.models import CalendarConnection, Person, Provider
from tests.emulators.graph import GraphEmulator
from tests.integrations.outlook_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    MANAGER,
    populate,
    settings_for,
)
from web.app import create_app


@pytest.fixture
def graph(settings):
    with GraphEmulator() as emulator:
        populate(emulator)
        # The app registration lists this Cadence's own callback, as in Entra ID.
        emulator.register_app(
            CLIENT_ID, CLIENT_SECRET, f"{settings.base_url}/auth/microsoft/callback"
        )
        yield emulator


@pytest.fixture
def microsoft_app(settings, database, graph, clock):
    return create_app(
        dataclasses.replace(settings, microsoft=settings_for(graph)), database=database, clock=clock
    )


def test_one_microsoft_consent_signs_in_and_connects_the_calendar(microsoft_app, graph, database):
    client = microsoft_app.test_client()
    assert "Continue with Microsoft" in client.get("/signin").get_data(as_text=True)
    start = client.get("/auth/microsoft")
    assert start.status_code == 302
    graph.identity.signed_in = MANAGER
    consent = requests.get(
        start.headers["Location"], verify=graph.ca_bundle, allow_redirects=False, timeout=5
    )
    callback = urlsplit(consent.headers["Location"])
    assert callback.path == "/auth/microsoft/callback"
    answer = client.get(f"{callback.path}?{callback.query}")
    assert answer.status_code == 302 and answer.headers["Location"] == "/manager/team"
    with database.session() as db:
        person = db.scalar(select(Person))
        connection = db.scalar(select(CalendarConnection))
    assert person.email == MANAGER and person.is_admin
    assert connection.provider == Provider.MICROSOFT and connection.account_email == MANAGER


def test_a_replayed_microsoft_callback_is_refused(microsoft_app, graph, database):
    client = microsoft_app.test_client()
    start = client.get("/auth/microsoft")
    graph.identity.signed_in = MANAGER
    consent = requests.get(
        start.headers["Location"], verify=graph.ca_bundle, allow_redirects=False, timeout=5
    )
    callback = urlsplit(consent.headers["Location"])
    client.get(f"{callback.path}?{callback.query}")
    stranger = microsoft_app.test_client()
    replay = stranger.get(f"{callback.path}?{callback.query}")
    assert replay.headers["Location"] == "/signin"
    with database.session() as db:
        assert len(db.scalars(select(Person)).all()) == 1
