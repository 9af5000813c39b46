""" "Continue with Microsoft" against the Graph emulator: MSAL's flow kept in the session,
one consent signs the manager in and stores the calendar connection."""

from __future__ import annotations

import dataclasses
from datetime import time
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


def continue_with_microsoft(client, graph, email: str = MANAGER):  # type: ignore[no-untyped-def]
    """Click the button, consent as ``email`` at the emulator, follow the redirect back."""
    start = client.get("/auth/microsoft")
    graph.identity.signed_in = email
    consent = requests.get(
        start.headers["Location"], verify=graph.ca_bundle, allow_redirects=False, timeout=5
    )
    callback = urlsplit(consent.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_signing_in_with_microsoft_takes_the_mailboxs_zone_and_working_hours(
    microsoft_app, graph, database
):
    box = graph.mailboxes[MANAGER]
    box.zone_name = "Eastern Standard Time"  # Exchange keeps Windows names
    box.working_days = ("monday", "tuesday", "wednesday", "thursday")
    box.working_start, box.working_end = time(8), time(16)
    client = microsoft_app.test_client()

    answer = continue_with_microsoft(client, graph)

    assert answer.headers["Location"] == "/manager/team"
    with database.session() as db:
        person = db.scalar(select(Person))
    assert person.zone == "America/New_York"
    assert person.working_hours == {str(day): [["08:00", "16:00"]] for day in range(4)}
    page = client.get("/manager/team").get_data(as_text=True)
    assert "Your time zone is America/New_York, from your Microsoft calendar" in page
    assert "working hours (Mon-Thu 08:00-16:00) from Outlook" in page


def test_microsoft_not_answering_the_zone_does_not_block_sign_in(microsoft_app, graph, database):
    graph.fail(503, times=4, path="/me/mailboxSettings")
    client = microsoft_app.test_client()

    answer = continue_with_microsoft(client, graph)

    assert answer.headers["Location"] == "/manager/team"
    with database.session() as db:
        person = db.scalar(select(Person))
        assert db.scalar(select(CalendarConnection)) is not None  # the calendar still connects
    assert person.zone == "UTC" and person.working_hours is None
    page = client.get("/manager/team").get_data(as_text=True)
    assert "Microsoft did not answer" in page
    assert "your time zone stays UTC. Check it, and your working hours, on your account page." in (
        page
    )


def test_a_microsoft_sign_in_proves_no_address(microsoft_app, graph, database):
    """Microsoft gives no verified-email claim (its ``email`` may be an address nobody
    confirmed), so a Microsoft sign-in leaves the address unproven."""
    assert continue_with_microsoft(microsoft_app.test_client(), graph).status_code == 302
    with database.session() as db:
        person = db.scalar(select(Person))
    assert (person.email, person.email_verified_at) == (MANAGER, None)
