"""The rep's side: the agenda behind a signed link, their 1:1s and action items."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduler.debrief import ActionItemDraft, DebriefDraft
from scheduler.models import ActionItem, Session, TalkingPoint
from scheduler.usecases.debriefing import record_debrief
from tests.web.conftest import NOW, post, set_password, sign_in
from tests.web.test_manager import book_top_slot
from web.agenda_links import LINK_LIFETIME, agenda_token


@pytest.fixture
def booked(client, make_org, database, settings):
    """An organisation whose manager booked George; returns (org, George's first session)."""
    org = make_org(client)
    book_top_slot(client, org.rep_ids[0])
    with database.session() as db:
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    return org, first


def agenda_path(settings, org_id: str, session_id: str) -> str:
    return f"/agenda/{agenda_token(settings.secret_key, org_id, session_id)}"


def test_the_agenda_link_needs_no_account_and_takes_talking_points(app, booked, settings, database):
    org, session = booked
    reader = app.test_client()
    path = agenda_path(settings, org.org_id, session.id)
    page = reader.get(path).get_data(as_text=True)
    assert "Status update" in page and "(America/New_York)" in page
    answer = post(reader, path, {"text": "The Globex renewal"}, page=path)
    assert answer.status_code == 302
    assert "The Globex renewal" in reader.get(path).get_data(as_text=True)
    with database.session() as db:
        point = db.scalar(select(TalkingPoint))
        assert point.session_id == session.id and point.author_id is None


def test_an_empty_talking_point_is_refused_beside_its_field(app, booked, settings):
    org, session = booked
    reader = app.test_client()
    path = agenda_path(settings, org.org_id, session.id)
    answer = post(reader, path, {"text": "   "}, page=path)
    assert answer.status_code == 400
    assert 'id="e-text"' in answer.get_data(as_text=True)


def test_a_forged_or_foreign_link_is_not_found(app, booked, settings):
    org, session = booked
    reader = app.test_client()
    assert (
        reader.get(
            f"/agenda/{agenda_token('another-secret-key-0123456789abcdef', org.org_id, session.id)}"
        ).status_code
        == 404
    )
    assert reader.get(agenda_path(settings, "another-org", session.id)).status_code == 404
    assert reader.get("/agenda/garbage").status_code == 404


def test_the_link_expires_a_while_after_its_session(app, booked, settings, clock):
    org, session = booked
    path = agenda_path(settings, org.org_id, session.id)
    clock.now = session.scheduled_start + LINK_LIFETIME - timedelta(minutes=1)
    assert app.test_client().get(path).status_code == 200
    clock.now = session.scheduled_start + LINK_LIFETIME + timedelta(minutes=1)
    assert app.test_client().get(path).status_code == 410


def test_an_expired_link_says_it_expired_and_what_to_do(app, booked, settings, clock):
    """Not the generic "Nothing here ... not in your organisation": 410, the 1:1 it was for on
    the reader's clock, when it stopped, and where the agenda is now."""
    org, session = booked
    path = agenda_path(settings, org.org_id, session.id)
    clock.now = session.scheduled_start + LINK_LIFETIME + timedelta(days=2)
    for answer in (
        app.test_client().get(path),
        post(app.test_client(), path, {"text": "Too late"}, page="/signin"),
    ):
        assert answer.status_code == 410
        page = answer.get_data(as_text=True)
        assert "This agenda link has expired" in page
        assert "not in your organisation" not in page
        # George's first 1:1, in his zone, and the day the link stopped (30 days later).
        start = session.scheduled_start.astimezone(ZoneInfo("America/New_York"))
        assert f"on {start:%a %d %b %Y, %H:%M}" in page and "(America/New_York)" in page
        stopped = (session.scheduled_start + LINK_LIFETIME).astimezone(ZoneInfo("America/New_York"))
        assert f"this one stopped on {stopped:%a %d %b %Y}" in page
        assert "Patrick and George" in page
        assert "open the link in its invite" in page and 'href="/signin"' in page


def test_the_invite_carries_the_signed_link(booked, calendar, settings):
    org, session = booked
    (event,) = calendar.events.values()
    assert event.spec.agenda.url == settings.base_url + agenda_path(
        settings, org.org_id, session.id
    )


def test_a_signed_in_rep_sees_their_1to1s_and_completes_their_items(app, booked, database):
    org, session = booked
    record_debrief(
        database,
        org_id=org.org_id,
        session_id=session.id,
        manager_id=org.manager_id,
        draft=DebriefDraft(
            notes={"Status update": "Secret coaching note"},
            action_items=(
                ActionItemDraft("Manager task", "manager", date(2026, 11, 30)),
                ActionItemDraft("Update the CRM", "rep", date(2026, 11, 30)),
                ActionItemDraft("Call Initech", "rep", date(2026, 11, 30)),
            ),
        ),
        now=session.scheduled_end,  # once the 1:1 has taken place
    )
    set_password(database, "george@acme.test")
    george = app.test_client()
    assert sign_in(george, "george@acme.test").headers["Location"] == "/me"
    sessions = george.get("/me").get_data(as_text=True)
    assert "Patrick" in sessions and "Agenda and talking points" in sessions
    items = george.get("/me/action-items").get_data(as_text=True)
    assert "Update the CRM" in items and "Manager task" not in items
    assert "Secret coaching note" not in sessions + items
    with database.session() as db:
        crm = db.scalar(select(ActionItem).where(ActionItem.text == "Update the CRM"))
    post(george, f"/me/action-items/{crm.id}", {"done": "1"}, page="/me/action-items")
    with database.session() as db:
        assert db.get(ActionItem, crm.id).done_at == NOW
