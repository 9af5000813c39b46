"""The skipped-meeting reports: pages under /reports, JSON under /api/v1/reports.

Admins see the organisation (and may narrow to one manager with ``?manager=``); a manager
who is not an admin always sees the 1:1s they run, whatever the query string says; reps
get 403. Every page takes ``from`` and ``to`` (ISO dates; the weeks containing them) and
defaults to the last 13 weeks.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from scheduler.models import Organization, Person
from scheduler.outcomes import OUTCOMES_NOT_HELD, SessionOutcome
from scheduler.reports import (
    BadCursor,
    ReportScope,
    SkippedFilter,
    organisation_overview,
    rep_report,
    skipped_sessions,
)
from scheduler.reports.cadences import StoppedPage, stopped_page
from scheduler.reports.charts import OUTCOME_MARKS, outcome_strip, score_bars, trend_line
from scheduler.reports.digest import weekly_digest
from scheduler.reports.export import overview_csv, rep_csv, skipped_csv, stopped_csv
from scheduler.reports.scope import DEFAULT_WEEKS
from scheduler.reports.skipped import MAX_PAGE_SIZE
from scheduler.usecases.scope import get_in_org
from web import api
from web.errors import error_answer
from web.identity import signed_in
from web.services import cadence

bp = Blueprint("reports", __name__, url_prefix="/reports")
api_bp = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports")
# Same callers and error shape as the rest of /api/v1 (session or admin's bearer token).
api_bp.before_request(api.authenticate)
api_bp.register_error_handler(api.ApiProblem, api.problem)
blueprints = (bp, api_bp)  # what create_app registers

MAX_WEEKS = 106  # two years and a little: what the reports are built (and measured) for
CHART_MANAGERS = 10  # the chart shows this many best and worst; the table shows everyone
# Far enough apart for any real history; near year 1 or 9999 the week arithmetic overflows.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
BROKEN_PAGE_LINK = "That page link is broken; start from the first page."
CURSOR_NOT_OURS = "The cursor is not one this API gave out."


class BadQuery(ValueError):
    """A query-string parameter the reports cannot use."""


@bp.errorhandler(BadQuery)
def bad_page_query(error: BadQuery) -> Response:
    return error_answer(400, str(error))


@api_bp.errorhandler(BadQuery)
def bad_api_query(error: BadQuery) -> Response:
    return api.problem(api.ApiProblem(400, str(error)))


def _viewer_scope() -> tuple[str, str | None]:
    """The organisation and the manager whose 1:1s the signed-in person may see."""
    person = g.person
    if person.is_admin:
        manager_id = request.args.get("manager") or None
        if manager_id is not None:
            with cadence().database.session() as db:
                get_in_org(db, Person, person.organization_id, manager_id)
        return person.organization_id, manager_id
    if person.is_manager:
        return person.organization_id, person.id
    if _is_api():
        raise api.ApiProblem(403, "Reports are for admins and managers.")
    abort(403)


def _is_api() -> bool:
    return request.blueprint == api_bp.name


def _date(name: str) -> date | None:
    value = request.args.get(name)
    # A page's form sends a blank field for "the default"; the API's callers leave it out.
    if value is None or (not value and not _is_api()):
        return None
    # fromisoformat alone would also take 20261019 or 2026-W43-1, which the API does not offer.
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise BadQuery(f"{name} must be a date like 2026-10-19.")
    try:
        day = date.fromisoformat(value)
    except ValueError as error:
        raise BadQuery(f"{name} must be a date like 2026-10-19.") from error
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadQuery(f"{name} must be between {FIRST_DAY} and {LAST_DAY}.")
    return day


def _scope() -> ReportScope:
    org_id, manager_id = _viewer_scope()
    today = cadence().now().date()
    last = _date("to") or today
    first = _date("from") or last - timedelta(weeks=DEFAULT_WEEKS - 1)
    if first > last:
        raise BadQuery("from must not be after to.")
    scope = ReportScope(org_id, first, last, manager_id)
    if len(scope.weeks) > MAX_WEEKS:
        raise BadQuery(f"Choose at most {MAX_WEEKS} weeks.")
    return scope


def _skipped_filter() -> SkippedFilter:
    names = request.args.getlist("outcome")
    allowed = {outcome.value for outcome in OUTCOMES_NOT_HELD}
    if not set(names) <= allowed:
        raise BadQuery(f"outcome must be among {', '.join(sorted(allowed))}.")
    return SkippedFilter(
        rep_id=request.args.get("rep") or None,
        team_of=request.args.get("team") or None,
        outcomes=frozenset(SessionOutcome(n) for n in names) or OUTCOMES_NOT_HELD,
    )


def _limit() -> int:
    value = request.args.get("limit", "50")
    if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise BadQuery(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.")
    return int(value)


def _csv(lines: Any, name: str, scope: ReportScope | None = None) -> Response:
    weeks = f"-{scope.first_week}-{scope.last_week}" if scope else ""
    return Response(
        lines,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}{weeks}.csv"'},
    )


def _range_args(scope: ReportScope) -> dict[str, str]:
    """The query string that keeps the viewer on the same weeks (and manager, for admins)."""
    args = {"from": scope.first_week.isoformat(), "to": scope.last_week.isoformat()}
    if g.person.is_admin and scope.manager_id:
        args["manager"] = scope.manager_id
    return args


def _stopped_page(manager_id: str | None) -> tuple[int, StoppedPage]:
    """The organisation's setting, and the page of stopped pairs the query string asks for."""
    limit = _limit()
    with cadence().database.session() as db:
        org = db.get(Organization, g.person.organization_id)
        assert org is not None
        page = stopped_page(
            db, org.id, now=cadence().now(), manager_id=manager_id,
            cursor=request.args.get("cursor") or None, limit=limit,
        )  # fmt: skip
        return org.stopped_after_weeks, page


def _zones(db: Any, org_id: str, rows: Any) -> dict[str, str]:
    """Each manager's and rep's zone in report rows: their clock is shown beside the viewer's."""
    ids = {row.manager_id for row in rows} | {row.rep_id for row in rows}
    found = db.execute(
        select(Person.id, Person.zone).where(Person.organization_id == org_id, Person.id.in_(ids))
    )
    return {person_id: zone for person_id, zone in found}


def _url_args(args: MultiDict[str, str]) -> dict[str, Any]:
    """Query arguments as ``url_for`` keywords, a repeated argument as a list."""
    return args.to_dict(flat=False)


def _page_links(endpoint: str, next_cursor: str | None) -> dict[str, str | None]:
    """The next page's URL (if any) and, past the first page, the first page's."""
    first_args = request.args.copy()
    first_args.pop("cursor", None)
    next_args = request.args.copy()
    if next_cursor:
        next_args["cursor"] = next_cursor
    return {
        "next_url": url_for(endpoint, **_url_args(next_args)) if next_cursor else None,
        "first_url": url_for(endpoint, **_url_args(first_args))
        if request.args.get("cursor")
        else None,
    }


# Pages ------------------------------------------------------------------------------------


@bp.get("/")
@signed_in()
def overview() -> str:
    scope = _scope()
    with cadence().database.session() as db:
        report = organisation_overview(db, scope, today=cadence().now().date())
        managers = db.execute(
            select(Person.id, Person.name, Person.email)
            .where(Person.organization_id == scope.org_id, Person.is_manager.is_(True))
            .order_by(Person.name)
        ).all()
    scored = [row for row in report.managers if row.score is not None]
    shown = (
        scored
        if len(scored) <= 2 * CHART_MANAGERS
        else scored[:CHART_MANAGERS] + scored[-CHART_MANAGERS:]
    )
    return render_template(
        "reports/overview.html",
        report=report,
        managers=managers if g.person.is_admin else [],
        bars=score_bars(
            [(row.name or row.email, row.score) for row in shown],
            median=report.median_score,
            title="Consistency score by manager",
        ),
        chart_is_partial=len(shown) < len(scored),
        trend=trend_line(report.trend, title="Consistency score per week"),
        args=_range_args(scope),
    )


@bp.get("/skipped")
@signed_in()
def skipped() -> str:
    scope = _scope()
    narrowing = _skipped_filter()
    try:
        with cadence().database.session() as db:
            page = skipped_sessions(
                db, scope, narrowing, cursor=request.args.get("cursor") or None, limit=_limit()
            )
            zones = _zones(db, scope.org_id, page.rows)
    except BadCursor as error:
        raise BadQuery(BROKEN_PAGE_LINK) from error
    return render_template(
        "reports/skipped.html",
        page=page,
        zones=zones,
        scope=scope,
        chosen=request.args.getlist("outcome"),
        outcomes=sorted(o.value for o in OUTCOMES_NOT_HELD),
        csv_url=url_for("reports.skipped_download", **_url_args(request.args)),
        **_page_links("reports.skipped", page.next_cursor),
        args=_range_args(scope),
    )


@bp.get("/stopped")
@signed_in()
def stopped() -> str:
    _, manager_id = _viewer_scope()
    try:
        weeks, page = _stopped_page(manager_id)
    except BadCursor as error:
        raise BadQuery(BROKEN_PAGE_LINK) from error
    return render_template(
        "reports/stopped.html",
        page=page,
        weeks=weeks,
        **_page_links("reports.stopped", page.next_cursor),
    )


@bp.get("/reps/<rep_id>")
@signed_in()
def rep(rep_id: str) -> str:
    scope = _scope()
    with cadence().database.session() as db:
        report = rep_report(db, scope, rep_id, today=cadence().now().date())
    return render_template(
        "reports/rep.html",
        report=report,
        strip=outcome_strip(report.strip, title=f"{report.rep_name}: week by week"),
        marks=OUTCOME_MARKS,
        args=_range_args(scope),
    )


@bp.get("/digest")
@signed_in()
def digest() -> str:
    _viewer_scope()  # reps have no digest
    week = _date("week")
    with cadence().database.session() as db:
        value = weekly_digest(
            db, g.person.organization_id, g.person.id, now=cadence().now(), week=week
        )
        assert value is not None  # _viewer_scope let only admins and managers through
        zones = _zones(db, value.org_id, value.skipped)
    return render_template(
        "reports/digest.html",
        digest=value,
        zones=zones,
        previous_week=value.week_start - timedelta(weeks=1),
    )


# CSV downloads (streamed) -----------------------------------------------------------------


@bp.get("/overview.csv")
@signed_in()
def overview_download() -> Response:
    scope = _scope()
    lines = overview_csv(cadence().database, scope, today=cadence().now().date())
    return _csv(lines, "overview", scope)


@bp.get("/skipped.csv")
@signed_in()
def skipped_download() -> Response:
    scope = _scope()
    return _csv(skipped_csv(cadence().database, scope, _skipped_filter()), "skipped", scope)


@bp.get("/stopped.csv")
@signed_in()
def stopped_download() -> Response:
    org_id, manager_id = _viewer_scope()
    with cadence().database.session() as db:
        org = db.get(Organization, org_id)
        assert org is not None
        weeks = org.stopped_after_weeks
    lines = stopped_csv(
        cadence().database,
        org_id,
        now=cadence().now(),
        stopped_after_weeks=weeks,
        manager_id=manager_id,
    )
    return _csv(lines, "stopped")


@bp.get("/reps/<rep_id>.csv")
@signed_in()
def rep_download(rep_id: str) -> Response:
    scope = _scope()
    with cadence().database.session() as db:  # a 404 now, not half-way through a download
        get_in_org(db, Person, scope.org_id, rep_id)
    return _csv(rep_csv(cadence().database, scope, rep_id, today=cadence().now().date()),
                f"rep-{rep_id}", scope)  # fmt: skip


# JSON -------------------------------------------------------------------------------------


@api_bp.get("/overview")
def overview_json() -> Response:
    scope = _scope()
    with cadence().database.session() as db:
        return jsonify(organisation_overview(db, scope, today=cadence().now().date()).as_dict())


@api_bp.get("/skipped")
def skipped_json() -> Response:
    scope = _scope()
    try:
        with cadence().database.session() as db:
            page = skipped_sessions(
                db, scope, _skipped_filter(), cursor=request.args.get("cursor") or None,
                limit=_limit(),
            )  # fmt: skip
    except BadCursor as error:
        raise api.ApiProblem(400, CURSOR_NOT_OURS) from error
    return jsonify(page.as_dict())


@api_bp.get("/stopped")
def stopped_json() -> Response:
    _, manager_id = _viewer_scope()
    try:
        weeks, page = _stopped_page(manager_id)
    except BadCursor as error:
        raise api.ApiProblem(400, CURSOR_NOT_OURS) from error
    return jsonify(stopped_after_weeks=weeks, **page.as_dict())


@api_bp.get("/reps/<rep_id>")
def rep_json(rep_id: str) -> Response:
    scope = _scope()
    with cadence().database.session() as db:
        return jsonify(rep_report(db, scope, rep_id, today=cadence().now().date()).as_dict())


@api_bp.get("/digest")
def digest_json() -> Response:
    _viewer_scope()
    with cadence().database.session() as db:
        value = weekly_digest(
            db, g.person.organization_id, g.person.id, now=cadence().now(), week=_date("week")
        )
    assert value is not None  # _viewer_scope let only admins and managers through
    return jsonify(value.as_dict())
