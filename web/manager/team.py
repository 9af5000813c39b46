"""The team page: reps and their standing 1:1, adding a rep, and the CSV import."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from scheduler.usecases.directory import InvalidInput, add_rep
from web import queries
from web.csv_import import CsvUnreadable, import_rows, read_rows
from web.forms import FieldErrors, by_field
from web.identity import signed_in
from web.manager import bp
from web.services import cadence


def _team_page(
    errors: FieldErrors | None = None, form: dict[str, str] | None = None, **extra: Any
) -> tuple[str, int]:
    return render_template(
        "manager/team.html",
        members=queries.team(g.person),
        errors=errors or {},
        form=form or {"zone": g.person.zone},
        **extra,
    ), (400 if errors else 200)


@bp.get("/team")
@signed_in("manager")
def team() -> Any:
    return _team_page()


@bp.post("/team/reps")
@signed_in("manager")
def add_team_rep() -> Any:
    form = {key: request.form.get(key, "") for key in ("email", "name", "zone")}
    services = cadence()
    try:
        add_rep(
            services.database,
            org_id=g.person.organization_id,
            manager_id=g.person.id,
            email=form["email"],
            name=form["name"],
            zone=form["zone"],
            now=services.now(),
        )
    except InvalidInput as error:
        return _team_page(by_field(error.errors), form)
    flash(f"{form['name'] or form['email']} is on your team.", "ok")
    return redirect(url_for("manager.team"))


@bp.post("/team/import")
@signed_in("manager")
def import_team() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _team_page({"file": "Choose a CSV file."})
    try:
        rows = read_rows(upload.read())
    except CsvUnreadable as error:
        return _team_page({"file": str(error)})
    report = import_rows(rows, _import_row)
    added = sum(1 for line in report if line.ok)
    flash(f"Imported {added} of {len(report)} rows.", "ok" if added == len(report) else "warn")
    return _team_page(report=report)


def _import_row(row: dict[str, str]) -> list[str]:
    """Add one CSV row's rep; the row's problems (empty when it was added)."""
    services, me = cadence(), g.person
    manager = queries.person_by_email(me.organization_id, row["manager_email"])
    if manager is None:
        return [f"No manager {row['manager_email']!r} in your organisation."]
    if manager.id != me.id and not me.is_admin:
        return ["You can only import reps onto your own team."]
    try:
        add_rep(
            services.database,
            org_id=me.organization_id,
            manager_id=manager.id,
            email=row["rep_email"],
            name=row["rep_name"],
            zone=row["rep_zone"] or manager.zone,
            now=services.now(),
        )
    except InvalidInput as error:
        return [f"{e.field}: {e.message}" for e in error.errors]
    return []
