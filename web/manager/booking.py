"""Proposing a weekly slot for a rep and booking it (a double submit never books twice)."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from scheduler.models import Person, Provider
from scheduler.recurrence import WeeklySlot
from scheduler.slots import NoCommonWorkingHours
from scheduler.usecases.booking import AlreadyBooked
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.proposals import propose_slots
from web import calendar_actions, queries
from web.availability import notes, stored_reader
from web.forms import FieldErrors, parse_day, parse_int
from web.hours_gap_view import gap_view
from web.identity import signed_in
from web.manager import bp
from web.providers import (
    CalendarUnavailable,
    calendar_tells_the_rep,
    manager_calendar_row,
    manager_connection,
)
from web.services import cadence

# The meeting lengths a manager may choose, in minutes (the organisation's settings allow these).
MEETING_MINUTES = (15, 120)
# How far ahead the first week may be chosen.
FURTHEST_FIRST_WEEK = timedelta(weeks=26)
# The best start of each weekday, then the next best.
PROPOSALS_SHOWN = 8


def tomorrow(zone: str) -> date:
    """Proposals start tomorrow on the manager's wall clock (today is usually half gone)."""
    return cadence().now().astimezone(ZoneInfo(zone)).date() + timedelta(days=1)


def _first_day(text: str | None, errors: FieldErrors) -> date:
    """The day the proposals (and a new weekly time) start from: tomorrow unless the manager
    chose a later one; a day in the past or too far ahead is refused beside the field."""
    earliest = tomorrow(g.person.zone)
    if not text:
        return earliest
    chosen = parse_day(text)
    if chosen is None:
        errors["first_day"] = "Enter a date like 2026-11-02."
    elif not earliest <= chosen <= earliest + FURTHEST_FIRST_WEEK:
        errors["first_day"] = (
            f"Choose a day from {earliest:%a %d %b %Y} to "
            f"{earliest + FURTHEST_FIRST_WEEK:%a %d %b %Y}."
        )
    else:
        return chosen
    return earliest


@bp.get("/reps/<rep_id>/slots")
@signed_in("manager")
def slots(rep_id: str) -> Any:
    member = queries.team_member(g.person, rep_id)
    rep, series = member.rep, member.series
    errors: FieldErrors = {}
    minutes = parse_int(
        request.args.get("minutes", str(queries.organization(rep.organization_id).meeting_minutes)),
        "minutes",
        *MEETING_MINUTES,
        errors,
    )
    first_day = _first_day(request.args.get("first_day"), errors)
    candidates, problem, gap = [], None, None
    # ?change=1 on a booked pair proposes a new standing time (the series page links here).
    changing = series is not None and request.args.get("change") == "1"
    read = stored_reader(g.person)
    if (series is None or changing) and not errors:
        try:
            manager_calendar_row(g.person.organization_id, g.person.id)
            (proposal,) = propose_slots(
                cadence().database,
                read,
                org_id=g.person.organization_id,
                manager_id=g.person.id,
                rep_ids=[rep.id],
                first_day=first_day,
                minutes=minutes,
                limit=PROPOSALS_SHOWN,
                weekdays_first=True,
            )
            candidates = proposal.candidates
        except CalendarUnavailable as error:
            problem = str(error)
        except NoCommonWorkingHours as error:
            # Not an error page: why no slot exists, and what would make one possible.
            gap = gap_view(error, g.person, rep)
    return render_template(
        "manager/slots.html",
        rep=rep,
        series=series,
        changing=changing,
        candidates=candidates,
        first_day=first_day,
        earliest=tomorrow(g.person.zone),
        latest=tomorrow(g.person.zone) + FURTHEST_FIRST_WEEK,
        minutes=minutes,
        minute_bounds=MEETING_MINUTES,
        errors=errors,
        problem=problem,
        gap=gap,
        availability=notes(read, [g.person, rep]) if read.known else [],
        availability_problems=read.problems,
        refresh_next=request.full_path.rstrip("?"),
        refresh_reps=[rep.id],
    ), (400 if errors else 200)


@bp.post("/reps/<rep_id>/book")
@signed_in("manager")
def book(rep_id: str) -> Response:
    rep = queries.my_rep(g.person, rep_id)
    slot, first_day = _submitted_slot()
    try:
        series_id = calendar_actions.book(g.person, rep.id, slot, first_day)
    except AlreadyBooked as booked:
        flash(f"{rep.name or rep.email} already has a weekly 1:1: here it is.", "warn")
        return redirect(url_for("manager.series", series_id=booked.series_id))
    except InvalidInput as error:
        _flash_errors(error)
        return redirect(url_for("manager.slots", rep_id=rep.id))
    except CalendarUnavailable as error:
        flash(str(error), "error")
        return redirect(url_for("manager.slots", rep_id=rep.id))
    flash(f"Booked: {_where_it_went(rep)}", "ok")
    # Booked from the team's proposals: back there for the next pair.
    back = url_for("manager.team_proposals")
    if request.form.get("next") == back:
        return redirect(back)
    return redirect(url_for("manager.series", series_id=series_id))


@bp.post("/series/<series_id>/retime")
@signed_in("manager")
def retime(series_id: str) -> Response:
    """A new standing time from a date: the old series ends there, its continuation starts."""
    with cadence().database.session() as db:
        series = queries.managed_series(db, g.person, series_id)
    slot, from_day = _submitted_slot()
    try:
        continuation = calendar_actions.retime(g.person, series.id, slot, from_day)
    except InvalidInput as error:
        _flash_errors(error)
        return redirect(url_for("manager.slots", rep_id=series.rep_id, change=1))
    except CalendarUnavailable as error:
        flash(str(error), "error")
        return redirect(url_for("manager.series", series_id=series.id))
    rep = queries.my_rep(g.person, series.rep_id)
    flash(f"The weekly 1:1 has a new time: {_where_it_went(rep)}", "ok")
    return redirect(url_for("manager.series", series_id=continuation))


@bp.post("/series/<series_id>/end")
@signed_in("manager")
def end(series_id: str) -> Response:
    """No more 1:1s of this series from the chosen day (the rep's calendar is told)."""
    with cadence().database.session() as db:
        series = queries.managed_series(db, g.person, series_id)
    from_day = parse_day(request.form.get("from_day", ""))
    if from_day is None or from_day <= cadence().now().astimezone(ZoneInfo(series.zone)).date():
        flash("Choose a day after today to end the series from.", "error")
        return redirect(url_for("manager.series", series_id=series.id))
    try:
        calendar_actions.end(g.person, series.id, from_day)
    except CalendarUnavailable as error:
        flash(str(error), "error")
        return redirect(url_for("manager.series", series_id=series.id))
    flash(f"The weekly 1:1 ends before {from_day.strftime('%a %d %b %Y')}.", "ok")
    return redirect(url_for("manager.team"))


def _where_it_went(rep: Person) -> str:
    """What booking really did, which depends on the manager's calendar."""
    name = rep.name or rep.email
    connection = manager_connection(g.person.organization_id, g.person.id)
    if not calendar_tells_the_rep(g.person):
        return (
            f"the 1:1 with {name} is in your calendar only, with {name} as an attendee. "
            f"{name} gets an invitation only if your CalDAV server sends them; otherwise tell "
            f"{name} yourself (each session page has the agenda link for them)."
        )
    provider = "Outlook" if connection and connection.provider == Provider.MICROSOFT else "Google"
    return f"the 1:1 with {name} is in your calendar and {provider} sent {name} the invitation."


def _flash_errors(error: InvalidInput) -> None:
    """A refused booking, each problem with the field it is about (``first_day``: the first
    day, which the proposals page offers)."""
    for problem in error.errors:
        flash(f"{problem.field.replace('_', ' ').capitalize()}: {problem.message}", "error")


def _submitted_slot() -> tuple[WeeklySlot, date]:
    """The slot the proposal form carried; a tampered form is a 400, not a guess."""
    form = request.form
    try:
        slot = WeeklySlot(
            weekday=int(form["weekday"]),
            local_time=time.fromisoformat(form["local_time"]),
            duration=timedelta(minutes=int(form["minutes"])),
            zone=form["zone"],
        )
    except (KeyError, ValueError, OSError):  # OSError: a zone name too long for a file
        abort(400)
    first_day = parse_day(form.get("first_day", ""))
    if first_day is None or slot.zone != g.person.zone:
        abort(400)
    return slot, first_day
