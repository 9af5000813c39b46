"""The account page's Emails section: each kind of email the person's roles bring, on or off,
and the language of dates in them."""

from __future__ import annotations

import re

from scheduler.models import Person
from scheduler.usecases.mail_preferences import opted_out_kinds
from tests.web.conftest import post, set_password, sign_in


def kinds_shown(html: str) -> dict[str, bool]:
    """Each kind's checkbox on the page: ticked or not."""
    return {
        name: "checked" in rest for name, rest in re.findall(r'name="kind-([a-z-]+)"([^>]*)>', html)
    }


def test_a_manager_turns_kinds_off_and_picks_the_language_of_dates(client, make_org, database):
    org = make_org(client)
    page = client.get("/account").get_data(as_text=True)
    assert 'id="emails"' in page and "Language of dates in emails" in page
    assert kinds_shown(page) == {
        "conflict": True, "auto-move": True, "debrief-nudge": True, "digest": True,
    }  # fmt: skip

    saved = post(
        client,
        "/account/emails",
        {"kind-conflict": "on", "kind-digest": "on", "date_locale": "fr_FR"},
        page="/account",
    )

    assert saved.status_code == 302 and saved.location == "/account#emails"
    page = client.get("/account").get_data(as_text=True)
    assert "Saved: no automatic move, debrief reminder emails." in page
    assert kinds_shown(page) == {
        "conflict": True, "auto-move": False, "debrief-nudge": False, "digest": True,
    }  # fmt: skip
    assert '<option value="fr_FR" selected>Français</option>' in page
    with database.session() as db:
        assert opted_out_kinds(db, org_id=org.org_id, person_id=org.manager_id) == {
            "auto-move",
            "debrief-nudge",
        }
        assert db.get(Person, org.manager_id).date_locale == "fr_FR"

    post(client, "/account/emails", {f"kind-{k}": "on" for k in kinds_shown(page)}
         | {"date_locale": "fr_FR"}, page="/account")  # fmt: skip
    with database.session() as db:
        assert opted_out_kinds(db, org_id=org.org_id, person_id=org.manager_id) == set()


def test_an_unknown_language_is_refused_and_nothing_changes(client, make_org, database):
    org = make_org(client)
    answer = post(client, "/account/emails", {"date_locale": "xx_XX"}, page="/account")
    assert answer.status_code == 400
    assert "Pick one of the languages listed." in answer.get_data(as_text=True)
    with database.session() as db:
        assert opted_out_kinds(db, org_id=org.org_id, person_id=org.manager_id) == set()
        assert db.get(Person, org.manager_id).date_locale == "en_US"


def test_a_form_without_its_csrf_token_is_refused(client, make_org, database):
    org = make_org(client)
    assert client.post("/account/emails", data={"date_locale": "en_US"}).status_code == 400
    with database.session() as db:
        assert opted_out_kinds(db, org_id=org.org_id, person_id=org.manager_id) == set()


def test_a_rep_sees_the_kinds_a_rep_gets(app, client, make_org, database):
    make_org(client)
    set_password(database, "george@acme.test")
    rep = app.test_client()
    sign_in(rep, "george@acme.test")
    assert kinds_shown(rep.get("/account").get_data(as_text=True)) == {
        "auto-move": True,
        "rep-items": True,
    }
