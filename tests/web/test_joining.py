"""Joining an organisation: nobody is in one, nor has their calendar grant stored there,
without accepting it. Google against its emulator, Microsoft against Graph's."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scheduler.models import CalendarConnection, HeldConsent, Organization, Person
from tests.integrations.outlook_support import MANAGER as MARIA
from tests.web.conftest import NOW, mailed_link, post, sign_in, sign_up, sign_up_form
from tests.web.test_google_sign_in import continue_with_google
from tests.web.test_microsoft_sign_in import (  # noqa: F401
    continue_with_microsoft,
    graph,
    microsoft_app,
)
from web.app import create_app

VIC = "vic@acme.test"


@pytest.fixture
def google(settings, database, clock):  # type: ignore[no-untyped-def]
    """The app with real adapters, Google at its emulator; Vic is who consents."""
    from tests.emulators.google import GoogleEmulator

    with GoogleEmulator({VIC: "Vic Tim", "ada@acme.test": "Ada"}) as emulator:
        app = create_app(
            dataclasses.replace(settings, google=emulator.settings()),
            database=database,
            clock=clock,
        )
        yield app, emulator


def add_by_admin(client, email: str, name: str, *roles: str) -> None:  # type: ignore[no-untyped-def]
    answer = post(
        client,
        "/admin/people",
        {"email": email, "name": name, "zone": "UTC", **dict.fromkeys(roles, "on")},
        page="/admin/people",
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)


def organisation(app, admin: str, name: str, org: str, *added: tuple[str, str]):  # type: ignore[no-untyped-def]
    """An organisation signed up by ``admin`` (a password), who adds ``added`` as managers."""
    client = app.test_client()
    assert sign_up(client, admin, name, "UTC", org).status_code == 302
    for email, person_name in added:
        add_by_admin(client, email, person_name, "manager")
    return client


def org_id(database, name: str) -> str:
    with database.session() as db:
        return db.scalar(select(Organization.id).where(Organization.name == name))


def row(database, name: str, email: str = VIC) -> Person | None:
    with database.session() as db:
        return db.scalar(
            select(Person).where(
                Person.organization_id == org_id(database, name), Person.email == email
            )
        )


def open_to_domain(database, name: str, domain: str = "acme.test") -> None:
    """The organisation lets everyone at ``domain`` (Vic's, unless told) join."""
    with database.session() as db:
        db.get(Organization, org_id(database, name)).join_domain = domain


def connections(database) -> list[CalendarConnection]:
    with database.session() as db:
        return list(db.scalars(select(CalendarConnection)))


def held_consents(database) -> list[HeldConsent]:
    with database.session() as db:
        return list(db.scalars(select(HeldConsent)))


def signed_in_as(client) -> str | None:  # type: ignore[no-untyped-def]
    with client.session_transaction() as session:
        return session.get("person_id")


def test_an_organisation_that_adds_an_address_first_does_not_capture_its_google_sign_in(
    google, database
):
    app, emulator = google
    # Evil Corp adds Vic's address before Vic's own company does.
    organisation(app, "mallory@evil.test", "Mallory", "Evil Corp", (VIC, "Vic"))
    organisation(app, "ada@acme.test", "Ada", "Acme", (VIC, "Vic"))
    emulator.consenting_user = VIC
    vic = app.test_client()

    answer = continue_with_google(vic, emulator)

    # Not signed in anywhere, and the grant stored for no organisation: it waits, encrypted.
    assert answer.status_code == 302 and answer.headers["Location"] == "/join"
    assert signed_in_as(vic) is None
    assert connections(database) == []
    (held,) = held_consents(database)
    assert held.email == VIC and b"refresh_token" not in held.token_blob
    assert row(database, "Evil Corp").joined_at is None
    page = vic.get("/join").get_data(as_text=True)
    assert "Join Evil Corp?" in page and "Added by Mallory, mallory@evil.test." in page
    assert "Join Acme?" in page and "Added by Ada, ada@acme.test." in page

    # Vic picks their own company.
    chosen = post(vic, f"/join/{org_id(database, 'Acme')}/accept", page="/join")

    assert chosen.headers["Location"] == "/manager/team"
    acme_vic, evil_vic = row(database, "Acme"), row(database, "Evil Corp")
    assert signed_in_as(vic) == acme_vic.id and acme_vic.joined_at is not None
    (connection,) = connections(database)
    assert (connection.organization_id, connection.person_id) == (
        acme_vic.organization_id,
        acme_vic.id,
    )
    assert evil_vic.joined_at is None  # Evil Corp's invitation is still only that
    assert held_consents(database) == []  # the grant is stored in Acme only, then forgotten
    assert "is connected" in vic.get("/manager/team").get_data(as_text=True)


def test_a_declined_invitation_is_never_offered_again(google, database):
    app, emulator = google
    organisation(app, "mallory@evil.test", "Mallory", "Evil Corp", (VIC, "Vic"))
    emulator.consenting_user = VIC
    vic = app.test_client()
    assert continue_with_google(vic, emulator).headers["Location"] == "/join"

    declined = post(vic, f"/join/{org_id(database, 'Evil Corp')}/decline", page="/join")

    assert declined.headers["Location"] == "/join"
    assert row(database, "Evil Corp").declined_at is not None
    page = vic.get("/join").get_data(as_text=True)
    assert "Join Evil Corp?" not in page and "You declined: Evil Corp." in page
    assert "No invitation is waiting" in page and signed_in_as(vic) is None
    assert connections(database) == []

    # Signing in again: Evil Corp does not ask again; Vic starts an organisation instead.
    again = app.test_client()
    assert continue_with_google(again, emulator).headers["Location"] == "/join"
    assert "Join Evil Corp?" not in again.get("/join").get_data(as_text=True)
    started = post(again, "/join/new", page="/join")

    assert started.headers["Location"] == "/manager/team"
    (connection,) = connections(database)
    with database.session() as db:
        mine = db.get(Person, signed_in_as(again))
    assert mine.is_admin and mine.organization_id != org_id(database, "Evil Corp")
    assert connection.organization_id == mine.organization_id
    assert row(database, "Evil Corp").joined_at is None


def test_a_member_signs_in_directly(google, database):
    app, emulator = google
    organisation(app, "ada@acme.test", "Ada", "Acme", (VIC, "Vic"))
    emulator.consenting_user = VIC
    first = app.test_client()
    continue_with_google(first, emulator)
    post(first, f"/join/{org_id(database, 'Acme')}/accept", page="/join")

    again = continue_with_google(app.test_client(), emulator)

    assert again.headers["Location"] == "/manager/team"  # no question the second time
    assert held_consents(database) == []


def test_a_new_invitation_is_asked_about_before_a_member_continues(google, database):
    app, emulator = google
    organisation(app, "ada@acme.test", "Ada", "Acme", (VIC, "Vic"))
    emulator.consenting_user = VIC
    first = app.test_client()
    continue_with_google(first, emulator)
    post(first, f"/join/{org_id(database, 'Acme')}/accept", page="/join")
    organisation(app, "mallory@evil.test", "Mallory", "Evil Corp", (VIC, "Vic"))
    client = app.test_client()

    assert continue_with_google(client, emulator).headers["Location"] == "/join"
    page = client.get("/join").get_data(as_text=True)
    assert "Continue in Acme" in page and "Join Evil Corp?" in page
    assert "Start a new organisation" not in page  # a member continues, or joins another
    answer = post(client, f"/join/{org_id(database, 'Acme')}/accept", page="/join")

    assert answer.headers["Location"] == "/manager/team"
    assert signed_in_as(client) == row(database, "Acme").id
    assert {c.organization_id for c in connections(database)} == {org_id(database, "Acme")}


def test_an_organisation_open_to_the_domain_is_an_offer_too(google, database):
    """Another organisation naming the victim's domain as its join domain captures nothing."""
    app, emulator = google
    organisation(app, "mallory@evil.test", "Mallory", "Evil Corp")
    open_to_domain(database, "Evil Corp")
    emulator.consenting_user = VIC
    vic = app.test_client()

    assert continue_with_google(vic, emulator).headers["Location"] == "/join"
    assert row(database, "Evil Corp") is None and connections(database) == []
    page = vic.get("/join").get_data(as_text=True)
    assert "Join Evil Corp?" in page and "Open to everyone at acme.test" in page
    post(vic, f"/join/{org_id(database, 'Evil Corp')}/decline", page="/join")

    assert row(database, "Evil Corp").declined_at is not None  # its admins see the answer
    assert "Join Evil Corp?" not in vic.get("/join").get_data(as_text=True)


def test_accepting_an_open_offer_joins_as_a_manager_with_the_calendar(google, database):
    app, emulator = google
    organisation(app, "ada@acme.test", "Ada", "Acme")
    open_to_domain(database, "Acme")
    emulator.consenting_user = VIC
    vic = app.test_client()
    continue_with_google(vic, emulator)

    answer = post(vic, f"/join/{org_id(database, 'Acme')}/accept", page="/join")

    assert answer.headers["Location"] == "/manager/team"
    joined = row(database, "Acme")
    assert joined.is_manager and joined.joined_at is not None
    assert [c.person_id for c in connections(database)] == [joined.id]


def test_nothing_can_be_accepted_that_was_not_offered(google, database):
    app, emulator = google
    organisation(app, "ada@acme.test", "Ada", "Acme", (VIC, "Vic"))
    organisation(app, "mallory@evil.test", "Mallory", "Evil Corp")  # never invited Vic
    emulator.consenting_user = VIC
    vic = app.test_client()
    continue_with_google(vic, emulator)

    answer = post(vic, f"/join/{org_id(database, 'Evil Corp')}/accept", page="/join")

    assert answer.headers["Location"] == "/join" and signed_in_as(vic) is None
    assert row(database, "Evil Corp") is None and connections(database) == []
    assert "That invitation is not open to you." in vic.get("/join").get_data(as_text=True)
    # Without a held consent (another browser), /join offers nothing and accepts nothing.
    stranger = app.test_client()
    assert stranger.get("/join").headers["Location"] == "/signin"
    assert (
        post(stranger, f"/join/{org_id(database, 'Acme')}/accept").headers["Location"] == "/signin"
    )
    assert row(database, "Acme").joined_at is None


def test_a_held_consent_expires(google, database, clock):
    app, emulator = google
    organisation(app, "ada@acme.test", "Ada", "Acme", (VIC, "Vic"))
    emulator.consenting_user = VIC
    vic = app.test_client()
    continue_with_google(vic, emulator)
    assert "Join Acme?" in vic.get("/join").get_data(as_text=True)
    clock.now += timedelta(minutes=31)

    answer = post(vic, f"/join/{org_id(database, 'Acme')}/accept", page="/signin")

    assert answer.headers["Location"] == "/signin"
    assert row(database, "Acme").joined_at is None and connections(database) == []
    assert "took too long" in vic.get("/signin").get_data(as_text=True)


def test_a_rep_accepts_and_stores_no_grant(google, database):
    app, emulator = google
    ada = organisation(app, "ada@acme.test", "Ada", "Acme")
    post(
        ada,
        "/manager/team/reps",
        {"email": VIC, "name": "Vic", "zone": "Europe/London"},
        page="/manager/team",
    )
    emulator.consenting_user = VIC
    vic = app.test_client()
    continue_with_google(vic, emulator)
    page = vic.get("/join").get_data(as_text=True)
    assert "Join Acme?" in page and "Added by Ada, ada@acme.test." in page  # the manager

    answer = post(vic, f"/join/{org_id(database, 'Acme')}/accept", page="/join")

    assert answer.headers["Location"] == "/me"
    assert connections(database) == [] and held_consents(database) == []


def test_admins_see_pending_and_declined_invitations(google, database):
    app, emulator = google
    evil = organisation(
        app, "mallory@evil.test", "Mallory", "Evil Corp", (VIC, "Vic"), ("sam@else.test", "Sam")
    )
    emulator.consenting_user = VIC
    vic = app.test_client()
    continue_with_google(vic, emulator)
    post(vic, f"/join/{org_id(database, 'Evil Corp')}/decline", page="/join")

    page = evil.get("/admin/people").get_data(as_text=True)

    assert "1 pending,\n    1 declined." in page
    vic_row = page[page.index(f'<span class="muted">{VIC}</span>') :][:1500]
    assert "Declined" in vic_row and "Added by Mallory" in vic_row
    sam_row = page[page.index('<span class="muted">sam@else.test</span>') :][:1500]
    assert "Invitation pending" in sam_row and "Invitation link" in sam_row
    people = {p["email"]: p["membership"] for p in evil.get("/api/v1/people").get_json()["data"]}
    assert people == {"mallory@evil.test": "member", VIC: "declined", "sam@else.test": "invited"}


def test_password_sign_in_enters_no_organisation_not_joined(client, database):
    """A password only opens organisations the person joined (signed up in, or accepted)."""
    organisation(client.application, "ada@acme.test", "Ada", "Acme", (VIC, "Vic"))
    # A password and a proven address on an unanswered invitation's row (a password without
    # one is a sign-up through the invitation link still to be confirmed: told to confirm).
    with database.session() as db:
        invited = db.scalar(select(Person).where(Person.email == VIC))
        invited.password_hash = db.scalar(
            select(Person.password_hash).where(Person.email == "ada@acme.test")
        )
        invited.email_verified_at = NOW
    answer = post(client, "/signin", {"email": VIC, "password": "correct horse battery"})
    assert answer.status_code == 400 and signed_in_as(client) is None


def test_a_google_sign_in_proves_an_invited_address_and_drops_a_password_typed_for_it(
    google, database, clock
):
    """Someone holding Vic's invitation link signs up with Vic's address and a password of
    their own: it waits for the address to be proven. Vic then signs in with Google, which
    vouches for the address, and accepts: Vic is a member with a proven address, and the
    password typed for it never works — not now, and not after the link mailed at sign-up is
    followed (Google vouched for Vic, not for whoever typed it)."""
    app, emulator = google
    ada = organisation(app, "ada@acme.test", "Ada", "Acme", (VIC, "Vic"))
    invite = re.search(r"/signup\?invite=([^\"&]+)", ada.get("/admin/people").text).group(1)
    mallory = app.test_client()
    assert sign_up_form(mallory, VIC, "Vic", "UTC", invite=invite).location.startswith(
        "/verify-email"
    )
    assert sign_in(mallory, VIC).status_code == 403  # waiting for the address to be proven
    clock.now += timedelta(hours=1)
    emulator.consenting_user = VIC
    vic = app.test_client()

    assert continue_with_google(vic, emulator).headers["Location"] == "/join"
    assert "Join Acme?" in vic.get("/join").text  # Vic says yes; the sign-up did not
    answer = post(vic, f"/join/{org_id(database, 'Acme')}/accept", page="/join")

    assert answer.headers["Location"] == "/manager/team"
    told = f"The password chosen for {VIC} before the address was proven no longer works"
    assert told in vic.get(answer.location).text
    proven = row(database, "Acme")
    assert (proven.joined_at, proven.email_verified_at) == (clock.now, clock.now)
    assert signed_in_as(vic) == proven.id
    assert sign_in(mallory, VIC).status_code == 400 and signed_in_as(mallory) is None
    mallory.get(mailed_link(app, VIC, "verify-email"))
    assert sign_in(mallory, VIC).status_code == 400 and signed_in_as(mallory) is None
    people = {p["email"]: p["membership"] for p in ada.get("/api/v1/people").get_json()["data"]}
    assert people[VIC] == "member"


def test_an_invitation_link_signs_nobody_in_to_an_address_someone_else_proved(google, database):
    """Vic's invitation row holds a proven address, and Vic has not answered it. Someone else
    holding the link then signs up with Vic's address and a
    password: a typed address proves nothing, so they are neither signed in as Vic's row nor
    given a password for it, and they are told how the owner gets one (a reset link)."""
    app, _ = google
    ada = organisation(app, "ada@acme.test", "Ada", "Acme", (VIC, "Vic"))
    invite = re.search(r"/signup\?invite=([^\"&]+)", ada.get("/admin/people").text).group(1)
    # However the row came to hold a proven address without a membership (no flow of today
    # leaves one, an older one could): the guard is the sign-up's own.
    with database.session() as db:
        db.get(Person, row(database, "Acme").id).email_verified_at = NOW

    mallory = app.test_client()
    answer = sign_up_form(mallory, VIC, "Vic", "UTC", invite=invite)

    assert answer.status_code == 400 and signed_in_as(mallory) is None
    assert "Forgot your password" in answer.text
    assert row(database, "Acme").password_hash is None
    assert mallory.get("/me").status_code == 302


def test_a_microsoft_sign_in_is_not_captured_either(microsoft_app, graph, database):  # noqa: F811
    organisation(microsoft_app, "mallory@evil.test", "Mallory", "Evil Corp", (MARIA, "Maria"))
    maria = microsoft_app.test_client()

    answer = continue_with_microsoft(maria, graph, MARIA)

    assert answer.headers["Location"] == "/join" and signed_in_as(maria) is None
    assert connections(database) == []
    (held,) = held_consents(database)
    assert held.email == MARIA
    post(maria, f"/join/{org_id(database, 'Evil Corp')}/decline", page="/join")
    post(maria, "/join/new", page="/join")
    (connection,) = connections(database)
    assert connection.organization_id != org_id(database, "Evil Corp")
    assert row(database, "Evil Corp", MARIA).declined_at is not None
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(HeldConsent)) == 0


def offered_to_maria(app, database, by: str):  # type: ignore[no-untyped-def]
    """Acme, whose admin Ada adds Maria (``by`` "invitation") or opens it to her domain."""
    if by == "invitation":
        return organisation(app, "ada@acme.test", "Ada", "Acme", (MARIA, "Maria"))
    ada = organisation(app, "ada@acme.test", "Ada", "Acme")
    open_to_domain(database, "Acme", "contoso.test")
    return ada


def membership_seen_by(ada, email: str) -> str | None:  # type: ignore[no-untyped-def]
    people = {p["email"]: p["membership"] for p in ada.get("/api/v1/people").get_json()["data"]}
    return people.get(email)


@pytest.mark.parametrize("by", ["invitation", "join domain"])
def test_without_xms_edov_a_microsoft_sign_in_joins_only_once_the_mailed_link_is_followed(
    by,
    microsoft_app,  # noqa: F811
    graph,  # noqa: F811
    database,
    clock,
):
    """nOAuth: without ``xms_edov`` the ID token's address is whatever the account's tenant
    set, so accepting Acme makes no member: Cadence mails the address a link and says so. The
    address's owner follows it; then Maria (still without ``xms_edov``) signs straight in."""
    ada = offered_to_maria(microsoft_app, database, by)
    graph.identity.unverified.add(MARIA)
    maria = microsoft_app.test_client()

    assert continue_with_microsoft(maria, graph, MARIA).headers["Location"] == "/join"
    page = maria.get("/join").get_data(as_text=True)
    assert "Join Acme?" in page and f"Microsoft did not confirm that {MARIA}" in page
    assert "Added by" not in page and "Decline" not in page  # for the address's owner only
    answer = post(maria, f"/join/{org_id(database, 'Acme')}/accept", page="/join")

    assert answer.location == f"/verify-email?email={MARIA}&by=microsoft"
    told = maria.get(answer.location).get_data(as_text=True)
    assert "Follow it to confirm the address, then continue with Microsoft again" in told
    assert signed_in_as(maria) is None
    assert connections(database) == [] and held_consents(database) == []
    assert row(database, "Acme", MARIA).joined_at is None
    assert membership_seen_by(ada, MARIA) == "invited"

    clock.now += timedelta(minutes=10)
    confirmed = maria.get(mailed_link(microsoft_app, MARIA, "verify-email"))

    assert confirmed.location == f"/signin?email={MARIA}" and signed_in_as(maria) is None
    joined = row(database, "Acme", MARIA)
    assert (joined.joined_at, joined.email_verified_at) == (clock.now, clock.now)
    assert membership_seen_by(ada, MARIA) == "member"
    again = continue_with_microsoft(maria, graph, MARIA)
    assert again.headers["Location"] == "/manager/team" and signed_in_as(maria) == joined.id
    assert [c.person_id for c in connections(database)] == [joined.id]


@pytest.mark.parametrize("by", ["invitation", "join domain"])
def test_with_xms_edov_a_microsoft_sign_in_joins_at_once(
    by,
    microsoft_app,  # noqa: F811
    graph,  # noqa: F811
    database,
    clock,
):
    """``xms_edov: true``: the address's domain owner verified it, so accepting makes a
    member at once, with the address proven and the account linked."""
    offered_to_maria(microsoft_app, database, by)
    maria = microsoft_app.test_client()
    continue_with_microsoft(maria, graph, MARIA)

    answer = post(maria, f"/join/{org_id(database, 'Acme')}/accept", page="/join")

    assert answer.location == "/manager/team"
    joined = row(database, "Acme", MARIA)
    assert signed_in_as(maria) == joined.id
    assert (joined.joined_at, joined.email_verified_at) == (clock.now, clock.now)
    assert joined.microsoft_account == f"{graph.identity.tenant}/{graph.identity.object_id(MARIA)}"
    assert [c.person_id for c in connections(database)] == [joined.id]


def test_without_xms_edov_nobody_declines_for_the_address(
    microsoft_app,  # noqa: F811
    graph,  # noqa: F811
    database,
):
    """A declined invitation is never offered again: only the address's proven owner may
    say no for it, not whoever set the address on a Microsoft account."""
    ada = offered_to_maria(microsoft_app, database, "invitation")
    graph.identity.unverified.add(MARIA)
    mallory = microsoft_app.test_client()
    continue_with_microsoft(mallory, graph, MARIA)

    post(mallory, f"/join/{org_id(database, 'Acme')}/decline", page="/join")

    assert row(database, "Acme", MARIA).declined_at is None
    assert membership_seen_by(ada, MARIA) == "invited"
    assert "Only the address&#39;s confirmed owner can decline." in mallory.get("/join").text


def test_an_organisation_founded_by_an_address_microsoft_did_not_vouch_for_is_asked_about(
    microsoft_app,  # noqa: F811
    graph,  # noqa: F811
    database,
):
    """Another tenant's account, set to Maria's address, founds an organisation (nobody
    else's data). When Maria herself signs in, proven, she is asked before entering it (it
    is not direct), and continuing there proves the address: the account that founded it
    without proof is no longer let in."""
    graph.identity.object_ids[MARIA] = "0000-mallory"
    graph.identity.unverified.add(MARIA)
    mallory = microsoft_app.test_client()
    assert continue_with_microsoft(mallory, graph, MARIA).headers["Location"] == "/manager/team"
    founded = signed_in_as(mallory)
    del graph.identity.object_ids[MARIA]
    graph.identity.unverified.clear()
    maria = microsoft_app.test_client()

    assert continue_with_microsoft(maria, graph, MARIA).headers["Location"] == "/join"
    assert "Continue in contoso.test" in maria.get("/join").get_data(as_text=True)
    assert connections(database)[0].person_id == founded  # Mallory's grant, not Maria's
    post(maria, f"/join/{org_id(database, 'contoso.test')}/accept", page="/join")

    assert signed_in_as(maria) == founded
    graph.identity.object_ids[MARIA] = "0000-mallory"
    graph.identity.unverified.add(MARIA)
    again = microsoft_app.test_client()
    assert continue_with_microsoft(again, graph, MARIA).headers["Location"] == "/join"
    assert signed_in_as(again) is None
