"""The unsubscribe link of every kind of email: a confirm page, its form (CSRF), RFC 8058's
one-click post (no CSRF: the signed token is the credential), and refused links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.links import UNSUBSCRIBE_LIFETIME, sign_link, unsubscribe_token
from scheduler.models import AuditEntry
from scheduler.usecases.directory import create_organization
from scheduler.usecases.mail_preferences import opted_out_kinds
from scheduler.usecases.spent_links import LinkSpent
from tests.web.conftest import NOW, csrf_token
from web.link_pages import refused_link

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def pat(database) -> tuple[str, str]:
    return create_organization(
        database, name="Acme", admin_email="pat@acme.test", admin_name="Pat", zone="UTC", now=NOW
    )


def token(settings, pat, kind: str = "conflict", now=NOW) -> str:  # type: ignore[no-untyped-def]
    org_id, person_id = pat
    return unsubscribe_token(
        settings.secret_key, org_id=org_id, person_id=person_id, kind=kind, now=now
    )


def stopped(database, pat) -> set[str]:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return opted_out_kinds(db, org_id=pat[0], person_id=pat[1])


def test_the_link_asks_then_its_button_stops_that_kind(client, settings, database, pat):
    path = f"/unsubscribe/{token(settings, pat)}"
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Stop conflict emails?" in html and "pat@acme.test" in html
    assert stopped(database, pat) == set()  # opening the link (a mail scanner) stops nothing

    done = client.post(path, data={"csrf_token": csrf_token(client, path)})

    assert done.status_code == 200
    assert "Done: no more conflict emails" in done.get_data(as_text=True)
    assert "account page" in done.get_data(as_text=True)
    assert stopped(database, pat) == {"conflict"}
    with database.session() as db:
        (entry,) = db.scalars(select(AuditEntry).where(AuditEntry.action == "person.mail_stopped"))
        assert entry.actor_id == pat[1]
    again = client.get(path).get_data(as_text=True)
    assert "You had already stopped conflict emails" in again


def test_a_form_post_without_its_csrf_token_is_refused(client, settings, database, pat):
    answer = client.post(f"/unsubscribe/{token(settings, pat)}", data={})
    assert answer.status_code == 400 and stopped(database, pat) == set()


def test_a_one_click_post_stops_it_without_a_csrf_token(client, settings, database, pat):
    answer = client.post(f"/unsubscribe/{token(settings, pat, 'digest')}", data=ONE_CLICK)
    assert answer.status_code == 200 and stopped(database, pat) == {"digest"}
    assert (
        client.post(f"/unsubscribe/{token(settings, pat, 'digest')}", data=ONE_CLICK).status_code
        == 200
    )


def test_an_expired_link_is_gone_and_says_when(client, settings, database, pat):
    old = token(settings, pat, now=NOW - UNSUBSCRIBE_LIFETIME - timedelta(hours=1))
    for answer in (
        client.get(f"/unsubscribe/{old}"),
        client.post(f"/unsubscribe/{old}", data=ONE_CLICK),
    ):
        assert answer.status_code == 410
        text = answer.get_data(as_text=True)
        assert "This link expired on Mon 19 Oct 2026, 12:00 UTC" in text
        assert 'href="/signin"' in text
    assert stopped(database, pat) == set()


@pytest.mark.parametrize("forge", ["tampered", "other purpose", "other person", "not a kind"])
def test_a_forged_link_is_not_found(client, settings, database, pat, forge):
    org_id, person_id = pat
    valid = token(settings, pat)
    bad = {
        "tampered": valid[:-3] + ("abc" if not valid.endswith("abc") else "xyz"),
        "other purpose": sign_link(
            settings.secret_key, purpose="move-week", org_id=org_id,
            subject={"person": person_id, "kind": "conflict"}, expires_at=NOW + timedelta(days=1),
        ),
        "other person": unsubscribe_token(
            settings.secret_key, org_id="another-org", person_id=person_id, kind="conflict", now=NOW
        ),
        "not a kind": unsubscribe_token(
            settings.secret_key, org_id=org_id, person_id=person_id, kind="verify-email", now=NOW
        ),
    }[forge]  # fmt: skip
    for answer in (
        client.get(f"/unsubscribe/{bad}"),
        client.post(f"/unsubscribe/{bad}", data=ONE_CLICK),
    ):
        assert answer.status_code == 404
        assert "This link is not valid" in answer.get_data(as_text=True)
    assert stopped(database, pat) == set()


def test_a_used_link_says_when_and_what_it_did(app):
    with app.test_request_context("/x"):
        page, status = refused_link(
            LinkSpent(NOW, "Moved to Wednesday 21 Oct, 10:00"), instead=("/series/1", "The series")
        )
    assert status == 410
    assert "already used on Mon 19 Oct 2026, 13:00 UTC: Moved to Wednesday 21 Oct" in page
    assert 'href="/series/1"' in page and "The series" in page
