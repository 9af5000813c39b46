"""The JSON API under /api/v1: series, sessions, action items and people.

Callers authenticate with the browser session (unsafe methods then need the CSRF token in an
``X-CSRFToken`` header) or with an admin's API token (``Authorization: Bearer cad_...``), which
needs no CSRF token because no browser sends it on its own. Errors are JSON naming the field
at fault: ``{"error": {"status", "title", "detail", "fields": [{"field", "message"}]}}``.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from flask import Blueprint, Response, g, jsonify, make_response, request
from werkzeug.exceptions import BadRequest

from scheduler.debrief import ActionItemDraft, DebriefDraft
from scheduler.field_errors import FieldError
from scheduler.models import ActionItem, Person, Series, Session
from scheduler.recurrence import WeeklySlot
from scheduler.usecases.api_tokens import person_for_token
from scheduler.usecases.booking import AlreadyBooked
from scheduler.usecases.debriefing import complete_action_item, record_debrief
from scheduler.usecases.directory import InvalidInput, add_rep
from web import api_queries, calendar_actions
from web.api_json import action_item_json, person_json, series_json, session_json
from web.identity import has_role
from web.input_guard import nul_fields
from web.openapi import openapi_document
from web.providers import CalendarUnavailable
from web.security import csrf
from web.services import cadence

bp = Blueprint("api", __name__, url_prefix="/api/v1")

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ApiProblem(Exception):
    """An answer other than success, with the fields at fault."""

    def __init__(self, status: int, detail: str, fields: list[FieldError] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.fields = status, detail, fields or []


@bp.errorhandler(ApiProblem)
def problem(error: ApiProblem) -> Response:
    titles = {400: "Bad request", 401: "Not signed in", 403: "Forbidden", 409: "Conflict"}
    body = {
        "status": error.status,
        "title": titles.get(error.status, "Invalid input"),
        "detail": error.detail,
        "fields": [{"field": f.field, "message": f.message} for f in error.fields],
    }
    answer = make_response(jsonify(error=body), error.status)
    if error.status == 401:
        answer.headers["WWW-Authenticate"] = 'Bearer realm="cadence"'
    return answer


@bp.errorhandler(InvalidInput)
def invalid(error: InvalidInput) -> Response:
    return problem(ApiProblem(422, "The input breaks a rule.", error.errors))


@bp.before_request
def refuse_nul_characters() -> None:
    fields = nul_fields()
    if fields:
        raise ApiProblem(
            400,
            "Text cannot contain a NUL character.",
            [FieldError(name, "Remove the NUL character (U+0000).") for name in fields],
        )


@bp.before_request
def authenticate() -> None:
    """Who is calling: a bearer token's admin, or the session's person (with CSRF on writes)."""
    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        person = person_for_token(
            cadence().database, header.removeprefix("Bearer ").strip(), now=cadence().now()
        )
        if person is None:
            raise ApiProblem(401, "The API token is unknown, expired or revoked.")
        g.person = person
        return
    if g.person is None:
        raise ApiProblem(401, "Sign in, or send an API token as a Bearer token.")
    if request.method not in SAFE_METHODS:
        csrf.protect()


def _body() -> dict[str, Any]:
    try:
        data = request.get_json(force=False, silent=False)
    except BadRequest as error:
        raise ApiProblem(400, "The body is not valid JSON.") from error
    if not isinstance(data, dict):
        raise ApiProblem(400, "Send a JSON object with Content-Type: application/json.")
    return data


def _text(
    data: dict[str, Any], name: str, errors: list[FieldError], *, optional: bool = False
) -> str:
    value = data.get(name, "" if optional else None)
    if not isinstance(value, str):
        errors.append(FieldError(name, "Required: a string."))
        return ""
    return value


def _require(role: str) -> None:
    if not has_role(g.person, role):  # type: ignore[arg-type]
        raise ApiProblem(403, f"Only a {role} can do this.")


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(cadence().settings.base_url))


@bp.get("/people")
def people() -> Response:
    rows = api_queries.listing(Person, g.person, order=Person.email)
    return jsonify(data=[person_json(p) for p in rows])


@bp.get("/people/<person_id>")
def person(person_id: str) -> Response:
    return jsonify(data=person_json(api_queries.one(Person, g.person, person_id)))


@bp.post("/people")
def add_person() -> Response:
    """A manager puts a rep on their team (the same use case as the team page)."""
    _require("manager")
    data = _body()
    errors: list[FieldError] = []
    email = _text(data, "email", errors)
    name = _text(data, "name", errors, optional=True)
    zone = _text(data, "zone", errors)
    if errors:
        raise ApiProblem(422, "Some fields are missing or of the wrong type.", errors)
    rep_id = add_rep(
        cadence().database,
        org_id=g.person.organization_id,
        manager_id=g.person.id,
        email=email,
        name=name,
        zone=zone,
        now=cadence().now(),
    )
    return make_response(jsonify(data=person_json(api_queries.one(Person, g.person, rep_id))), 201)


@bp.get("/series")
def series_list() -> Response:
    rows = api_queries.listing(Series, g.person, order=Series.created_at)
    return jsonify(data=[series_json(s) for s in rows])


@bp.get("/series/<series_id>")
def series(series_id: str) -> Response:
    return jsonify(data=series_json(api_queries.one(Series, g.person, series_id)))


@bp.post("/series")
def book() -> Response:
    """Book a weekly 1:1 for one of the caller's reps; repeating the call books nothing new."""
    _require("manager")
    data = _body()
    errors: list[FieldError] = []
    rep_id = _text(data, "rep_id", errors)
    slot = _slot(data, errors)
    first_day = _date(data, "first_day", errors)
    if errors or slot is None or first_day is None:
        raise ApiProblem(422, "Some fields are missing or wrong.", errors)
    rep = api_queries.one(Person, g.person, rep_id)
    if rep.manager_id != g.person.id:
        raise ApiProblem(
            422, "Not your rep.", [FieldError("rep_id", "This rep is not on your team.")]
        )
    try:
        series_id = calendar_actions.book(g.person, rep.id, slot, first_day)
    except AlreadyBooked as booked:
        raise ApiProblem(
            409,
            f"The pair already has a live series {booked.series_id}.",
            [FieldError("rep_id", "This rep already has a weekly 1:1.")],
        ) from booked
    except CalendarUnavailable as error:
        raise ApiProblem(409, str(error)) from error
    return make_response(
        jsonify(data=series_json(api_queries.one(Series, g.person, series_id))), 201
    )


def _slot(data: dict[str, Any], errors: list[FieldError]) -> WeeklySlot | None:
    weekday, minutes = data.get("weekday"), data.get("duration_minutes", 30)
    wall, zone = data.get("local_time"), data.get("zone", g.person.zone)
    before = len(errors)
    if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
        errors.append(FieldError("weekday", "A whole number from 0 (Monday) to 6 (Sunday)."))
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 15 <= minutes <= 240:
        errors.append(FieldError("duration_minutes", "A whole number of minutes, 15 to 240."))
    try:
        clock = time.fromisoformat(wall) if isinstance(wall, str) and len(wall) == 5 else None
    except ValueError:
        clock = None
    if clock is None:
        errors.append(FieldError("local_time", "A wall-clock time like 09:30."))
    if zone != g.person.zone:
        errors.append(FieldError("zone", "A series is booked in the manager's own zone."))
    if len(errors) > before:
        return None
    assert isinstance(weekday, int) and isinstance(minutes, int) and clock is not None
    return WeeklySlot(weekday, clock, timedelta(minutes=minutes), str(zone))


def _date(data: dict[str, Any], name: str, errors: list[FieldError]) -> date | None:
    value = data.get(name)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors.append(FieldError(name, "A date like 2026-11-02."))
    return None


@bp.get("/sessions")
def sessions() -> Response:
    filters = []
    if series_id := request.args.get("series_id"):
        filters.append(Session.series_id == series_id)
    rows = api_queries.listing(Session, g.person, *filters, order=Session.scheduled_start)
    return jsonify(data=[session_json(s) for s in rows])


@bp.get("/sessions/<session_id>")
def session(session_id: str) -> Response:
    return jsonify(data=session_json(api_queries.one(Session, g.person, session_id)))


@bp.put("/sessions/<session_id>/debrief")
def debrief(session_id: str) -> Response:
    """Record (or replace) the session's debrief: notes per topic and the action items."""
    row = api_queries.one(Session, g.person, session_id)
    if row.manager_id != g.person.id:
        raise ApiProblem(403, "Only the session's manager records its debrief.")
    data = _body()
    errors: list[FieldError] = []
    notes = data.get("notes", {})
    if not isinstance(notes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in notes.items()
    ):
        errors.append(FieldError("notes", "An object of topic title -> note text."))
        notes = {}
    items = data.get("action_items")
    if not isinstance(items, list):
        errors.append(FieldError("action_items", "A list of {text, owner, due_date}."))
        items = []
    drafts = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(
                FieldError(f"action_items[{index}]", "An object {text, owner, due_date}.")
            )
            continue
        due = item.get("due_date")
        try:
            due_day = date.fromisoformat(due) if isinstance(due, str) else None
        except ValueError:
            due_day = None
        if due is not None and due_day is None:
            errors.append(FieldError(f"action_items[{index}].due_date", "A date like 2026-11-02."))
        drafts.append(
            ActionItemDraft(str(item.get("text", "")), str(item.get("owner", "")), due_day)
        )
    if errors:
        raise ApiProblem(422, "Some fields are missing or of the wrong type.", errors)
    record_debrief(
        cadence().database,
        org_id=g.person.organization_id,
        session_id=row.id,
        manager_id=g.person.id,
        draft=DebriefDraft(notes=notes, action_items=tuple(drafts)),
        now=cadence().now(),
    )
    items_now = api_queries.listing(ActionItem, g.person, ActionItem.session_id == row.id)
    return jsonify(data=[action_item_json(i) for i in items_now])


@bp.get("/action-items")
def action_items() -> Response:
    filters = []
    state = request.args.get("state", "all")
    if state not in ("all", "open", "done"):
        raise ApiProblem(422, "Unknown state.", [FieldError("state", "One of all, open, done.")])
    if state != "all":
        filters.append(
            ActionItem.done_at.is_(None) if state == "open" else ActionItem.done_at.is_not(None)
        )
    rows = api_queries.listing(ActionItem, g.person, *filters, order=ActionItem.due_date)
    return jsonify(data=[action_item_json(i) for i in rows])


@bp.patch("/action-items/<item_id>")
def update_action_item(item_id: str) -> Response:
    item = api_queries.one(ActionItem, g.person, item_id)
    done = _body().get("done")
    if not isinstance(done, bool):
        raise ApiProblem(422, "Say whether it is done.", [FieldError("done", "true or false.")])
    complete_action_item(
        cadence().database,
        org_id=g.person.organization_id,
        item_id=item.id,
        person_id=g.person.id,
        done=done,
        now=cadence().now(),
    )
    return jsonify(data=action_item_json(api_queries.one(ActionItem, g.person, item_id)))
