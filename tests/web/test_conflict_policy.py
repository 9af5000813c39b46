"""The conflict policy: the organisation's default on the settings page, each manager's own
choice on their account page."""

from __future__ import annotations

from scheduler.defend import ConflictPolicy, effective_policy
from scheduler.models import AuditEntry, Organization, Person
from tests.web.conftest import post
from tests.web.test_admin import SETTINGS


def test_the_admin_sets_the_organisations_default(client, make_org, database):
    org = make_org(client)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'name="conflict_policy_default" value="ask" checked' in page

    answer = post(
        client, "/admin/settings", dict(SETTINGS, conflict_policy_default="auto"),
        page="/admin/settings",
    )  # fmt: skip
    assert answer.status_code == 302
    with database.session() as db:
        assert db.get(Organization, org.org_id).conflict_policy_default == "auto"
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'name="conflict_policy_default" value="auto" checked' in page

    bad = dict(SETTINGS, conflict_policy_default="sometimes")
    answer = post(client, "/admin/settings", bad, page="/admin/settings")
    assert answer.status_code == 400 and 'id="e-conflict_policy_default"' in answer.get_data(
        as_text=True
    )


def test_a_manager_chooses_their_own_policy_or_the_default(client, make_org, database):
    org = make_org(client)
    page = client.get("/account").get_data(as_text=True)
    assert "When a 1:1 gets a conflict" in page
    assert 'name="conflict_policy" value="default" checked' in page

    answer = post(client, "/account/conflict-policy", {"conflict_policy": "auto"}, page="/account")
    assert answer.status_code == 302
    with database.session() as db:
        manager = db.get(Person, org.manager_id)
        org_row = db.get(Organization, org.org_id)
        assert manager.conflict_policy == "auto"
        assert effective_policy(manager.conflict_policy, org_row.conflict_policy_default) is (
            ConflictPolicy.AUTO
        )
        assert db.query(AuditEntry).filter_by(action="person.conflict_policy").count() == 1
    assert 'value="auto" checked' in client.get("/account").get_data(as_text=True)

    post(client, "/account/conflict-policy", {"conflict_policy": "default"}, page="/account")
    post(client, "/account/conflict-policy", {"conflict_policy": "bogus"}, page="/account")
    with database.session() as db:
        assert db.get(Person, org.manager_id).conflict_policy is None
