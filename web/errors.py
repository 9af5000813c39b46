"""Friendly error pages, JSON errors under /api, and 503 when the database is down."""

from __future__ import annotations

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from scheduler.usecases.scope import NotInOrganization

MESSAGES = {
    400: ("Something in that request was wrong", "Go back, check the form and try again."),
    403: ("Not yours to see", "Your role does not include this page."),
    404: ("Nothing here", "There is no such page, or it is not in your organisation."),
    405: ("Not allowed", "That action is not available here."),
    429: ("Too many attempts", "Please wait a few minutes and try again."),
    503: ("Cadence is briefly unavailable", "Our database is not answering. Try again shortly."),
    500: ("Something went wrong", "It has been logged. Try again, or go back home."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_answer(status: int, detail: str | None = None) -> Response:
    """The error as JSON under /api (``error.status/title/detail``), else as a page."""
    title, hint = MESSAGES.get(status, MESSAGES[500])
    body: Response | str
    if wants_json():
        body = jsonify(error={"status": status, "title": title, "detail": detail or hint})
    else:
        body = render_template("error.html", status=status, title=title, hint=detail or hint)
    return make_response(body, status)


def init_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        detail = error.description if status not in MESSAGES or wants_json() else None
        return error_answer(status, detail if status != 500 else None)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        return error_answer(400, "The form expired or came from elsewhere. Reload and resubmit.")

    @app.errorhandler(NotInOrganization)
    def not_in_organization(error: NotInOrganization) -> Response:
        # Another organisation's object and a missing one look the same: 404, never 403.
        return error_answer(404)

    @app.errorhandler(OperationalError)
    def database_down(error: OperationalError) -> Response:
        app.logger.warning("database unavailable: %s", error)
        answer = error_answer(ServiceUnavailable.code)
        answer.headers["Retry-After"] = "30"
        return answer

    @app.errorhandler(DBAPIError)
    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        app.logger.exception("unhandled error", exc_info=error)
        return error_answer(InternalServerError.code)
