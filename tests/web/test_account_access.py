"""Proving the address, resetting and changing the password, and sessions that end on the
server — over HTTP through the Flask test client, the mail received by a real SMTP server
(aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select

from scheduler.mail.outbox import BLANKED
from scheduler.models import LoginSession, OutboxMessage, Person
from scheduler.usecases.login_sessions import session_person, start_session
from tests.conftest import with_smtp
from tests.web.conftest import PASSWORD, post, sign_in, sign_up_form

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def settings(settings, smtp):  # type: ignore[no-untyped-def]
    """The app's mail goes to the test's SMTP server."""
    return with_smtp(settings, smtp.url())


def link_in(smtp, to: str, subject: str) -> str:  # type: ignore[no-untyped-def]
    """The path of the link in the newest message to ``to`` with ``subject``."""
    messages = [m for m in smtp.inbox.to(to) if m["Subject"] == subject]
    assert messages, f"no {subject!r} to {to}"
    found = re.search(r"http://127\.0\.0\.1:5000(/\S+)", smtp.inbox.text(messages[-1]))
    assert found
    return found.group(1)


def pat_signs_up(client: FlaskClient, smtp) -> None:  # type: ignore[no-untyped-def]
    """Patrick signs up, confirms by the link the SMTP server received, and signs in."""
    sign_up_form(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    client.get(link_in(smtp, "pat@acme.test", "Confirm your email for Cadence"))
    assert sign_in(client, "pat@acme.test").location == "/manager/team"


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


# ---------------------------------------------------------------- verification


def test_a_password_account_signs_in_only_after_its_address_is_confirmed(client, smtp):
    answer = sign_up_form(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    assert answer.status_code == 302
    assert answer.location == "/verify-email?email=pat@acme.test"
    assert "We emailed a link to" in client.get(answer.location).get_data(as_text=True)
    assert not signed_in(client)

    refused = sign_in(client, "pat@acme.test")
    assert refused.status_code == 403
    assert "not confirmed yet" in refused.get_data(as_text=True)
    assert not signed_in(client)

    link = link_in(smtp, "pat@acme.test", "Confirm your email for Cadence")
    confirmed = client.get(link)
    assert confirmed.status_code == 302 and confirmed.location.startswith("/signin")
    assert sign_in(client, "pat@acme.test").location == "/manager/team"
    assert signed_in(client)


def rita_signs_up_by_invitation(client: FlaskClient) -> FlaskClient:
    """Patrick (signed in on ``client``) adds Rita; she signs up through his invitation link
    with a password, and has not confirmed her address yet."""
    post(
        client,
        "/admin/people",
        {"email": "rita@elsewhere.test", "name": "Rita", "zone": "UTC", "rep": "on"},
        page="/admin/people",
    )
    page = client.get("/admin/people").get_data(as_text=True)
    invite = re.search(r"/signup\?invite=([^\"&]+)", page).group(1)
    rita = client.application.test_client()
    answer = sign_up_form(rita, "rita@elsewhere.test", "Rita", "UTC", invite=invite)
    assert answer.location.startswith("/verify-email")
    return rita


def test_an_invited_person_joins_only_once_the_address_is_confirmed(client, smtp, database):
    pat_signs_up(client, smtp)
    rita = rita_signs_up_by_invitation(client)
    assert sign_in(rita, "rita@elsewhere.test").status_code == 403
    rita.get(link_in(smtp, "rita@elsewhere.test", "Confirm your email for Cadence"))
    assert sign_in(rita, "rita@elsewhere.test").location == "/me"


def ritas_standing(admin: FlaskClient, database) -> tuple[str, str, datetime | None]:  # type: ignore[no-untyped-def]
    """Rita as her admin sees her (the people page's tag, the API's membership) and her
    row's joined_at."""
    page = admin.get("/admin/people").get_data(as_text=True)
    row = page[page.index('<span class="muted">rita@elsewhere.test</span>') :]
    tag = re.search(r'<span class="tag[^"]*">([^<]+)</span>', row[: row.index("</tr>")]).group(1)
    people = admin.get("/api/v1/people").get_json()["data"]
    (membership,) = [p["membership"] for p in people if p["email"] == "rita@elsewhere.test"]
    with database.session() as db:
        joined_at = db.scalar(select(Person.joined_at).where(Person.email == "rita@elsewhere.test"))
    return tag, membership, joined_at


def test_an_invitation_accepted_by_password_is_pending_until_the_address_is_confirmed(
    client, smtp, database, clock
):
    """Whoever holds the invitation link can type Rita's address and a password: until the
    link mailed to that address is followed, her admin sees the invitation pending, not a
    member, and she joins when she confirms."""
    pat_signs_up(client, smtp)
    rita = rita_signs_up_by_invitation(client)
    assert ritas_standing(client, database) == ("Invitation pending", "invited", None)

    clock.now += timedelta(hours=5)
    rita.get(link_in(smtp, "rita@elsewhere.test", "Confirm your email for Cadence"))
    assert ritas_standing(client, database) == ("Member", "member", clock.now)


def test_a_reset_link_proves_the_address_and_so_completes_joining(client, smtp, database, clock):
    pat_signs_up(client, smtp)
    rita = rita_signs_up_by_invitation(client)
    clock.now += timedelta(hours=5)
    link = reset_link(rita, smtp, "rita@elsewhere.test")
    post(rita, link, {"password": NEW_PASSWORD}, page=link)
    assert ritas_standing(client, database) == ("Member", "member", clock.now)
    assert sign_in(rita, "rita@elsewhere.test", NEW_PASSWORD).location == "/me"


def test_a_confirmation_link_expires_after_48_hours(client, smtp, clock):
    sign_up_form(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    link = link_in(smtp, "pat@acme.test", "Confirm your email for Cadence")
    clock.now += timedelta(hours=48)
    answer = client.get(link)
    assert answer.location == "/verify-email"
    assert "That link has expired" in client.get(answer.location).get_data(as_text=True)
    assert sign_in(client, "pat@acme.test").status_code == 403


def test_a_forged_or_altered_link_confirms_nothing(client, smtp):
    sign_up_form(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    link = link_in(smtp, "pat@acme.test", "Confirm your email for Cadence")
    for bad in (link[:-3] + "xyz", "/verify-email/forged.token"):
        answer = client.get(bad)
        assert answer.status_code == 400 and "not valid" in answer.get_data(as_text=True)
    assert sign_in(client, "pat@acme.test").status_code == 403


def test_a_new_link_is_sent_on_request_and_unknown_addresses_get_the_same_answer(
    client, smtp, clock
):
    sign_up_form(client, "pat@acme.test", "Patrick", "UTC", "Acme")
    first = link_in(smtp, "pat@acme.test", "Confirm your email for Cadence")
    clock.now += timedelta(minutes=1)

    for email in ("pat@acme.test", "nobody@acme.test"):
        answer = post(client, "/verify-email/resend", {"email": email}, page="/verify-email")
        assert answer.status_code == 302
        page = client.get(answer.location).get_data(as_text=True)
        assert f"If an account at {email} waits for confirmation, a new link is on its way" in page

    assert [m["To"] for m in smtp.inbox.messages] == ["pat@acme.test"] * 2
    second = link_in(smtp, "pat@acme.test", "Confirm your email for Cadence")
    assert second != first
    client.get(second)
    assert sign_in(client, "pat@acme.test").location == "/manager/team"


def test_resending_names_a_missing_address(client, smtp):
    answer = post(client, "/verify-email/resend", {"email": ""}, page="/verify-email")
    assert answer.status_code == 400 and 'id="e-email"' in answer.get_data(as_text=True)


# ---------------------------------------------------------------- password reset


def reset_link(client: FlaskClient, smtp, email: str = "pat@acme.test") -> str:  # type: ignore[no-untyped-def]
    answer = post(client, "/password/forgot", {"email": email}, page="/password/forgot")
    assert answer.status_code == 302
    return link_in(smtp, email, "Reset your Cadence password")


def test_a_reset_link_sets_a_new_password_once(client, smtp):
    pat_signs_up(client, smtp)
    other = client.application.test_client()
    link = reset_link(other, smtp)
    assert "Choose a new password" in other.get(link).get_data(as_text=True)

    answer = post(other, link, {"password": NEW_PASSWORD}, page=link)

    assert answer.status_code == 302 and answer.location.startswith("/signin")
    assert sign_in(other, "pat@acme.test", PASSWORD).status_code == 400
    assert sign_in(other, "pat@acme.test", NEW_PASSWORD).location == "/manager/team"
    # Single use: the link was made for the old password.
    again = other.get(link)
    assert again.location == "/password/forgot"
    assert "already used" in other.get(again.location).get_data(as_text=True)


def test_a_reset_ends_every_session_of_the_account(client, smtp):
    pat_signs_up(client, smtp)
    other = client.application.test_client()
    link = reset_link(other, smtp)
    post(other, link, {"password": NEW_PASSWORD}, page=link)
    assert not signed_in(client)


def test_a_reset_link_expires_after_an_hour(client, smtp, clock):
    pat_signs_up(client, smtp)
    link = reset_link(client, smtp)
    clock.now += timedelta(hours=1)
    assert client.get(link).location == "/password/forgot"


def test_a_reset_asks_for_a_long_enough_password(client, smtp):
    pat_signs_up(client, smtp)
    link = reset_link(client, smtp)
    answer = post(client, link, {"password": "short"}, page=link)
    assert answer.status_code == 400 and "at least 10 characters" in answer.get_data(as_text=True)


def test_forgot_answers_the_same_whether_or_not_the_address_has_an_account(client, smtp):
    pat_signs_up(client, smtp)
    before = len(smtp.inbox.messages)
    answer = post(client, "/password/forgot", {"email": "nobody@acme.test"}, page="/signin")
    assert answer.status_code == 302
    page = client.get(answer.location).get_data(as_text=True)
    assert "a link to choose a new one is on its way" in page
    assert len(smtp.inbox.messages) == before


def test_a_reset_also_confirms_the_address(client, smtp):
    sign_up_form(client, "pat@acme.test", "Patrick", "UTC", "Acme")  # never confirmed
    link = reset_link(client, smtp)
    post(client, link, {"password": NEW_PASSWORD}, page=link)
    assert sign_in(client, "pat@acme.test", NEW_PASSWORD).location == "/manager/team"


# ---------------------------------------------------------------- both account emails


def test_the_account_emails_are_built_like_every_other_email(client, smtp, database):
    """The link is the HTML part's button and both parts end with the footer, as in the
    conflict, move, nudge and digest emails; still no way to stop them, and still secret."""
    pat_signs_up(client, smtp)
    reset_link(client, smtp)
    footer = '<hr><p style="color:#555;font-size:small">You get this email from Cadence.</p>'
    for subject, label in (
        ("Confirm your email for Cadence", "Confirm your email"),
        ("Reset your Cadence password", "Choose a new password"),
    ):
        (message,) = [m for m in smtp.inbox.messages if m["Subject"] == subject]
        text = smtp.inbox.text(message).replace("\r\n", "\n")  # as sent: CRLF
        url = re.search(r"http://127\.0\.0\.1:5000/\S+", text).group(0)
        html = message.get_body(("html",)).get_content()
        assert text.startswith("Hello Patrick,\n\n")
        assert f"{label}: {url}\n" in text
        assert text.endswith("\n-- \nYou get this email from Cadence.\n")
        assert f'<a href="{url}" style="display:inline-block' in html
        assert f">{label}</a>" in html
        assert footer in html
        assert message["List-Unsubscribe"] is None
    with database.session() as db:
        rows = db.scalars(select(OutboxMessage)).all()
    assert {row.kind for row in rows} == {"verify-email", "password-reset"}
    assert {row.text_body for row in rows} == {BLANKED}


# ---------------------------------------------------------------- password change


def test_changing_the_password_asks_the_current_one_and_ends_the_other_sessions(client, smtp):
    pat_signs_up(client, smtp)
    laptop = client.application.test_client()
    sign_in(laptop, "pat@acme.test")

    wrong = post(
        client,
        "/account/password",
        {"current_password": "not it", "password": NEW_PASSWORD},
        page="/account",
    )
    assert wrong.status_code == 400
    assert "That is not your current password" in wrong.get_data(as_text=True)
    short = post(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": "short"},
        page="/account",
    )
    assert short.status_code == 400 and "at least 10 characters" in short.get_data(as_text=True)
    assert signed_in(laptop)

    changed = post(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD},
        page="/account",
    )

    assert changed.status_code == 302
    assert signed_in(client)  # this browser stays signed in
    assert not signed_in(laptop)  # the others are out
    assert sign_in(laptop, "pat@acme.test", NEW_PASSWORD).location == "/manager/team"


# ---------------------------------------------------------------- sessions


def copy_cookie(source: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``source``'s session cookie."""
    thief = source.application.test_client()
    cookie = source.get_cookie("cadence")
    assert cookie is not None
    thief.set_cookie("cadence", cookie.value)
    return thief


def test_a_cookie_copied_before_sign_out_stops_working(client, smtp):
    pat_signs_up(client, smtp)
    thief = copy_cookie(client)
    assert signed_in(thief)

    post(client, "/signout", page="/account")

    assert not signed_in(client)
    assert not signed_in(thief)
    assert thief.get("/manager/team").location.startswith("/signin")


def test_signing_out_ends_only_that_session(client, smtp):
    pat_signs_up(client, smtp)
    phone = client.application.test_client()
    sign_in(phone, "pat@acme.test")
    post(client, "/signout", page="/account")
    assert signed_in(phone)


def test_sign_out_everywhere_ends_every_session_of_the_person(client, smtp):
    pat_signs_up(client, smtp)
    phone = client.application.test_client()
    sign_in(phone, "pat@acme.test")
    thief = copy_cookie(phone)

    answer = post(client, "/account/signout-everywhere", page="/account")

    assert answer.location == "/signin"
    assert not any(signed_in(browser) for browser in (client, phone, thief))
    assert sign_in(phone, "pat@acme.test").location == "/manager/team"  # a new session works


def test_a_session_ends_on_the_server_after_14_days(client, smtp, clock):
    pat_signs_up(client, smtp)
    clock.now += timedelta(days=14)
    assert not signed_in(client)


def test_a_cookie_without_a_server_session_signs_nobody_in(client, smtp, database):
    pat_signs_up(client, smtp)
    with client.session_transaction() as cookie:
        del cookie["sid"]  # as a cookie from before sessions were kept
    assert not signed_in(client)


def test_the_check_per_request_is_one_query(client, smtp, database, clock):
    pat_signs_up(client, smtp)
    with database.session() as db:
        pat = db.scalar(select(Person))
        token = start_session(db, pat, now=clock.now)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        with database.session() as db:
            found = session_person(db, token, org_id=pat.organization_id, now=clock.now)
            assert found is not None and found.id == pat.id
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert len(statements) == 1 and "login_sessions" in statements[0]
    with database.session() as db:
        assert db.get(LoginSession, token) is None  # the token is stored only as its hash
