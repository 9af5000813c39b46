"""Each person's own time zone and working hours, on their account page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

from flask import Blueprint, Flask, flash, g, redirect, request, url_for

from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.person_time import own_time, set_own_time
from scheduler.working_time import describe_hours, hours_from_shape, hours_shape
from web.auth import account as account_page
from web.forms import FieldErrors, by_field, flag
from web.identity import signed_in
from web.input_shapes import AccountTimeForm, read_form
from web.services import cadence
from web.timefmt import WEEKDAYS

bp = Blueprint("own_time", __name__)


@dataclass(frozen=True)
class DayRow:
    """One weekday of the working-hours form (times as the form shows them, ``HH:MM``)."""

    day: int
    name: str
    works: bool
    start: str
    end: str


@dataclass(frozen=True)
class OwnTimeForm:
    """The account page's zone and working hours, as stored or as posted with its errors."""

    zone: str
    rows: list[DayRow]
    own_hours: bool = True
    errors: FieldErrors = field(default_factory=dict)


def own_time_form() -> OwnTimeForm:
    """What the form shows: the posted values after a refusal, else the stored ones."""
    posted: OwnTimeForm | None = g.get("own_time_posted")
    if posted is not None:
        return posted
    services = cadence()
    shown = own_time(services.database, org_id=g.person.organization_id, person_id=g.person.id)
    rows = []
    for day, name in enumerate(WEEKDAYS):
        spans = shown.hours.days.get(day, ())
        start, end = (spans[0][0], spans[-1][1]) if spans else (time(9), time(17))
        rows.append(DayRow(day, name, bool(spans), f"{start:%H:%M}", f"{end:%H:%M}"))
    return OwnTimeForm(shown.zone, rows, own_hours=shown.own_hours)


def _posted() -> tuple[OwnTimeForm, dict[int, tuple[time, time]]]:
    """The posted form, and the working days whose times parse (errors name the others)."""
    form = request.form
    rows, days, errors = [], {}, {}
    try:
        zone = read_form(AccountTimeForm, form).zone.strip()
    except InvalidInput as error:
        zone, errors = "", by_field(error.errors)
    for day, name in enumerate(WEEKDAYS):
        row = DayRow(
            day,
            name,
            flag(form, f"day-{day}-works"),
            form.get(f"day-{day}-start", "").strip(),
            form.get(f"day-{day}-end", "").strip(),
        )
        rows.append(row)
        if not row.works:
            continue
        try:
            days[day] = (time.fromisoformat(row.start), time.fromisoformat(row.end))
        except ValueError:
            errors[f"working_hours[{day}]"] = f"Give {name}'s hours as two times, like 09:00."
    return OwnTimeForm(zone, rows, errors=errors), days


@bp.post("/account/time")
@signed_in()
def save() -> Any:
    """Store the person's zone and working hours; a refusal shows the form with its errors."""
    posted, days = _posted()
    errors = dict(posted.errors)
    if not errors:
        services = cadence()
        try:
            set_own_time(
                services.database,
                org_id=g.person.organization_id,
                person_id=g.person.id,
                zone=posted.zone,
                days=days,
                now=services.now(),
            )
        except InvalidInput as error:
            errors = by_field(error.errors)
        else:
            hours = hours_from_shape(posted.zone, hours_shape({d: (s,) for d, s in days.items()}))
            flash(
                f"Saved: you are in {posted.zone}, working {describe_hours(hours)}. "
                "Booked 1:1s keep their own zone and times.",
                "ok",
            )
            return redirect(url_for("auth.account"))
    g.own_time_posted = OwnTimeForm(posted.zone, posted.rows, errors=errors)
    page, _ = account_page()  # the whole account page, this form showing its errors
    return page, 400


def register(app: Flask) -> None:
    app.add_template_global(own_time_form, "own_time_form")
