"""The JSON API under /api/v1: series, sessions, action items and people.

Callers authenticate with the browser session (unsafe methods then need the CSRF token in an
``X-CSRFToken`` header) or with an admin's API token (``Authorization: Bearer cad_...``), which
needs no CSRF token because no browser sends it on its own. Errors are JSON naming the field
at fault: ``{"error": {"status", "title", "detail", "fields": [{"field", "message"}]}}``.
"""

from __future__ import annotations

from datetime import time, timedelta

from flask import Blueprint, Response, g, jsonify, make_response, request
from werkzeug.exceptions import BadRequest

from scheduler.debrief import ActionItemDraft, DebriefDraft
from scheduler.field_errors import FieldError
from scheduler.models import ActionItem, Person, Series, Session
from scheduler.recurrence import WeeklySlot
from scheduler.usecases.api_tokens import person_for_token
from scheduler.usecases.booking import AlreadyBooked
from scheduler.usecases.debriefing import DebriefRefused, complete_action_item, record_debrief
from scheduler.usecases.directory import InvalidInput, add_rep
from web import api_queries, calendar_actions
from web.api_json import action_item_json, person_json, series_json, session_json
from web.identity import has_role
from web.input_guard import nul_fields
from web.input_shapes import (
    ActionItemChange,
    Debrief,
    NewRep,
    NewSeries,
    S,
    read_json,
)
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


def _body(shape: type[S]) -> S:
    """The JSON body as ``shape`` (400 when it is not a JSON object, 422 naming the fields
    that break the shape)."""
    try:
        data = request.get_json(force=False, silent=False)
    except BadRequest as error:
        raise ApiProblem(400, "The body is not valid JSON.") from error
    if not isinstance(data, dict):
        raise ApiProblem(400, "Send a JSON object with Content-Type: application/json.")
    return read_json(shape, request.get_data())


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
    new = _body(NewRep)
    rep_id = add_rep(
        cadence().database,
        org_id=g.person.organization_id,
        manager_id=g.person.id,
        email=new.email,
        name=new.name,
        zone=new.zone,
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
    new = _body(NewSeries)
    slot = _slot(new)
    rep = api_queries.one(Person, g.person, new.rep_id)
    if rep.manager_id != g.person.id:
        raise ApiProblem(
            422, "Not your rep.", [FieldError("rep_id", "This rep is not on your team.")]
        )
    try:
        series_id = calendar_actions.book(g.person, rep.id, slot, new.first_day)
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


def _slot(new: NewSeries) -> WeeklySlot:
    """The weekly slot asked for; 422 unless it is in the manager's own zone."""
    zone = new.zone if new.zone is not None else g.person.zone
    if zone != g.person.zone:
        raise InvalidInput([FieldError("zone", "A series is booked in the manager's own zone.")])
    clock = time.fromisoformat(new.local_time)  # the shape's pattern admits real times only
    return WeeklySlot(new.weekday, clock, timedelta(minutes=new.duration_minutes), zone)


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
    body = _body(Debrief)
    draft = DebriefDraft(
        notes=dict(body.notes),
        action_items=tuple(
            ActionItemDraft(item.text, item.owner, item.due_date, item.id)
            for item in body.action_items
        ),
    )
    try:
        record_debrief(
            cadence().database,
            org_id=g.person.organization_id,
            session_id=row.id,
            manager_id=g.person.id,
            draft=draft,
            now=cadence().now(),
        )
    except DebriefRefused as refused:
        raise ApiProblem(409, str(refused)) from refused
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
    done = _body(ActionItemChange).done
    complete_action_item(
        cadence().database,
        org_id=g.person.organization_id,
        item_id=item.id,
        person_id=g.person.id,
        done=done,
        now=cadence().now(),
    )
    return jsonify(data=action_item_json(api_queries.one(ActionItem, g.person, item_id)))
