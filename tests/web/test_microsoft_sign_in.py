""" "Continue with Microsoft" against the Graph emulator: MSAL's flow kept in the session,
one consent signs the manager in and stores the calendar connection."""

from __future__ import annotations

import dataclasses
import re
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
from tests.web.conftest import mailed_link, post
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


def account_of(graph: GraphEmulator, email: str = MANAGER) -> str:
    """The Microsoft account Cadence links: ``<tid>/<oid>`` of whoever signs in as ``email``."""
    return f"{graph.identity.tenant}/{graph.identity.object_id(email)}"


def test_a_microsoft_sign_in_with_xms_edov_proves_the_address_and_links_the_account(
    microsoft_app, graph, database, clock
):
    """The ID token says ``xms_edov: true`` (the address's domain owner verified it): the
    address is proven from the sign-in on, and the account is linked to the person."""
    assert continue_with_microsoft(microsoft_app.test_client(), graph).status_code == 302
    with database.session() as db:
        person = db.scalar(select(Person))
    assert (person.email, person.email_verified_at) == (MANAGER, clock.now)
    assert person.microsoft_account == account_of(graph)


def test_without_xms_edov_a_microsoft_sign_in_proves_nothing_and_still_founds_and_returns(
    microsoft_app, graph, database
):
    """Without ``xms_edov`` the address is whatever the account's tenant set: it stays
    unproven. Founding an organisation is nobody else's business, so it still works, and the
    founder's account is linked: it signs straight in again."""
    graph.identity.unverified.add(MANAGER)

    answer = continue_with_microsoft(microsoft_app.test_client(), graph)

    assert answer.headers["Location"] == "/manager/team"
    with database.session() as db:
        person = db.scalar(select(Person))
    assert person.is_admin and person.joined_at is not None
    assert (person.email_verified_at, person.microsoft_account) == (None, account_of(graph))
    again = microsoft_app.test_client()
    assert continue_with_microsoft(again, graph).headers["Location"] == "/manager/team"
    with again.session_transaction() as session:
        assert session["person_id"] == person.id


def test_another_microsoft_account_giving_a_members_address_does_not_sign_in_as_them(
    microsoft_app, graph, database
):
    """nOAuth: an account in another tenant whose mail is set to Maria's address, and no
    ``xms_edov``. Maria's row is linked to her own account, so the other one is not let in:
    continuing there mails Maria a link, and nothing changes until she follows it."""
    continue_with_microsoft(microsoft_app.test_client(), graph)  # Maria, linked
    graph.identity.object_ids[MANAGER] = "0000-mallory"
    graph.identity.unverified.add(MANAGER)
    mallory = microsoft_app.test_client()

    answer = continue_with_microsoft(mallory, graph)

    assert answer.headers["Location"] == "/join"
    with mallory.session_transaction() as session:
        assert "person_id" not in session
    page = mallory.get("/join").get_data(as_text=True)
    assert "Microsoft did not confirm that maria@contoso.test is your address" in page
    org_id = re.search(r'action="/join/([^/"]+)/accept"', page).group(1)
    answer = post(mallory, f"/join/{org_id}/accept", page="/join")
    assert answer.location == f"/verify-email?email={MANAGER}&by=microsoft"
    with mallory.session_transaction() as session:
        assert "person_id" not in session
    with database.session() as db:
        maria = db.scalar(select(Person))
        assert maria.microsoft_account != account_of(graph)  # still Maria's own
        assert [c.person_id for c in db.scalars(select(CalendarConnection))] == [maria.id]
    assert mailed_link(microsoft_app, MANAGER, "verify-email").startswith("/verify-email/")
