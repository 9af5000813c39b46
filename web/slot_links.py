"""The links of a conflict email: move just that week to a free time, or cancel it.

No sign-in: the signed link is the credential, and everything is looked up inside the
link's organisation. GET only shows what the link would do (mail scanners fetch links);
the confirming POST (CSRF) checks the time is still free for both, acts at the calendar,
spends the email's links and settles the conflict. A used, expired or forged link gets
``web.link_pages``'s page; a time no longer free gets the week's other free times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, request, url_for

from scheduler import text_limits
from scheduler.links import LinkRefused, read_link
from scheduler.mail.dates import day, when
from scheduler.models import OPEN_CONFLICT_STATES, Person
from scheduler.usecases import defending
from scheduler.usecases.defending import ConflictClosed, ConflictLink, NoLongerFree
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import get_in_org
from web.availability import stored_reader
from web.confirm import Confirmation, confirm_page
from web.forms import by_field
from web.input_shapes import CancelWeekForm, read_form
from web.link_pages import refused_link
from web.providers import CalendarUnavailable, calendar_errors, manager_calendar
from web.services import cadence

bp = Blueprint("slot_links", __name__)


def _open(token: str) -> ConflictLink:
    services = cadence()
    link = read_link(
        services.settings.secret_key, token, purpose=defending.CONFLICT_LINK, now=services.now()
    )
    return defending.open_conflict_link(services.database, link)


def _series_url(view: ConflictLink) -> str:
    return url_for("manager.series", series_id=view.series_id)


def _confirmation(view: ConflictLink, token: str) -> Confirmation:
    zone, locale = view.manager_zone, view.manager_locale
    week = f"Your 1:1 with {view.rep_name} in the week of {day(view.week_start, locale)}"
    if view.action == "cancel":
        return Confirmation(
            title="Cancel this week's 1:1?",
            details=(
                f"{week}, {when(view.occurrence.start, zone, locale)}, will not take place. "
                "The series goes on.",
                f"{view.rep_name} is told by the calendar. The reports count the week as "
                "cancelled by you.",
            ),
            action=url_for("slot_links.act", token=token),
            button="Yes, cancel this week",
            back=_series_url(view),
            back_label="No, keep it (sign in to see the series)",
            reason_label="Why (shown on the series page and in the reports)",
            reason_max=text_limits.CANCEL_REASON,
            danger=True,
        )
    assert view.to is not None
    return Confirmation(
        title="Move this week's 1:1?",
        details=(
            f"{week}.",
            f"From: {when(view.occurrence.start, zone, locale)}",
            f"To: {when(view.to, zone, locale)}",
            f"Just this week moves; {view.rep_name} is told by the calendar. Cadence checks "
            "that the time is still free for both of you first.",
        ),
        action=url_for("slot_links.act", token=token),
        button="Yes, move this week",
        back=_series_url(view),
        back_label="No, keep it (sign in to see the series)",
    )


def _closed(view: ConflictLink) -> tuple[str, int]:
    return render_template("slot_links/closed.html", view=view, series_url=_series_url(view)), 409


@bp.get("/slot/<token>")
def show(token: str) -> Any:
    """What the link would do, and a button to do it (a GET never acts)."""
    try:
        view = _open(token)
    except LinkRefused as error:
        return refused_link(error)
    if view.closed or view.state not in OPEN_CONFLICT_STATES:
        return _closed(view)
    return confirm_page(_confirmation(view, token))


@bp.post("/slot/<token>")
def act(token: str) -> Any:
    services = cadence()
    try:
        view = _open(token)
    except LinkRefused as error:
        return refused_link(error)
    with services.database.session() as db:
        manager = get_in_org(db, Person, view.link.org_id, view.manager_id)
    try:
        connection, calendar = manager_calendar(manager.organization_id, manager.id)
        with calendar_errors(connection):
            if view.action == "cancel":
                try:
                    reason = read_form(CancelWeekForm, request.form).reason
                except InvalidInput as error:
                    return confirm_page(
                        _confirmation(view, token),
                        errors=by_field(error.errors),
                        reason=request.form.get("reason", ""),
                    )
                done = defending.cancel_by_link(
                    services.database,
                    calendar,
                    view,
                    reason=reason,
                    link=services.agenda_link,
                    now=services.now(),
                )
            else:
                done = defending.move_by_link(
                    services.database,
                    calendar,
                    stored_reader(manager),
                    view,
                    link=services.agenda_link,
                    now=services.now(),
                    to=_chosen(),
                )
    except NoLongerFree as taken:
        return render_template(
            "slot_links/taken.html",
            view=view,
            token=token,
            alternatives=[
                (start.isoformat(), when(start, view.manager_zone, view.manager_locale))
                for start in taken.alternatives
            ],
            series_url=_series_url(view),
        ), 409
    except ConflictClosed:
        return _closed(view)
    except LinkRefused as error:  # used meanwhile (another tab, another click)
        return refused_link(error)
    except CalendarUnavailable as error:
        return render_template(
            "slot_links/unavailable.html", message=str(error), series_url=_series_url(view)
        ), 503
    return render_template(
        "slot_links/done.html", view=view, done=done, series_url=_series_url(view)
    )


def _chosen() -> datetime | None:
    """Another of the week's free times, picked on the "no longer free" page."""
    value = request.form.get("to", "")
    if not value:
        return None
    try:
        chosen = datetime.fromisoformat(value)
    except ValueError:
        return None
    return chosen if chosen.tzinfo is not None else None
