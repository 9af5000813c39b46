"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

_ID = {"type": "string", "format": "uuid"}
_DAY = {"type": "string", "format": "date"}
_INSTANT = {"type": "string", "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _data(schema: dict[str, Any]) -> dict[str, Any]:
    return _object(["data"], data=schema)


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _answer(description, _ref("Error"))


def _operation(
    summary: str,
    ok: dict[str, Any],
    *,
    status: str = "200",
    body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    errors: tuple[str, ...] = ("401",),
) -> dict[str, Any]:
    messages = {
        "400": "Malformed JSON",
        "401": "Not authenticated",
        "403": "Not allowed for this role",
        "404": "Not found in your organisation",
        "409": "Conflicts with what exists (already booked, calendar unavailable)",
        "422": "Invalid input; fields names each field at fault",
    }
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {status: ok, **{code: _error(messages[code]) for code in errors}},
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    if parameters:
        operation["parameters"] = parameters
    return operation


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


SCHEMAS: dict[str, Any] = {
    "Person": _object(
        ["id", "email", "name", "zone", "roles", "manager_id", "active"],
        id=_ID,
        email={"type": "string"},
        name={"type": "string"},
        zone={"type": "string", "description": "IANA time zone"},
        roles={"type": "array", "items": {"enum": ["admin", "manager", "rep"]}},
        manager_id=_nullable(_ID),
        active={"type": "boolean"},
    ),
    "Series": _object(
        [
            "id",
            "manager_id",
            "rep_id",
            "weekday",
            "local_time",
            "zone",
            "duration_minutes",
            "first_day",
            "until",
            "status",
        ],
        id=_ID,
        manager_id=_ID,
        rep_id=_ID,
        weekday={"type": "integer", "minimum": 0, "maximum": 6, "description": "0 = Monday"},
        local_time={"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        zone={"type": "string"},
        duration_minutes={"type": "integer"},
        first_day=_DAY,
        until=_nullable(_DAY),
        status={"enum": ["booking", "active", "ended", "stopped"]},
    ),
    "Session": _object(
        [
            "id",
            "series_id",
            "manager_id",
            "rep_id",
            "week_start",
            "scheduled_start",
            "scheduled_end",
            "current_start",
            "cancelled",
            "outcome",
        ],
        id=_ID,
        series_id=_ID,
        manager_id=_ID,
        rep_id=_ID,
        week_start=_DAY,
        scheduled_start=_INSTANT,
        scheduled_end=_INSTANT,
        current_start=_nullable(_INSTANT),
        cancelled={"type": "boolean"},
        outcome={"type": "string"},
    ),
    "ActionItem": _object(
        [
            "id",
            "session_id",
            "series_id",
            "text",
            "owner",
            "owner_id",
            "due_date",
            "done",
            "done_at",
        ],
        id=_ID,
        session_id=_ID,
        series_id=_ID,
        text={"type": "string"},
        owner={"enum": ["manager", "rep"]},
        owner_id=_ID,
        due_date=_DAY,
        done={"type": "boolean"},
        done_at=_nullable(_INSTANT),
    ),
    "Error": _object(
        ["error"],
        error=_object(
            ["status", "title", "detail"],
            status={"type": "integer"},
            title={"type": "string"},
            detail={"type": "string"},
            fields={
                "type": "array",
                "items": _object(
                    ["field", "message"], field={"type": "string"}, message={"type": "string"}
                ),
            },
        ),
    ),
    "NewRep": _object(
        ["email", "zone"],
        email={"type": "string"},
        name={"type": "string"},
        zone={"type": "string"},
    ),
    "NewSeries": _object(
        ["rep_id", "weekday", "local_time", "first_day"],
        rep_id={"type": "string"},
        weekday={"type": "integer"},
        local_time={"type": "string"},
        duration_minutes={"type": "integer"},
        zone={"type": "string", "description": "must be the manager's zone"},
        first_day={"type": "string"},
    ),
    "Debrief": _object(
        ["action_items"],
        notes={"type": "object", "additionalProperties": {"type": "string"}},
        action_items={
            "type": "array",
            "items": _object(
                ["text", "owner", "due_date"],
                text={"type": "string"},
                owner={"enum": ["manager", "rep"]},
                due_date={"type": "string"},
            ),
        },
    ),
}


def openapi_document(base_url: str) -> dict[str, Any]:
    """The API's description; ``servers`` names this deployment."""
    many = {name: _data({"type": "array", "items": _ref(name)}) for name in SCHEMAS}
    single = {name: _data(_ref(name)) for name in SCHEMAS}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cadence API",
            "version": "1.0.0",
            "description": "Weekly 1:1 series, their sessions, action items and people. "
            "Admins see their organisation, managers their series, reps their own.",
        },
        "servers": [{"url": f"{base_url}/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An admin's API token",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "cadence"},
            },
        },
        "paths": {
            "/people": {
                "get": _operation("People you may see", _answer("People", many["Person"])),
                "post": _operation(
                    "Put a rep on your team",
                    _answer("The rep", single["Person"]),
                    status="201",
                    body=_ref("NewRep"),
                    errors=("400", "401", "403", "422"),
                ),
            },
            "/people/{person_id}": {
                "get": _operation(
                    "One person",
                    _answer("The person", single["Person"]),
                    parameters=[_path_id("person_id")],
                    errors=("401", "404"),
                )
            },
            "/series": {
                "get": _operation("Weekly 1:1 series", _answer("Series", many["Series"])),
                "post": _operation(
                    "Book a weekly 1:1 with one of your reps (idempotent)",
                    _answer("The series", single["Series"]),
                    status="201",
                    body=_ref("NewSeries"),
                    errors=("400", "401", "403", "404", "409", "422"),
                ),
            },
            "/series/{series_id}": {
                "get": _operation(
                    "One series",
                    _answer("The series", single["Series"]),
                    parameters=[_path_id("series_id")],
                    errors=("401", "404"),
                )
            },
            "/sessions": {
                "get": _operation(
                    "Sessions (one per scheduled week)",
                    _answer("Sessions", many["Session"]),
                    parameters=[{"name": "series_id", "in": "query", "schema": {"type": "string"}}],
                )
            },
            "/sessions/{session_id}": {
                "get": _operation(
                    "One session",
                    _answer("The session", single["Session"]),
                    parameters=[_path_id("session_id")],
                    errors=("401", "404"),
                )
            },
            "/sessions/{session_id}/debrief": {
                "put": _operation(
                    "Record the debrief: notes per topic and at least three action items",
                    _answer("The session's action items", many["ActionItem"]),
                    body=_ref("Debrief"),
                    parameters=[_path_id("session_id")],
                    errors=("400", "401", "403", "404", "422"),
                )
            },
            "/action-items": {
                "get": _operation(
                    "Action items",
                    _answer("Action items", many["ActionItem"]),
                    parameters=[
                        {
                            "name": "state",
                            "in": "query",
                            "schema": {"enum": ["all", "open", "done"], "default": "all"},
                        }
                    ],
                    errors=("401", "422"),
                )
            },
            "/action-items/{item_id}": {
                "patch": _operation(
                    "Mark an action item done or open again",
                    _answer("The item", single["ActionItem"]),
                    body=_object(["done"], done={"type": "boolean"}),
                    parameters=[_path_id("item_id")],
                    errors=("400", "401", "404", "422"),
                )
            },
        },
    }
