"""A series' coming weeks (conflicts, move or cancel one week) and one session's debrief."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from scheduler import text_limits
from scheduler.agenda import SessionAgenda
from scheduler.conflicts import OccurrenceConflict
from scheduler.debrief import ActionItemDraft, DebriefDraft, Owner
from scheduler.models import Person, Session
from scheduler.usecases.agendas import session_agenda
from scheduler.usecases.debriefing import DebriefRefused, record_debrief
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import get_in_org
from scheduler.usecases.slot_conflicts import moved_to_avoid_conflicts
from scheduler.usecases.weeks import upcoming_conflicts
from web import calendar_actions, queries
from web.availability import notes, stored_reader, unreadable_weeks
from web.confirm import Confirmation, confirm_page
from web.forms import FieldErrors, by_field, parse_day
from web.identity import signed_in
from web.input_shapes import CancelWeekForm, read_form
from web.manager import bp
from web.providers import CalendarUnavailable, calendar_tells_the_rep, manager_calendar_row
from web.services import cadence
from web.timefmt import local_time

EXTRA_ACTION_ROWS = 1


@bp.get("/series/<series_id>")
@signed_in("manager")
def series(series_id: str) -> Any:
    now = cadence().now()
    row, rep, sessions = queries.series_page(g.person, series_id, now)
    read = stored_reader(g.person)
    conflicts: dict[datetime, OccurrenceConflict] = {}
    problem = None
    try:
        manager_calendar_row(row.organization_id, row.manager_id)
        found = upcoming_conflicts(
            cadence().database,
            read,
            org_id=row.organization_id,
            series_id=row.id,
            today=now.astimezone(ZoneInfo(row.zone)).date(),
            weeks=queries.organization(row.organization_id).horizon_weeks,
        )
        conflicts = {week.conflict.occurrence.start: week.conflict for week in found}
    except CalendarUnavailable as error:
        problem = f"Conflicts could not be checked: {error}"
    with cadence().database.session() as db:
        defended = moved_to_avoid_conflicts(
            db, org_id=row.organization_id, session_ids=[week.id for week in sessions]
        )
    return render_template(
        "manager/series.html",
        defended=defended,
        series=row,
        rep=rep,
        sessions=sessions,
        statuses=queries.week_statuses(row, sessions, now),
        conflicts=conflicts,
        unreadable=unreadable_weeks(read, [g.person, rep], sessions),
        problem=problem,
        availability=notes(read, [g.person, rep]) if read.known else [],
        availability_problems=read.problems,
        refresh_next=request.path,
        refresh_reps=[rep.id],
    )


@bp.post("/sessions/<session_id>/move")
@signed_in("manager")
def move(session_id: str) -> Response:
    """Move one week to a same-week alternative (the form carries the chosen start)."""
    row = _managed_session(session_id)
    try:
        new_start = datetime.fromisoformat(request.form.get("start", ""))
    except ValueError:
        abort(400)
    if new_start.tzinfo is None:
        abort(400)
    try:
        calendar_actions.move(g.person, row.id, new_start)
        flash(f"Moved this week's 1:1; {_how_the_rep_hears()}", "ok")
    except InvalidInput as error:
        flash(" ".join(e.message for e in error.errors), "error")
    except CalendarUnavailable as error:
        flash(str(error), "error")
    return redirect(url_for("manager.series", series_id=row.series_id))


def _how_the_rep_hears() -> str:
    """How a change to one week reaches the rep, as the manager's calendar really does it."""
    if calendar_tells_the_rep(g.person):
        return "the calendar updates the rep's invitation."
    return (
        "the change is in your calendar only: your CalDAV server tells the rep only if it "
        "sends invitations, so tell them yourself otherwise."
    )


def _cancel_confirmation(row: Session) -> Confirmation:
    with cadence().database.session() as db:
        rep = get_in_org(db, Person, row.organization_id, row.rep_id)
    start = row.current_start or row.scheduled_start
    return Confirmation(
        title="Cancel this week's 1:1?",
        details=(
            f"The 1:1 with {rep.name or rep.email} on {local_time(start, g.person.zone)}"
            f" ({local_time(start, rep.zone)} for them) will not take place. The series goes on.",
            f"{_how_the_rep_hears().capitalize()} The reports count the week as cancelled by you.",
        ),
        action=url_for("manager.cancel", session_id=row.id),
        button="Yes, cancel this week",
        back=url_for("manager.series", series_id=row.series_id),
        back_label="No, keep it",
        reason_label="Why (shown on the series page and in the reports)",
        reason_max=text_limits.CANCEL_REASON,
        danger=True,
    )


@bp.get("/sessions/<session_id>/cancel")
@signed_in("manager")
def confirm_cancel(session_id: str) -> Any:
    """ "Cancel this week" asks first, and takes an optional reason."""
    return confirm_page(_cancel_confirmation(_managed_session(session_id)))


@bp.post("/sessions/<session_id>/cancel")
@signed_in("manager")
def cancel(session_id: str) -> Any:
    """Cancel just this week; the series goes on."""
    row = _managed_session(session_id)
    try:
        reason = read_form(CancelWeekForm, request.form).reason
    except InvalidInput as error:
        return confirm_page(
            _cancel_confirmation(row),
            errors=by_field(error.errors),
            reason=request.form.get("reason", ""),
        )
    try:
        calendar_actions.cancel(g.person, row.id, reason)
        flash(f"Cancelled this week's 1:1; {_how_the_rep_hears()}", "ok")
    except CalendarUnavailable as error:
        flash(str(error), "error")
    return redirect(url_for("manager.series", series_id=row.series_id))


def _managed_session(session_id: str) -> Session:
    """Just the row and its ownership check: moving or cancelling needs no debrief or items."""
    with cadence().database.session() as db:
        return queries.managed_session(db, g.person, session_id)


@bp.get("/sessions/<session_id>")
@signed_in("manager")
def session(session_id: str) -> Any:
    view = queries.session_view(g.person, session_id)
    return _session_page(view, _agenda(view), errors={}, rows=None, notes=None)


@bp.post("/sessions/<session_id>/debrief")
@signed_in("manager")
def debrief(session_id: str) -> Any:
    view = queries.session_view(g.person, session_id)
    agenda = _agenda(view)
    notes = {
        topic.title: request.form.get(f"note-{index}", "")
        for index, topic in enumerate(agenda.topics)
    }
    rows = _submitted_rows()
    # Rows left blank beyond the minimum are spare rows, not items (the owner always has a value);
    # a recorded item's row cleared is that item removed (the minimum is still checked).
    min_rows = _min_rows(view)
    kept = [
        i
        for i, row in enumerate(rows)
        if row["text"] or row["due_date"] or (i < min_rows and not row["id"])
    ]
    draft = DebriefDraft(
        notes=notes,
        action_items=tuple(
            ActionItemDraft(
                text=rows[index]["text"],
                owner=rows[index]["owner"],
                due_date=parse_day(rows[index]["due_date"]),
                item_id=rows[index]["id"] or None,
            )
            for index in kept
        ),
    )
    services = cadence()
    try:
        record_debrief(
            services.database,
            org_id=g.person.organization_id,
            session_id=view.session.id,
            manager_id=g.person.id,
            draft=draft,
            now=services.now(),
        )
    except DebriefRefused as refused:
        return _session_page(
            view, agenda, errors={}, rows=rows, notes=notes, status=409, refused=str(refused)
        )
    except InvalidInput as error:
        errors = _row_errors(by_field(error.errors), kept)
        return _session_page(view, agenda, errors=errors, rows=rows, notes=notes, status=400)
    flash("Debrief recorded. The action items appear on the next agenda.", "ok")
    return redirect(url_for("manager.session", session_id=session_id))


def _agenda(view: queries.SessionView) -> SessionAgenda:
    """The session's agenda as the invite shows it (its topics key the debrief notes)."""
    services = cadence()
    with services.database.session() as db:
        row = get_in_org(db, Session, view.session.organization_id, view.session.id)
        return session_agenda(db, row, services.agenda_link, today=services.now().date())


def _min_rows(view: queries.SessionView) -> int:
    return max(3, queries.organization(view.session.organization_id).min_action_items)


def _submitted_rows() -> list[dict[str, str]]:
    """The action-item rows as typed: ``items-<n>-text|owner|due_date``, and ``id`` for a
    recorded item the row edits (hidden)."""
    rows = []
    for index in range(50):
        if f"items-{index}-text" not in request.form:
            break
        rows.append(
            {
                key: request.form.get(f"items-{index}-{key}", "").strip()
                for key in ("text", "owner", "due_date", "id")
            }
        )
    return rows


def _row_errors(errors: FieldErrors, kept: list[int]) -> FieldErrors:
    """Errors keyed by the form's row numbers (blank extra rows were left out of the draft)."""
    shown: FieldErrors = {}
    for field, message in errors.items():
        if field.startswith("action_items[") and "]." in field:
            index, _, rest = field.removeprefix("action_items[").partition("].")
            field = f"items-{kept[int(index)]}-{rest}"
        shown[field] = message
    return shown


def _session_page(
    view: queries.SessionView,
    agenda: SessionAgenda,
    *,
    errors: FieldErrors,
    rows: list[dict[str, str]] | None,
    notes: dict[str, str] | None,
    status: int = 200,
    refused: str | None = None,
) -> tuple[str, int]:
    services = cadence()
    if rows is None:
        rows = [
            {
                "text": item.text,
                "owner": item.owner.value,
                "due_date": item.due_date.isoformat(),
                "id": item.id,
            }
            for item in view.items
        ]
    if notes is None:
        notes = dict(view.debrief.notes) if view.debrief else {}
    blank = {"text": "", "owner": Owner.REP.value, "due_date": "", "id": ""}
    shown = max(_min_rows(view), len(view.items)) + EXTRA_ACTION_ROWS  # one query, not per row
    while len(rows) < shown:
        rows.append(dict(blank, owner=Owner.MANAGER.value if not rows else Owner.REP.value))
    now = services.now()
    words = queries.week_statuses(view.series, [view.session], now)[view.session.id]
    return render_template(
        "manager/session.html",
        view=view,
        week_words=words or view.session.outcome.capitalize(),
        agenda=agenda,
        agenda_url=services.agenda_link(view.session.organization_id, view.session.id),
        rows=rows,
        notes=notes,
        errors=errors,
        today=services.now().astimezone(ZoneInfo(g.person.zone)).date(),
        refused=refused,
    ), status
