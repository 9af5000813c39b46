"""The JSON API: session or bearer-token authentication, scoping, field-named errors."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from scheduler.models import ActionItem, ApiToken, Person, Session
from tests.web.conftest import NOW, csrf_token, post, set_password, sign_in
from tests.web.test_manager import book_top_slot


@pytest.fixture
def org(client, make_org):
    return make_org(client)


@pytest.fixture
def token(client, org) -> str:
    page = post(client, "/admin/api-tokens", {"name": "CRM sync"}, page="/admin/api-tokens")
    return re.search(r'id="issued-token" readonly value="([^"]+)"', page.text).group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_openapi_document_is_public_and_3_1(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    assert {"/series", "/sessions", "/action-items", "/people"} <= set(doc["paths"])


def test_without_credentials_the_api_answers_401_json(app):
    answer = app.test_client().get("/api/v1/series")
    assert answer.status_code == 401
    assert answer.get_json()["error"]["status"] == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_is_stored_hashed_and_works_until_revoked(app, client, token, database):
    with database.session() as db:
        row = db.scalar(select(ApiToken))
    assert token.startswith("cad_") and row.token_hash != token and token not in row.prefix + "…"
    script = app.test_client()
    answer = script.get("/api/v1/people", headers=bearer(token))
    assert answer.status_code == 200
    assert {p["email"] for p in answer.get_json()["data"]} >= {"pat@acme.test", "lena@acme.test"}
    with database.session() as db:
        assert db.get(ApiToken, row.id).last_used_at == NOW
    post(client, f"/admin/api-tokens/{row.id}/revoke", page="/admin/api-tokens")
    assert script.get("/api/v1/people", headers=bearer(token)).status_code == 401
    assert script.get("/api/v1/people", headers=bearer("cad_made_up")).status_code == 401


def test_writes_with_a_token_need_no_csrf_but_session_writes_do(app, client, org, token):
    rep = {"email": "ana@acme.test", "name": "Ana", "zone": "Europe/Madrid"}
    by_token = app.test_client().post("/api/v1/people", json=rep, headers=bearer(token))
    assert (
        by_token.status_code == 201 and by_token.get_json()["data"]["manager_id"] == org.manager_id
    )
    no_csrf = client.post("/api/v1/people", json=dict(rep, email="bo@acme.test"))
    assert no_csrf.status_code == 400 and no_csrf.is_json
    with_csrf = client.post(
        "/api/v1/people",
        json=dict(rep, email="bo@acme.test"),
        headers={"X-CSRFToken": csrf_token(client, "/manager/team")},
    )
    assert with_csrf.status_code == 201


def test_errors_name_the_field_at_fault(client, org, token):
    answer = client.application.test_client().post(
        "/api/v1/people", json={"email": "nope", "zone": "Mars/Base"}, headers=bearer(token)
    )
    assert answer.status_code == 422
    fields = {f["field"] for f in answer.get_json()["error"]["fields"]}
    assert fields == {"email", "zone"}
    bad = client.application.test_client().post(
        "/api/v1/series",
        json={"rep_id": org.rep_ids[0], "weekday": 9, "local_time": "25:99", "first_day": "soon"},
        headers=bearer(token),
    )
    assert bad.status_code == 422
    assert {f["field"] for f in bad.get_json()["error"]["fields"]} == {
        "weekday",
        "local_time",
        "first_day",
    }
    garbage = client.application.test_client().post(
        "/api/v1/people", data="{", content_type="application/json", headers=bearer(token)
    )
    assert garbage.status_code == 400


def test_booking_by_api_is_idempotent_and_a_second_slot_conflicts(app, org, token, calendar):
    script = app.test_client()
    body = {
        "rep_id": org.rep_ids[0],
        "weekday": 1,
        "local_time": "10:00",
        "first_day": "2026-10-20",
    }
    first = script.post("/api/v1/series", json=body, headers=bearer(token))
    again = script.post("/api/v1/series", json=body, headers=bearer(token))
    assert first.status_code == again.status_code == 201
    assert first.get_json()["data"]["id"] == again.get_json()["data"]["id"]
    assert calendar.calls["create_series"] == 1
    other = script.post(
        "/api/v1/series", json=dict(body, local_time="11:00"), headers=bearer(token)
    )
    assert other.status_code == 409
    assert other.get_json()["error"]["fields"][0]["field"] == "rep_id"
    series_id = first.get_json()["data"]["id"]
    sessions = script.get(f"/api/v1/sessions?series_id={series_id}", headers=bearer(token))
    assert len(sessions.get_json()["data"]) >= 13


def test_debrief_and_action_items_by_api(app, client, org, token, database, clock):
    book_top_slot(client, org.rep_ids[0])
    with database.session() as db:
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    script = app.test_client()
    clock.now = first.scheduled_start
    short = script.put(
        f"/api/v1/sessions/{first.id}/debrief",
        json={"action_items": [{"text": "x", "owner": "rep", "due_date": "2026-11-30"}]},
        headers=bearer(token),
    )
    assert short.status_code == 422
    assert "action_items" in {f["field"] for f in short.get_json()["error"]["fields"]}
    items = [
        {"text": f"Item {i}", "owner": owner, "due_date": "2026-11-30"}
        for i, owner in enumerate(("manager", "rep", "rep"))
    ]
    ok = script.put(
        f"/api/v1/sessions/{first.id}/debrief", json={"action_items": items}, headers=bearer(token)
    )
    assert ok.status_code == 200 and len(ok.get_json()["data"]) == 3
    item_id = ok.get_json()["data"][1]["id"]
    done = script.patch(
        f"/api/v1/action-items/{item_id}", json={"done": True}, headers=bearer(token)
    )
    assert done.get_json()["data"]["done"] is True
    open_items = script.get("/api/v1/action-items?state=open", headers=bearer(token))
    assert item_id not in {i["id"] for i in open_items.get_json()["data"]}


def test_a_rep_sees_only_their_own_through_the_api(app, client, org, database):
    book_top_slot(client, org.rep_ids[0])
    book_top_slot(client, org.rep_ids[1])
    set_password(database, "george@acme.test")
    george = app.test_client()
    sign_in(george, "george@acme.test")
    series = george.get("/api/v1/series").get_json()["data"]
    assert [s["rep_id"] for s in series] == [org.rep_ids[0]]
    people = george.get("/api/v1/people").get_json()["data"]
    assert [p["email"] for p in people] == ["george@acme.test"]
    assert george.get(f"/api/v1/people/{org.rep_ids[1]}").status_code == 404


def test_another_organisations_token_sees_nothing_here(app, client, org, make_org, database):
    book_top_slot(client, org.rep_ids[0])
    other = app.test_client()
    make_org(other, email="olga@globex.test", name="Olga", organization="Globex", reps=())
    page = post(other, "/admin/api-tokens", {"name": "x"}, page="/admin/api-tokens").text
    globex = re.search(r'id="issued-token" readonly value="([^"]+)"', page).group(1)
    script = app.test_client()
    assert script.get("/api/v1/series", headers=bearer(globex)).get_json()["data"] == []
    assert script.get(f"/api/v1/people/{org.rep_ids[0]}", headers=bearer(globex)).status_code == 404


def test_a_nul_character_is_refused_by_field_on_every_database(client, org, token, database):
    answer = client.application.test_client().post(
        "/api/v1/people",
        json={"email": "ann@acme.test", "name": "Ann\x00", "zone": "UTC"},
        headers=bearer(token),
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"]["fields"] == [
        {"field": "name", "message": "Remove the NUL character (U+0000)."}
    ]
    page = post(
        client,
        "/manager/team/reps",
        {"email": "ann@acme.test", "name": "A\x00", "zone": "UTC"},
        page="/manager/team",
    )
    assert page.status_code == 400
    assert "Remove the NUL character from: name" in page.get_data(as_text=True)
    with database.session() as db:
        assert db.scalar(select(Person).where(Person.email == "ann@acme.test")) is None


def test_booking_a_first_day_in_the_past_is_refused_naming_first_day(app, org, token, calendar):
    # NOW is Monday 19 October 2026, 09:00 in New York: last Tuesday, and this morning's
    # 08:00, would both put the first 1:1 in the past.
    script = app.test_client()
    body = {"rep_id": org.rep_ids[0], "weekday": 1, "local_time": "10:00"}
    for first_day, weekday, clock in (("2026-10-13", 1, "10:00"), ("2026-10-19", 0, "08:00")):
        answer = script.post(
            "/api/v1/series",
            json=dict(body, first_day=first_day, weekday=weekday, local_time=clock),
            headers=bearer(token),
        )
        assert answer.status_code == 422, answer.get_json()
        assert [f["field"] for f in answer.get_json()["error"]["fields"]] == ["first_day"]
    assert calendar.calls["create_series"] == 0
    assert script.get("/api/v1/series", headers=bearer(token)).get_json()["data"] == []
    later_today = script.post(
        "/api/v1/series",
        json=dict(body, first_day="2026-10-19", weekday=0, local_time="10:00"),
        headers=bearer(token),
    )
    assert later_today.status_code == 201


def test_a_debrief_of_a_1to1_that_did_not_take_place_is_409(
    app, client, org, token, database, clock
):
    book_top_slot(client, org.rep_ids[0])
    with database.session() as db:
        first, second = db.scalars(select(Session).order_by(Session.scheduled_start)).all()[:2]
    post(client, f"/manager/sessions/{second.id}/cancel", page="/manager/team")
    script = app.test_client()
    items = [
        {"text": f"Item {i}", "owner": owner, "due_date": "2026-12-30"}
        for i, owner in enumerate(("manager", "rep", "rep"))
    ]

    def put(session_id):  # type: ignore[no-untyped-def]
        return script.put(
            f"/api/v1/sessions/{session_id}/debrief",
            json={"action_items": items},
            headers=bearer(token),
        )

    early = put(first.id)  # the 1:1 is tomorrow
    assert early.status_code == 409
    assert "has not started yet" in early.get_json()["error"]["detail"]
    clock.now = second.scheduled_end
    cancelled = put(second.id)
    assert cancelled.status_code == 409
    assert "was cancelled" in cancelled.get_json()["error"]["detail"]
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(ActionItem)) == 0
        assert "held" not in {row.outcome for row in db.scalars(select(Session))}
    assert put(first.id).status_code == 200  # it took place: a debrief makes it held


def test_a_debrief_saved_again_by_api_keeps_item_identity(app, client, org, token, database, clock):
    book_top_slot(client, org.rep_ids[0])
    with database.session() as db:
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    clock.now = first.scheduled_end
    script = app.test_client()
    items = [
        {"text": f"Item {i}", "owner": owner, "due_date": "2026-11-30"}
        for i, owner in enumerate(("manager", "rep", "rep"))
    ]
    url = f"/api/v1/sessions/{first.id}/debrief"
    saved = script.put(url, json={"action_items": items}, headers=bearer(token)).get_json()["data"]
    by_text = {item["text"]: item for item in saved}
    done_id = by_text["Item 1"]["id"]
    script.patch(f"/api/v1/action-items/{done_id}", json={"done": True}, headers=bearer(token))
    edited = [
        dict(items[0], id=by_text["Item 0"]["id"]),
        dict(items[1], id=done_id, text="Item 1, edited"),
        {"text": "Item 3", "owner": "rep", "due_date": "2026-12-01"},
    ]
    answer = script.put(url, json={"action_items": edited}, headers=bearer(token))
    assert answer.status_code == 200
    after = {item["text"]: item for item in answer.get_json()["data"]}
    assert set(after) == {"Item 0", "Item 1, edited", "Item 3"}
    assert after["Item 1, edited"]["id"] == done_id
    assert after["Item 1, edited"]["done"] is True
    assert after["Item 1, edited"]["done_at"] == clock.now.isoformat()
    assert after["Item 0"]["id"] == by_text["Item 0"]["id"]
    assert after["Item 3"]["id"] not in {item["id"] for item in saved}
