"""The admin's pages: roles, organisation settings and the agenda template, connection health."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scheduler.crypto import TokenCipher
from scheduler.models import AgendaTemplateRow, Organization, Person, Provider
from scheduler.usecases.connections import mark_reconnect_required, save_connection
from scheduler.usecases.directory import create_organization
from scheduler.usecases.job_failures import record_job_failure
from tests.web.conftest import NOW, post, set_password, sign_in

SETTINGS = {
    "horizon_weeks": "10",
    "meeting_minutes": "45",
    "min_action_items": "4",
    "grace_hours": "24",
    "day_starts": "08:30",
    "day_ends": "16:30",
    "holidays": "2026-12-25\n2026-12-26",
    "join_domain": "Acme.test",
    "video_meetings": "on",
}


@pytest.fixture
def org(client, make_org):
    return make_org(client)


def test_settings_are_saved(client, org, database):
    answer = post(client, "/admin/settings", SETTINGS, page="/admin/settings")
    assert answer.status_code == 302
    with database.session() as db:
        saved = db.get(Organization, org.org_id)
    assert (saved.horizon_weeks, saved.meeting_minutes, saved.min_action_items) == (10, 45, 4)
    assert saved.working_hours["4"] == [["08:30", "16:30"]] and "5" not in saved.working_hours
    assert saved.holidays == ["2026-12-25", "2026-12-26"]
    assert saved.join_domain == "acme.test" and saved.video_meetings


def test_bad_settings_are_named_field_by_field(client, org):
    bad = dict(
        SETTINGS, horizon_weeks="200", day_ends="07:00", holidays="Christmas", join_domain="x"
    )
    answer = post(client, "/admin/settings", bad, page="/admin/settings")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="e-horizon_weeks"' in page and 'id="e-holidays"' in page
    bad = dict(SETTINGS, day_ends="07:00", join_domain="not a domain")
    page = post(client, "/admin/settings", bad, page="/admin/settings").get_data(as_text=True)
    assert 'id="e-day_ends"' in page and 'id="e-join_domain"' in page


def test_the_agenda_template_is_validated_then_saved(client, org, database):
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="Status update"' in page
    duplicate = {
        "topic-0-title": "Pipeline",
        "topic-0-prompt": "",
        "topic-1-title": "pipeline",
        "topic-1-prompt": "x" * 300,
    }
    answer = post(client, "/admin/settings/agenda", duplicate, page="/admin/settings")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="e-topic-1-title"' in page and "Another topic has this title." in page
    assert 'id="e-topic-1-prompt"' in page
    good = {"topic-0-title": "Pipeline", "topic-0-prompt": "Deals", "topic-1-title": "Wins"}
    good["topic-1-prompt"] = good["topic-2-title"] = good["topic-2-prompt"] = ""
    assert post(client, "/admin/settings/agenda", good, page="/admin/settings").status_code == 302
    with database.session() as db:
        row = db.scalar(select(AgendaTemplateRow))
    assert [t["title"] for t in row.topics] == ["Pipeline", "Wins"]


def test_roles_change_but_the_last_admin_stays(client, org, database):
    george = org.rep_ids[0]
    post(
        client,
        f"/admin/people/{george}/roles",
        {"rep": "on", "manager": "on", "active": "on"},
        page="/admin/people",
    )
    with database.session() as db:
        assert db.get(Person, george).is_manager
    answer = post(
        client,
        f"/admin/people/{org.manager_id}/roles",
        {"manager": "on", "active": "on"},
        page="/admin/people",
    )
    assert answer.status_code == 302
    with database.session() as db:
        assert db.get(Person, org.manager_id).is_admin
    assert "needs one admin" in client.get("/admin/people").get_data(as_text=True)


def test_connection_health_lists_reconnect_required_first(client, org, database, settings):
    broken = save_connection(
        database,
        TokenCipher(settings.token_keys),
        org_id=org.org_id,
        person_id=org.manager_id,
        provider=Provider.MICROSOFT,
        account_email="pat@acme-ms.test",
        grant=b"{}",
        now=NOW,
    )
    mark_reconnect_required(
        database, org_id=org.org_id, connection_id=broken, reason="invalid_grant", now=NOW
    )
    page = client.get("/admin/connections").get_data(as_text=True)
    assert page.index("pat@acme-ms.test") < page.index("Working")
    assert "Reconnect required" in page and "invalid_grant" in page
    assert "needs reconnecting" in page  # the banner: the admin is this connection's owner


def test_failed_background_jobs_are_shown_to_admins(client, org, database):
    record_job_failure(
        database,
        org_id=org.org_id,
        job="sync_connection",
        subject_type="CalendarConnection",
        subject_id="c0ffee00-0000",
        error=TimeoutError("calendar did not answer"),
        now=NOW,
    )
    other_org, _ = create_organization(
        database,
        name="Globex",
        admin_email="hank@globex.test",
        admin_name="Hank",
        zone="UTC",
        now=NOW,
    )
    record_job_failure(
        database,
        org_id=other_org,
        job="book_series",
        subject_type="Person",
        subject_id="x",
        error=RuntimeError("not ours"),
        now=NOW,
    )
    page = client.get("/admin/connections").get_data(as_text=True)
    assert "sync_connection" in page and "TimeoutError: calendar did not answer" in page
    assert "not ours" not in page


def test_admin_pages_are_for_admins_only(app, client, org, database):
    set_password(database, "george@acme.test")
    george = app.test_client()
    sign_in(george, "george@acme.test")
    for path in ("/admin/people", "/admin/settings", "/admin/connections"):
        assert george.get(path).status_code == 403
