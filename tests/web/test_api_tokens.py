"""API tokens: an expiry chosen when issued, the last use shown to admins, revocation at once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.models import ApiToken
from tests.web.conftest import NOW, post, sign_in


@pytest.fixture
def org(client, make_org):
    return make_org(client)


def issue(client, name: str, expires: str = "") -> str:  # type: ignore[no-untyped-def]
    page = post(
        client, "/admin/api-tokens", {"name": name, "expires": expires}, page="/admin/api-tokens"
    )
    assert page.status_code == 200, page.get_data(as_text=True)
    return re.search(r'id="issued-token" readonly value="([^"]+)"', page.text).group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_with_an_expiry_works_until_then_and_is_refused_after(
    app, client, org, clock, database
):
    token = issue(client, "Quarterly export", expires="30")
    with database.session() as db:
        assert db.scalar(select(ApiToken.expires_at)) == NOW + timedelta(days=30)
    script = app.test_client()
    clock.now = NOW + timedelta(days=30) - timedelta(seconds=1)
    assert script.get("/api/v1/people", headers=bearer(token)).status_code == 200

    clock.now = NOW + timedelta(days=30)
    late = script.get("/api/v1/people", headers=bearer(token))
    assert late.status_code == 401
    assert late.get_json()["error"]["detail"] == "The API token is unknown, expired or revoked."
    sign_in(client, org.manager_email)  # a month on, the admin's session has ended
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    assert "Expired" in page and "Revoke" not in page


def test_a_token_without_an_expiry_never_expires_and_the_choice_is_checked(
    app, client, org, clock, database
):
    token = issue(client, "CRM sync")
    with database.session() as db:
        assert db.scalar(select(ApiToken.expires_at)) is None
    clock.now = NOW + timedelta(days=3650)
    assert app.test_client().get("/api/v1/people", headers=bearer(token)).status_code == 200

    sign_in(client, org.manager_email)  # years on, the admin's session has ended
    odd = post(
        client, "/admin/api-tokens", {"name": "x", "expires": "-5"}, page="/admin/api-tokens"
    )
    assert odd.status_code == 400
    assert 'id="e-expires"' in odd.get_data(as_text=True)


def test_admins_see_when_each_token_was_last_used(app, client, org, clock):
    token = issue(client, "CRM sync")
    assert "Never" in client.get("/admin/api-tokens").get_data(as_text=True)
    clock.now = NOW + timedelta(hours=5)
    app.test_client().get("/api/v1/people", headers=bearer(token))
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    # 18:00 UTC is 14:00 in New York, the admin's zone.
    assert re.search(r"Mon 19 Oct 2026[^<]*14:00", page), page


def test_a_revoked_token_is_refused_on_its_very_next_call(app, client, org, database):
    token = issue(client, "CRM sync")
    script = app.test_client()
    assert script.get("/api/v1/people", headers=bearer(token)).status_code == 200
    with database.session() as db:
        token_id = db.scalar(select(ApiToken.id))
    post(client, f"/admin/api-tokens/{token_id}/revoke", page="/admin/api-tokens")
    refused = script.post(
        "/api/v1/people", json={"email": "a@acme.test", "zone": "UTC"}, headers=bearer(token)
    )
    assert refused.status_code == 401
