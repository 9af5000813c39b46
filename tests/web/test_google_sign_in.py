""" "Continue with Google" against the Google emulator: one consent signs the manager in and
connects their calendar, which the real adapter then reads to propose a slot."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from scheduler.models import (
    CalendarConnection,
    ConnectionStatus,
    HeldConsent,
    Organization,
    Person,
    Provider,
)
from scheduler.usecases.connections import mark_reconnect_required
from scheduler.usecases.directory import create_organization
from tests.emulators.google import GoogleEmulator
from tests.web.conftest import NOW, post
from web.app import create_app

MANAGER = "pat@acme.test"


@pytest.fixture
def emulator():
    with GoogleEmulator({MANAGER: "Pat Manager", "rita@acme.test": "Rita Rep"}) as emu:
        yield emu


@pytest.fixture
def google_app(settings, database, emulator, clock):
    """The app with its default (real) adapters, Google pointed at the emulator."""
    return create_app(
        dataclasses.replace(settings, google=emulator.settings()), database=database, clock=clock
    )


def continue_with_google(client, emulator):  # type: ignore[no-untyped-def]
    """Click the button, consent at the emulator, follow the redirect back (the browser's job)."""
    start = client.get("/auth/google")
    assert start.status_code == 302 and start.headers["Location"].startswith(emulator.base_url)
    consent = requests.get(
        start.headers["Location"], allow_redirects=False, verify=emulator.ca_bundle, timeout=5
    )
    callback = urlsplit(consent.headers["Location"])
    assert callback.path == "/auth/google/callback"
    return client.get(f"{callback.path}?{callback.query}")


def test_the_sign_in_page_offers_google_when_configured(google_app, app):
    assert "Continue with Google" in google_app.test_client().get("/signin").get_data(as_text=True)
    assert "Continue with Google" not in app.test_client().get("/signin").get_data(as_text=True)


def test_one_consent_signs_in_and_connects_the_calendar(google_app, emulator, database):
    client = google_app.test_client()
    answer = continue_with_google(client, emulator)
    assert answer.status_code == 302 and answer.headers["Location"] == "/manager/team"
    with database.session() as db:
        person = db.scalar(select(Person))
        connection = db.scalar(select(CalendarConnection))
        org = db.scalar(select(Organization))
    assert (person.email, person.name, person.is_admin) == (MANAGER, "Pat Manager", True)
    assert org.name == "acme.test"
    assert connection.provider == Provider.GOOGLE and connection.person_id == person.id
    assert connection.status == ConnectionStatus.ACTIVE
    assert b"refresh_token" not in connection.token_blob  # encrypted at rest
    # The stored grant works: proposing a slot reads free/busy through the real adapter.
    rep = post(
        client,
        "/manager/team/reps",
        {"email": "rita@acme.test", "name": "Rita", "zone": "America/New_York"},
        page="/manager/team",
    )
    assert rep.status_code == 302
    with database.session() as db:
        rita = db.scalar(select(Person).where(Person.email == "rita@acme.test"))
    page = client.get(f"/manager/reps/{rita.id}/slots").get_data(as_text=True)
    assert "Best" in page, page
    assert emulator.calls["freebusy.query"] >= 1


def test_signing_in_again_reconnects_a_dead_grant(google_app, emulator, database):
    client = google_app.test_client()
    continue_with_google(client, emulator)
    with database.session() as db:
        connection = db.scalar(select(CalendarConnection))
    mark_reconnect_required(
        database,
        org_id=connection.organization_id,
        connection_id=connection.id,
        reason="invalid_grant",
        now=NOW,
    )
    assert "needs reconnecting" in client.get("/manager/team").get_data(as_text=True)
    continue_with_google(client, emulator)
    with database.session() as db:
        rows = db.scalars(select(CalendarConnection)).all()
    assert [row.status for row in rows] == [ConnectionStatus.ACTIVE]
    assert "needs reconnecting" not in client.get("/manager/team").get_data(as_text=True)


def test_a_refused_consent_signs_nobody_in(google_app, database):
    client = google_app.test_client()
    client.get("/auth/google")
    answer = client.get("/auth/google/callback?error=access_denied&state=x")
    assert answer.headers["Location"] == "/signin"
    with database.session() as db:
        assert db.scalar(select(Person)) is None


def test_a_callback_that_was_never_started_is_refused(google_app):
    answer = google_app.test_client().get("/auth/google/callback?code=abc&state=xyz")
    assert answer.status_code == 302 and answer.headers["Location"] == "/signin"


def test_disconnecting_forgets_the_grant(google_app, emulator, database):
    client = google_app.test_client()
    continue_with_google(client, emulator)
    with database.session() as db:
        connection = db.scalar(select(CalendarConnection))
    post(client, f"/account/connections/{connection.id}/disconnect", page="/account")
    with database.session() as db:
        row = db.get(CalendarConnection, connection.id)
    assert row.status == ConnectionStatus.DISCONNECTED and row.token_blob is None


def test_signing_in_with_google_takes_the_calendars_zone(google_app, emulator, database):
    emulator.set_zone(MANAGER, "America/New_York")
    client = google_app.test_client()

    continue_with_google(client, emulator)

    with database.session() as db:
        person = db.scalar(select(Person))
        org = db.scalar(select(Organization))
    assert person.zone == "America/New_York"  # not UTC
    assert org.zone == "America/New_York"  # the founder's zone is the new organisation's
    page = client.get("/manager/team").get_data(as_text=True)
    assert "Your time zone is America/New_York, from your Google calendar." in page
    # Proposals are in the manager's working hours in New York, not 09:00-17:00 UTC.
    post(
        client,
        "/manager/team/reps",
        {"email": "rita@acme.test", "name": "Rita", "zone": "America/New_York"},
        page="/manager/team",
    )
    with database.session() as db:
        rita = db.scalar(select(Person).where(Person.email == "rita@acme.test"))
    slots = client.get(f"/manager/reps/{rita.id}/slots").get_data(as_text=True)
    hours = [int(h) for h in re.findall(r"s at (\d\d):\d\d \(America/New_York\)", slots)]
    assert hours and all(9 <= hour < 17 for hour in hours), hours


def test_each_google_consent_keeps_the_zone_current(google_app, emulator, database):
    emulator.set_zone(MANAGER, "America/New_York")
    client = google_app.test_client()
    continue_with_google(client, emulator)
    emulator.set_zone(MANAGER, "Europe/London")  # the manager moved, and told Google

    continue_with_google(client, emulator)  # reconnecting from the account page

    with database.session() as db:
        assert db.scalar(select(Person)).zone == "Europe/London"


def test_a_rep_signing_in_with_google_takes_their_zone(google_app, emulator, database):
    manager = google_app.test_client()
    continue_with_google(manager, emulator)
    post(
        manager,
        "/manager/team/reps",
        {"email": "rita@acme.test", "name": "Rita", "zone": "America/Chicago"},
        page="/manager/team",
    )
    emulator.consenting_user = "rita@acme.test"
    emulator.set_zone("rita@acme.test", "America/Los_Angeles")

    rita_browser = google_app.test_client()
    assert continue_with_google(rita_browser, emulator).headers["Location"] == "/join"
    with database.session() as db:
        org_id = db.scalar(select(Organization.id))
    post(rita_browser, f"/join/{org_id}/accept", page="/join")

    with database.session() as db:
        rita = db.scalar(select(Person).where(Person.email == "rita@acme.test"))
        connections = db.scalars(select(CalendarConnection)).all()
    assert rita.zone == "America/Los_Angeles"
    assert [row.account_email for row in connections] == [MANAGER]  # a rep connects nothing


def test_google_not_answering_the_zone_does_not_block_sign_in(
    google_app, emulator, database, clock
):
    org_id, _ = create_organization(
        database,
        name="Acme",
        admin_email="ada@acme.test",
        admin_name="Ada",
        zone="Europe/London",
        now=clock(),
    )
    with database.session() as db:
        db.get(Organization, org_id).join_domain = "acme.test"
    emulator.fail_next(4, 503, method="events.list")
    client = google_app.test_client()

    assert continue_with_google(client, emulator).headers["Location"] == "/join"
    answer = post(client, f"/join/{org_id}/accept", page="/join")

    assert answer.status_code == 302 and answer.headers["Location"] == "/manager/team"
    with database.session() as db:
        pat = db.scalar(select(Person).where(Person.email == MANAGER))
    assert pat.organization_id == org_id and pat.zone == "Europe/London"  # the organisation's
    page = client.get("/manager/team").get_data(as_text=True)
    assert "Google did not answer" in page
    assert "your time zone stays Europe/London" in page


def test_a_google_sign_in_proves_the_address(google_app, emulator, database, clock):
    """Google vouches for the address (email_verified): the person's is proven from the sign-in
    on, and a later sign-in keeps the first proof's time."""
    continue_with_google(google_app.test_client(), emulator)
    proven_at = clock.now
    clock.now += timedelta(days=3)
    continue_with_google(google_app.test_client(), emulator)
    with database.session() as db:
        person = db.scalar(select(Person))
    assert (person.email, person.email_verified_at) == (MANAGER, proven_at)


def test_an_address_google_has_not_verified_signs_nobody_in(google_app, emulator, database):
    """Joining goes by the address, so one Google does not vouch for opens nothing: no
    organisation is started, no invitation or join domain answered, no grant held."""
    emulator.unverified.add(MANAGER)
    client = google_app.test_client()

    answer = continue_with_google(client, emulator)

    assert answer.status_code == 302 and answer.headers["Location"] == "/signin"
    page = client.get("/signin").get_data(as_text=True)
    assert f"Google has not verified {MANAGER}" in page
    with database.session() as db:
        assert db.scalar(select(Person)) is None
        assert db.scalar(select(HeldConsent)) is None
        assert db.scalar(select(CalendarConnection)) is None
