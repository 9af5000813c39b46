"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from web.input_shapes import request_schemas

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
    explain: dict[str, str] | None = None,
) -> dict[str, Any]:
    messages = {
        "400": "Malformed JSON, or a NUL character in a field (anywhere in the request)",
        "401": "Not authenticated",
        "403": "Not allowed for this role",
        "404": "Not found in your organisation",
        "409": "Conflicts with what exists (booked already, calendar unavailable, 1:1 not held)",
        "422": "Invalid input; fields names each field at fault",
        **(explain or {}),
    }
    operation: dict[str, Any] = {
        "summary": summary,
        # Any request may carry a NUL character, which is refused with a 400 (web/input_guard).
        "responses": {
            status: ok,
            **{code: _error(messages[code]) for code in sorted({"400", *errors})},
        },
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


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _closed(required: list[str], **properties: Any) -> dict[str, Any]:
    """An object with exactly these properties: the conformance test then catches drift."""
    return {**_object(required, **properties), "additionalProperties": False}


_COUNT = {"type": "integer", "minimum": 0}
_SCORE = {
    "anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "null"}],
    "description": "held / expected; null when nothing was expected",
}
_OUTCOMES = [
    "held", "undocumented", "moved", "rescheduled", "cancelled", "declined", "excused",
    "stopped", "upcoming",
]  # fmt: skip
_NOT_HELD = ["cancelled", "declined", "rescheduled", "stopped", "undocumented"]
_COUNT_FIELDS = [
    "expected", "held", "undocumented", "moved", "rescheduled", "cancelled",
    "cancelled_by_manager", "cancelled_by_rep", "cancelled_by_unknown", "declined", "excused",
    "stopped", "upcoming",
]  # fmt: skip
_ITEM_FIELDS = ["created", "completed", "completed_on_time", "overdue"]
_CONFLICT_FIELDS = [
    "detected", "moved_by_manager", "moved_automatically", "defended", "lost", "resolved",
]  # fmt: skip
_CHASE_FIELDS = ["emails", "nudged", "reminded", "debriefed_after_nudge"]
# A calendar date as YYYY-MM-DD only (the API refuses other ISO spellings and far-off years).
_REPORT_DAY = {**_DAY, "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
_RANGE = [
    _query("from", _REPORT_DAY, "First day of the range (its week's Monday is used)"),
    _query("to", _REPORT_DAY, "Last day of the range (default today; at most 106 weeks)"),
]
_MANAGER = _query(
    "manager", {"type": "string"}, "Admins: one manager's 1:1s (managers always get their own)"
)
# Keyset pages (scheduler.reports.cursor): pass the last page's next_cursor to go on.
_PAGING = [
    _query("cursor", {"type": "string"}, "next_cursor of the previous page"),
    _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
        "Rows per page",
    ),
]
_REPORT_ERRORS = ("400", "401", "403", "404")
_REPORT_EXPLAIN = {
    "400": "A bad date, range, outcome, limit or cursor, or a NUL character",
    "403": "Reps get no reports",
    "404": "That manager or rep is not in your organisation (or, for a manager, your team)",
}

REPORT_SCHEMAS: dict[str, Any] = {
    "ReportCounts": _closed(_COUNT_FIELDS, **dict.fromkeys(_COUNT_FIELDS, _COUNT)),
    "ReportItems": _closed(_ITEM_FIELDS, **dict.fromkeys(_ITEM_FIELDS, _COUNT)),
    "ReportConflicts": {
        **_closed(_CONFLICT_FIELDS, **dict.fromkeys(_CONFLICT_FIELDS, _COUNT)),
        "description": "Conflicts in booked weeks of the range and what came of them: "
        "defended = moved_by_manager + moved_automatically; lost = the week passed without "
        "being held while its conflict was open (or it was cancelled from the conflict "
        "email); resolved = the clash went away by itself",
    },
    "ReportChase": {
        **_closed(_CHASE_FIELDS, **dict.fromkeys(_CHASE_FIELDS, _COUNT)),
        "description": "Debrief emails about the range's 1:1s: emails (nudges and reminders), "
        "1:1s nudged, 1:1s reminded, 1:1s debriefed within the grace period after a nudge",
    },
    "ReportWeek": _closed(
        ["week_start", "expected", "held", "score"],
        week_start=_DAY,
        expected=_COUNT,
        held=_COUNT,
        score=_SCORE,
    ),
    "ReportManager": _closed(
        [
            "manager_id",
            "name",
            "email",
            *_COUNT_FIELDS,
            "score",
            "items",
            "conflicts",
            "debrief_chase",
        ],
        manager_id=_ID,
        name={"type": "string"},
        email={"type": "string"},
        **dict.fromkeys(_COUNT_FIELDS, _COUNT),
        score=_SCORE,
        items=_ref("ReportItems"),
        conflicts=_ref("ReportConflicts"),
        debrief_chase=_ref("ReportChase"),
    ),
    "Overview": _closed(
        [
            "organization_id",
            "manager_id",
            "first_week",
            "last_week",
            "today",
            "score",
            "median_score",
            "totals",
            "items",
            "trend",
            "conflicts",
            "debrief_chase",
            "managers",
        ],
        organization_id=_ID,
        manager_id=_nullable(_ID),
        first_week=_DAY,
        last_week=_DAY,
        today=_DAY,
        score=_SCORE,
        median_score=_SCORE,
        totals=_ref("ReportCounts"),
        items=_ref("ReportItems"),
        trend={"type": "array", "items": _ref("ReportWeek")},
        conflicts=_ref("ReportConflicts"),
        debrief_chase=_ref("ReportChase"),
        managers={
            "type": "array",
            "items": _ref("ReportManager"),
            "description": "Ranked by score, best first; no expected week last",
        },
    ),
    "SkippedSession": _closed(
        [
            "session_id",
            "series_id",
            "week_start",
            "scheduled_start",
            "outcome",
            "cancelled_by",
            "manager_id",
            "manager_name",
            "rep_id",
            "rep_name",
            "cancel_reason",
        ],
        session_id=_ID,
        series_id=_ID,
        week_start=_DAY,
        scheduled_start=_INSTANT,
        outcome={"enum": _NOT_HELD},
        cancelled_by=_nullable({"type": "string"}),
        manager_id=_ID,
        manager_name={"type": "string"},
        rep_id=_ID,
        rep_name={"type": "string"},
        cancel_reason={"type": "string"},
    ),
    "SkippedPage": _closed(
        ["rows", "next_cursor"],
        rows={"type": "array", "items": _ref("SkippedSession")},
        next_cursor=_nullable({"type": "string", "description": "null on the last page"}),
    ),
    "StoppedCadence": _closed(
        [
            "manager_id",
            "manager_name",
            "rep_id",
            "rep_name",
            "reason",
            "last_held_at",
            "days_since_last_held",
        ],
        manager_id=_ID,
        manager_name={"type": "string"},
        rep_id=_ID,
        rep_name={"type": "string"},
        reason={"enum": ["not_booked", "not_held"]},
        last_held_at=_nullable(_INSTANT),
        days_since_last_held=_nullable(_COUNT),
    ),
    "StoppedCadences": _closed(
        ["stopped_after_weeks", "rows", "next_cursor"],
        stopped_after_weeks={"type": "integer", "minimum": 1},
        rows={"type": "array", "items": _ref("StoppedCadence")},
        next_cursor=_nullable({"type": "string", "description": "null on the last page"}),
    ),
    "RepReport": _closed(
        ["rep_id", "rep_name", "manager_id", "score", "counts", "strip", "open_items"],
        rep_id=_ID,
        rep_name={"type": "string"},
        manager_id=_nullable(_ID),
        score=_SCORE,
        counts=_ref("ReportCounts"),
        strip={
            "type": "array",
            "items": _closed(
                ["week_start", "outcome", "session_id"],
                week_start=_DAY,
                outcome={"enum": [*_OUTCOMES, None]},
                session_id=_nullable(_ID),
            ),
        },
        open_items={
            "type": "array",
            "items": _closed(
                ["item_id", "session_id", "text", "owner", "due_date", "overdue"],
                item_id=_ID,
                session_id=_ID,
                text={"type": "string"},
                owner={"enum": ["manager", "rep"]},
                due_date=_DAY,
                overdue={"type": "boolean"},
            ),
        },
    ),
    "Digest": _closed(
        [
            "person_id",
            "week_start",
            "scope",
            "counts",
            "score",
            "skipped_total",
            "skipped",
            "stopped_total",
            "stopped",
            "conflicts",
            "debrief_chase",
        ],
        person_id=_ID,
        week_start=_DAY,
        scope={"enum": ["organization", "team"]},
        counts=_ref("ReportCounts"),
        score=_SCORE,
        skipped_total=_COUNT,
        skipped={
            "type": "array",
            "items": _ref("SkippedSession"),
            "maxItems": 100,
            "description": "The first 100 of skipped_total",
        },
        stopped_total=_COUNT,
        stopped={
            "type": "array",
            "items": _ref("StoppedCadence"),
            "maxItems": 100,
            "description": "The first 100 of stopped_total, least recently held first",
        },
        conflicts=_ref("ReportConflicts"),
        debrief_chase=_ref("ReportChase"),
    ),
}


def _report(summary: str, schema: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return _operation(
        summary,
        _answer(summary, _ref(schema)),
        parameters=parameters,
        errors=_REPORT_ERRORS,
        explain=_REPORT_EXPLAIN,
    )


REPORT_PATHS: dict[str, Any] = {
    "/reports/overview": {
        "get": _report(
            "Managers ranked by consistency, with totals, items and the weekly trend",
            "Overview",
            [*_RANGE, _MANAGER],
        )
    },
    "/reports/skipped": {
        "get": _report(
            "1:1s not held, newest first, one keyset page at a time",
            "SkippedPage",
            [
                *_RANGE,
                _MANAGER,
                _query("rep", {"type": "string"}, "Only this rep's 1:1s"),
                _query("team", {"type": "string"}, "Only the 1:1s of this manager's reps"),
                {
                    **_query(
                        "outcome",
                        {"type": "array", "items": {"enum": _NOT_HELD}},
                        "Only these outcomes (repeat the parameter); default all of them",
                    ),
                    "style": "form",
                    "explode": True,
                },
                *_PAGING,
            ],
        )
    },
    "/reports/stopped": {
        "get": _report(
            "Pairs with no live series, or none held for stopped_after_weeks, "
            "least recently held first",
            "StoppedCadences",
            [_MANAGER, *_PAGING],
        )
    },
    "/reports/reps/{rep_id}": {
        "get": _report(
            "One rep: week-by-week outcomes, counts and open action items",
            "RepReport",
            [_path_id("rep_id"), *_RANGE, _MANAGER],
        )
    },
    "/reports/digest": {
        "get": _report(
            "Your weekly digest: the week's skipped 1:1s and the stopped cadences",
            "Digest",
            [_query("week", _REPORT_DAY, "A day of the week to report (default: last week)")],
        )
    },
}


SCHEMAS: dict[str, Any] = {
    "Person": _closed(
        ["id", "email", "name", "zone", "roles", "manager_id", "active", "membership"],
        id=_ID,
        email={"type": "string"},
        name={"type": "string"},
        zone={"type": "string", "description": "IANA time zone"},
        roles={"type": "array", "items": {"enum": ["admin", "manager", "rep"]}},
        manager_id=_nullable(_ID),
        active={"type": "boolean"},
        membership={
            "enum": ["member", "invited", "declined"],
            "description": "member: accepted; invited: added, not yet answered (or answered "
            "by a password sign-up whose address is not confirmed yet); declined",
        },
    ),
    "Series": _closed(
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
    "Session": _closed(
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
            "cancel_reason",
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
        cancel_reason={
            "type": "string",
            "description": "Why the manager cancelled the week, when they said; else empty",
        },
        outcome={"enum": _OUTCOMES},
    ),
    "ActionItem": _closed(
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
            # Request bodies come from the models that validate them (web/input_shapes.py).
            "schemas": {**SCHEMAS, **REPORT_SCHEMAS, **request_schemas()},
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
                    errors=("400", "401", "403", "404", "409", "422"),
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
                    body=_ref("ActionItemChange"),
                    parameters=[_path_id("item_id")],
                    errors=("400", "401", "404", "422"),
                )
            },
            **REPORT_PATHS,
        },
    }
