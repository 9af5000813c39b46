"""Signing up, joining an organisation, signing in and out."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from scheduler.models import Organization, Person
from scheduler.usecases.joining import SignIn, accept, choices_for
from tests.web.conftest import NOW, PASSWORD, post, sign_in, sign_up


def people(database) -> list[Person]:
    with database.session() as db:
        return list(db.scalars(select(Person).order_by(Person.created_at, Person.email)))


def test_the_first_person_to_sign_up_creates_the_organisation_and_is_its_admin(client, database):
    answer = sign_up(client, "pat@acme.test", "Patrick", "America/New_York", "Acme")
    assert answer.status_code == 302 and answer.headers["Location"] == "/manager/team"
    (pat,) = people(database)
    assert pat.is_admin and pat.is_manager and pat.password_hash.startswith("$argon2")
    with database.session() as db:
        assert db.scalar(select(Organization.name)) == "Acme"


def test_sign_up_errors_are_shown_beside_their_fields(client):
    answer = sign_up(client, "not-an-email", "", "Mars/Olympus", "Acme", password="short")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="e-password"' in page and "at least 10 characters" in page
    # The hint and the error are both read out with the field.
    assert 'aria-describedby="h-password e-password" aria-invalid="true"' in page
    assert 'id="e-name"' in page


def test_without_invitation_or_domain_a_sign_up_needs_an_organisation_name(client, database):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    other = client.application.test_client()
    answer = sign_up(other, "sam@acme.test", "Sam", "UTC", "")
    assert answer.status_code == 400
    assert "Name your organisation" in answer.get_data(as_text=True)


def test_a_typed_in_address_at_the_join_domain_does_not_join_the_organisation(client, database):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    with database.session() as db:
        db.scalar(select(Organization)).join_domain = "acme.test"
    other = client.application.test_client()
    answer = sign_up(other, "Sam@ACME.test", "Sam", "Europe/London")
    assert answer.status_code == 400
    assert "join Acme by continuing with Google or Microsoft" in answer.get_data(as_text=True)
    assert len(people(database)) == 1


def test_an_address_the_provider_verified_may_accept_the_organisation_of_its_domain(
    client, database
):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    with database.session() as db:
        db.scalar(select(Organization)).join_domain = "acme.test"
        (offer,) = choices_for(db, SignIn("Sam@ACME.test", address_proven=True)).offers
    assert offer.org_name == "Acme" and offer.domain == "acme.test" and offer.person_id is None
    sam = accept(
        database,
        who=SignIn("Sam@ACME.test", address_proven=True),
        org_id=offer.org_id,
        name="Sam",
        zone="Europe/London",
        now=NOW,
    )
    pat = next(p for p in people(database) if p.email == "pat@acme.test")
    assert sam.organization_id == pat.organization_id
    assert sam.email == "sam@acme.test" and not sam.is_admin and sam.is_manager
    assert sam.joined_at == NOW


def open_invitation(admin: FlaskClient) -> tuple[FlaskClient, str]:
    """Open the first invitation link on the admin's people page in another browser:
    that browser and the invitation token its sign-up form carries."""
    page = admin.get("/admin/people").get_data(as_text=True)
    link = re.search(r'value="http://127.0.0.1:5000(/signup\?invite=[^"]+)"', page).group(1)
    other = admin.application.test_client()
    form = other.get(link.replace("&amp;", "&")).get_data(as_text=True)
    invite = re.search(r'name="invite" value="([^"]+)"', form).group(1)
    return other, invite


def test_an_invitation_admits_only_the_person_it_was_made_for(client, database, settings):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    for email, name in (("rita@elsewhere.test", "Rita"), ("boss@elsewhere.test", "Boss")):
        post(
            client,
            "/admin/people",
            {"email": email, "name": name, "zone": "UTC", "admin": "on"},
            page="/admin/people",
        )
    other, invite = open_invitation(client)
    signer = URLSafeTimedSerializer(settings.secret_key, salt="cadence.invitation")
    _, invited_id = signer.loads(invite)
    by_id = {p.id: p.email for p in people(database)}
    someone_else = next(
        email
        for email in ("rita@elsewhere.test", "boss@elsewhere.test")
        if email != by_id[invited_id]
    )

    answer = sign_up(other, someone_else, "Mallory", "UTC", invite=invite)

    assert answer.status_code == 400
    assert "The invitation is for another address" in answer.get_data(as_text=True)
    assert not next(p for p in people(database) if p.email == someone_else).password_hash


def test_an_invited_person_signs_up_through_the_admins_link(client, database):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    post(
        client,
        "/admin/people",
        {"email": "rita@elsewhere.test", "name": "Rita", "zone": "UTC", "rep": "on"},
        page="/admin/people",
    )
    other, invite = open_invitation(client)
    answer = sign_up(other, "rita@elsewhere.test", "Rita", "UTC", invite=invite)
    assert answer.status_code == 302 and answer.headers["Location"] == "/me"
    rita = next(p for p in people(database) if p.email == "rita@elsewhere.test")
    assert rita.is_rep and rita.password_hash


def test_a_forged_invitation_does_not_let_anyone_in(client, database):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    other = client.application.test_client()
    answer = sign_up(other, "eve@evil.test", "Eve", "UTC", "", invite="forged.token")
    assert answer.status_code == 400
    assert len(people(database)) == 1


def test_an_account_cannot_be_taken_over_by_signing_up_again(client, database):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    with database.session() as db:
        db.scalar(select(Organization)).join_domain = "acme.test"
    other = client.application.test_client()
    answer = sign_up(other, "pat@acme.test", "Mallory", "UTC")
    assert answer.status_code == 400
    assert "sign in instead" in answer.get_data(as_text=True)


def test_sign_in_and_out(client):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    post(client, "/signout", page="/manager/team")
    assert client.get("/manager/team").status_code == 302
    wrong = sign_in(client, "pat@acme.test", "wrong password")
    assert wrong.status_code == 400
    assert sign_in(client, "PAT@acme.test", PASSWORD).headers["Location"] == "/manager/team"
    assert client.get("/manager/team").status_code == 200


def test_sign_in_only_follows_same_site_next_links(client):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    post(client, "/signout", page="/manager/team")
    token_page = "/signin"
    answer = post(
        client,
        "/signin?next=//evil.test/x",
        {"email": "pat@acme.test", "password": PASSWORD},
        page=token_page,
    )
    assert answer.headers["Location"] == "/manager/team"


def test_pages_need_a_signed_in_person_with_the_right_role(client):
    assert client.get("/manager/team").headers["Location"].startswith("/signin?next=")
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    assert client.get("/me").status_code == 403  # Patrick is not anyone's rep
