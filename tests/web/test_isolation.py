"""Isolation: each object is looked up in the viewer's organisation and role.

A manager never sees another manager's coaching notes, a rep never sees another rep's
anything, and nobody reaches another organisation's objects: those answer 404, not 403.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from scheduler.debrief import ActionItemDraft, DebriefDraft
from scheduler.models import ActionItem, Session
from scheduler.usecases.accounts import invite_person
from scheduler.usecases.debriefing import record_debrief
from tests.web.conftest import NOW, post, set_password, sign_in
from tests.web.test_manager import book_top_slot
from web.agenda_links import agenda_token

NOTE = "Confidential: needs coaching on discovery"


@pytest.fixture
def world(app, client, make_org, database):
    """Acme (Patrick with George and Lena, both booked and debriefed; Maria, another manager)
    and Globex (Olga with her rep Ivan)."""
    acme = make_org(client)
    sessions = {}
    for rep_id in acme.rep_ids:
        book_top_slot(client, rep_id)
        with database.session() as db:
            first = db.scalars(
                select(Session).where(Session.rep_id == rep_id).order_by(Session.scheduled_start)
            ).first()
        record_debrief(
            database,
            org_id=acme.org_id,
            session_id=first.id,
            manager_id=acme.manager_id,
            draft=DebriefDraft(
                notes={"Coaching to best practices": NOTE},
                action_items=(
                    ActionItemDraft("Manager item", "manager", date(2026, 11, 30)),
                    ActionItemDraft(f"Rep item {rep_id}", "rep", date(2026, 11, 30)),
                    ActionItemDraft("Another rep item", "rep", date(2026, 11, 30)),
                ),
            ),
            now=first.scheduled_end,  # once the 1:1 has taken place
        )
        sessions[rep_id] = first
    invite_person(
        database,
        org_id=acme.org_id,
        actor_id=acme.manager_id,
        email="maria@acme.test",
        name="Maria",
        zone="UTC",
        admin=False,
        manager=True,
        rep=False,
        now=NOW,
    )
    for email in ("maria@acme.test", "george@acme.test"):
        set_password(database, email)
    globex = make_org(
        app.test_client(),
        email="olga@globex.test",
        name="Olga",
        organization="Globex",
        reps=(("ivan@globex.test", "Ivan", "Europe/Berlin"),),
    )
    return acme, globex, sessions


def signed_in_as(app, email: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def acme_paths(acme, sessions) -> list[str]:  # type: ignore[no-untyped-def]
    george_session = sessions[acme.rep_ids[0]]
    return [
        f"/manager/sessions/{george_session.id}",
        f"/manager/series/{george_session.series_id}",
        f"/manager/reps/{acme.rep_ids[0]}/slots",
    ]


def test_another_manager_cannot_see_a_managers_coaching_notes(app, world):
    acme, _, sessions = world
    maria = signed_in_as(app, "maria@acme.test")
    for path in acme_paths(acme, sessions):
        answer = maria.get(path)
        assert answer.status_code == 404, path
        assert NOTE not in answer.get_data(as_text=True)
    assert "Manager item" not in maria.get("/manager/action-items").get_data(as_text=True)


def test_another_manager_cannot_move_cancel_or_debrief_a_managers_session(app, world, calendar):
    acme, _, sessions = world
    maria = signed_in_as(app, "maria@acme.test")
    george_session = sessions[acme.rep_ids[0]]
    for action in ("cancel", "move", "debrief"):
        answer = post(
            maria,
            f"/manager/sessions/{george_session.id}/{action}",
            {"start": "2026-10-28T15:00:00+00:00"},
            page="/manager/team",
        )
        assert answer.status_code == 404, action
    assert calendar.calls["cancel_occurrence"] == calendar.calls["move_occurrence"] == 0


def test_the_manager_sees_their_own_notes(client, world):
    acme, _, sessions = world
    page = client.get(f"/manager/sessions/{sessions[acme.rep_ids[0]].id}").get_data(as_text=True)
    assert NOTE in page


def test_a_rep_cannot_see_or_touch_another_reps_anything(app, world, database):
    acme, _, sessions = world
    george = signed_in_as(app, "george@acme.test")
    lena_id = acme.rep_ids[1]
    with database.session() as db:
        lena_item = db.scalar(select(ActionItem).where(ActionItem.text == f"Rep item {lena_id}"))
    mine = george.get("/me/action-items").get_data(as_text=True)
    assert f"Rep item {lena_id}" not in mine and f"Rep item {acme.rep_ids[0]}" in mine
    answer = post(george, f"/me/action-items/{lena_item.id}", {"done": "1"}, page="/me")
    assert answer.status_code == 404
    with database.session() as db:
        assert db.get(ActionItem, lena_item.id).done_at is None
    assert george.get(f"/manager/sessions/{sessions[lena_id].id}").status_code == 403
    assert NOTE not in george.get("/me").get_data(as_text=True)


def test_nobody_reaches_another_organisations_objects(app, world, settings):
    acme, globex, sessions = world
    olga = signed_in_as(app, "olga@globex.test")
    for path in acme_paths(acme, sessions):
        assert olga.get(path).status_code == 404, path
    george_session = sessions[acme.rep_ids[0]]
    answer = post(olga, f"/manager/sessions/{george_session.id}/cancel", page="/manager/team")
    assert answer.status_code == 404
    answer = post(
        olga,
        f"/admin/people/{acme.rep_ids[0]}/roles",
        {"admin": "on", "active": "on"},
        page="/admin/people",
    )
    assert answer.status_code == 404
    # A link signed for Globex cannot open Acme's session.
    forged = agenda_token(settings.secret_key, globex.org_id, george_session.id)
    assert olga.get(f"/agenda/{forged}").status_code == 404
    assert "George" not in olga.get("/admin/people").get_data(as_text=True)
