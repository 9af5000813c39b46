"""Password sign-ups nobody confirmed are undone after ``CADENCE_UNCONFIRMED_DAYS`` (7 by
default) by the periodic job, so a typed-in address is not held for ever: an invitation is
unanswered again, an organisation holding nothing but its unconfirmed founder is removed.
Everything else is left alone."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.crypto import TokenCipher
from scheduler.jobs import tasks
from scheduler.models import AuditEntry, Organization, Person, Provider
from scheduler.usecases.connections import save_connection
from scheduler.usecases.directory import add_rep, create_organization
from tests.web.conftest import NOW, mailed_link, post, sign_in, sign_up, sign_up_form
from web.app import create_app

GRACE = timedelta(days=7)
SQUATTER_PASSWORD = "not the owner's password"


def undo_unconfirmed(app: Flask) -> int:
    """Run the periodic job as the scheduler would, on the app's clock and settings."""
    return tasks.undo_unconfirmed_sign_ups.job.perform(app.extensions["cadence.jobs"])


def invite_rita(admin: FlaskClient) -> str:
    """Patrick (signed in on ``admin``) adds Rita; the invitation token of the sign-up link
    on his people page."""
    post(
        admin,
        "/admin/people",
        {"email": "rita@elsewhere.test", "name": "Rita", "zone": "Asia/Tokyo", "rep": "on"},
        page="/admin/people",
    )
    page = admin.get("/admin/people").get_data(as_text=True)
    return re.search(r"/signup\?invite=([^\"&]+)", page).group(1)


def squat_invitation(app: Flask, invite: str) -> FlaskClient:
    """Someone holding Rita's invitation link signs up with her address and their password
    (and another name and zone), and never confirms: the link went to Rita."""
    squatter = app.test_client()
    answer = sign_up_form(
        squatter,
        "rita@elsewhere.test",
        "Not Rita",
        "UTC",
        invite=invite,
        password=SQUATTER_PASSWORD,
    )
    assert answer.location.startswith("/verify-email")
    return squatter


def ritas_row(database) -> Person:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return db.scalars(select(Person).where(Person.email == "rita@elsewhere.test")).one()


def people_at(database, email: str) -> int:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return db.scalar(select(func.count()).where(Person.email == email))


def all_orgs(database) -> list[Organization]:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return list(db.scalars(select(Organization)))


def org_named(database, name: str) -> Organization | None:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return db.scalar(select(Organization).where(Organization.name == name))


def test_an_unconfirmed_sign_up_through_an_invitation_is_undone_after_the_grace(
    app, client, database, clock
):
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    invite = invite_rita(client)
    squatter = squat_invitation(app, invite)
    rita = app.test_client()

    clock.now += GRACE - timedelta(minutes=1)
    assert undo_unconfirmed(app) == 0
    assert ritas_row(database).password_hash is not None
    refused = sign_up_form(rita, "rita@elsewhere.test", "Rita", "UTC", invite=invite)
    assert "This email has an account: sign in instead." in refused.get_data(as_text=True)

    clock.now += timedelta(minutes=1)
    assert undo_unconfirmed(app) == 1
    row = ritas_row(database)
    assert row.password_hash is None and row.joined_at is None and row.declined_at is None
    assert (row.name, row.zone, row.active) == ("Rita", "Asia/Tokyo", True)  # as Patrick left it
    with database.session() as db:
        entry = db.scalars(
            select(AuditEntry).where(AuditEntry.subject_id == row.id).order_by(AuditEntry.at)
        ).all()[-1]
    assert (entry.action, entry.actor_id, entry.at) == ("person.sign_up_expired", None, clock.now)
    page = client.get("/admin/people").get_data(as_text=True)
    assert "Invitation pending" in page and "Not Rita" not in page
    # The typed password opens nothing, nor tells that an account waits at the address.
    wrong = sign_in(squatter, "rita@elsewhere.test", SQUATTER_PASSWORD)
    assert wrong.status_code == 400 and "do not match an account" in wrong.get_data(as_text=True)
    assert undo_unconfirmed(app) == 0  # once

    # Rita, who owns the address, now signs up through the same link and joins.
    answer = sign_up(rita, "rita@elsewhere.test", "Rita", "UTC", invite=invite)
    assert answer.location == "/me"
    assert ritas_row(database).joined_at == clock.now


def test_a_link_sent_again_before_the_grace_ended_confirms_nothing_after_it(
    app, client, database, clock
):
    """Asking for a new link does not keep the address held, and that link, still within
    its 48 hours when the sign-up is undone, confirms nothing then."""
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    squatter = squat_invitation(app, invite_rita(client))
    clock.now += GRACE - timedelta(days=1)
    post(squatter, "/verify-email/resend", {"email": "rita@elsewhere.test"}, page="/verify-email")
    late_link = mailed_link(app, "rita@elsewhere.test", "verify-email")

    clock.now += timedelta(days=1)
    assert undo_unconfirmed(app) == 1
    answer = squatter.get(late_link)

    assert answer.status_code == 400 and "not valid" in answer.get_data(as_text=True)
    row = ritas_row(database)
    assert row.email_verified_at is None and row.joined_at is None


def test_an_organisation_its_unconfirmed_founder_holds_alone_is_removed_after_the_grace(
    app, database, clock, caplog
):
    squatter = app.test_client()
    sign_up_form(squatter, "vic@victim.test", "Vic", "UTC", "Squat", password=SQUATTER_PASSWORD)

    clock.now += GRACE - timedelta(minutes=1)
    assert undo_unconfirmed(app) == 0
    assert org_named(database, "Squat") is not None

    clock.now += timedelta(minutes=1)
    with caplog.at_level(logging.INFO, logger="scheduler.usecases.unconfirmed"):
        assert undo_unconfirmed(app) == 1
    assert org_named(database, "Squat") is None and people_at(database, "vic@victim.test") == 0
    (record,) = [r for r in caplog.records if r.name == "scheduler.usecases.unconfirmed"]
    assert "removed organisation" in record.getMessage() and "'Squat'" in record.getMessage()
    wrong = sign_in(squatter, "vic@victim.test", SQUATTER_PASSWORD)
    assert wrong.status_code == 400 and "do not match an account" in wrong.get_data(as_text=True)

    # Vic, who owns the address, signs up: theirs is the one account at it.
    vic = app.test_client()
    assert sign_up(vic, "vic@victim.test", "Vic", "UTC", "Victim Co").location == "/manager/team"
    assert people_at(database, "vic@victim.test") == 1
    assert undo_unconfirmed(app) == 0


def test_confirmed_accounts_members_and_used_organisations_are_never_touched(
    app, client, database, clock, settings
):
    # Sol founded Solo and confirmed the address (not signed in since); Patrick founded Acme,
    # which Rita joined.
    sol = app.test_client()
    sign_up_form(sol, "sol@solo.test", "Sol", "UTC", "Solo")
    assert sol.get(mailed_link(app, "sol@solo.test", "verify-email")).status_code == 302
    sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    rita = app.test_client()
    answer = sign_up(rita, "rita@elsewhere.test", "Rita", "UTC", invite=invite_rita(client))
    assert answer.location == "/me"
    # Three organisations whose founders never confirmed: one has a second person, one a
    # calendar connection, one only its founder.
    for name, email in (("Team", "tom@team.test"), ("Cal", "cal@cal.test"), ("Bare", "b@b.test")):
        sign_up_form(app.test_client(), email, name, "UTC", name)
    # Founded by a Microsoft sign-in: no password typed, and an address Microsoft never proves.
    create_organization(
        database, name="Ms", admin_email="m@ms.test", admin_name="M", zone="UTC", now=NOW
    )
    team, cal = org_named(database, "Team"), org_named(database, "Cal")
    with database.session() as db:
        founders = dict(db.execute(select(Person.organization_id, Person.id)).all())
    add_rep(
        database,
        org_id=team.id,
        manager_id=founders[team.id],
        email="rep@team.test",
        name="Rep",
        zone="UTC",
        now=NOW,
    )
    save_connection(
        database,
        TokenCipher(settings.token_keys),
        org_id=cal.id,
        person_id=founders[cal.id],
        provider=Provider.GOOGLE,
        account_email="cal@cal.test",
        grant=b"{}",
        now=NOW,
    )

    clock.now += 10 * GRACE
    undo_unconfirmed(app)

    assert {org.name for org in all_orgs(database)} == {"Solo", "Acme", "Team", "Cal", "Ms"}
    assert sign_in(app.test_client(), "sol@solo.test").location == "/manager/team"
    assert sign_in(app.test_client(), "pat@acme.test").location == "/manager/team"
    assert sign_in(app.test_client(), "rita@elsewhere.test").location == "/me"
    assert ritas_row(database).password_hash is not None


def test_the_grace_is_a_setting(settings, database, calendar, clock):
    app = create_app(
        dataclasses.replace(settings, unconfirmed_days=2),
        database=database,
        providers=lambda _row: calendar,
        clock=clock,
    )
    sign_up_form(app.test_client(), "vic@victim.test", "Vic", "UTC", "Squat")
    clock.now += timedelta(days=2) - timedelta(minutes=1)
    assert undo_unconfirmed(app) == 0
    clock.now += timedelta(minutes=1)
    assert undo_unconfirmed(app) == 1 and org_named(database, "Squat") is None
