"""The team page: reps and their standing 1:1, adding a rep, and the CSV import."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from scheduler.field_errors import FieldError
from scheduler.usecases.directory import (
    InvalidInput,
    RepAddition,
    RowsRefused,
    add_rep,
    add_reps,
    person_errors,
)
from web import queries
from web.csv_import import CsvUnreadable, check_rows, read_rows
from web.forms import FieldErrors, by_field
from web.identity import signed_in
from web.input_shapes import NewRep, TeamCsvRow, read_form
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
        new = read_form(NewRep, form)
        add_rep(
            services.database,
            org_id=g.person.organization_id,
            manager_id=g.person.id,
            email=new.email,
            name=new.name,
            zone=new.zone,
            now=services.now(),
        )
    except InvalidInput as error:
        return _team_page(by_field(error.errors), form)
    flash(f"{form['name'] or form['email']} is on your team.", "ok")
    return redirect(url_for("manager.team"))


@bp.post("/team/import")
@signed_in("manager")
def import_team() -> Any:
    """Every row of the file, or none: a row at fault is named and nothing is added."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _team_page({"file": "Choose a CSV file."})
    try:
        rows = read_rows(upload.read())
    except CsvUnreadable as error:
        return _team_page({"file": str(error)})
    additions: list[RepAddition] = []
    report = check_rows(rows, lambda row: _checked_row(row, additions))
    if all(line.ok for line in report):
        services = cadence()
        try:
            add_reps(
                services.database,
                org_id=g.person.organization_id,
                additions=additions,
                now=services.now(),
            )
        except RowsRefused as refused:
            report = [
                replace(line, problems=_messages(refused.problems.get(index, [])))
                for index, line in enumerate(report)
            ]
    imported = all(line.ok for line in report)
    if imported:
        flash(f"Imported {len(report)} rows.", "ok")
    else:
        flash("Nothing was imported: fix the rows marked below and upload the file again.", "warn")
    return _team_page(report=report, imported=imported)


def _checked_row(row: dict[str, str], additions: list[RepAddition]) -> list[str]:
    """One CSV row's problems; a row without any is appended to ``additions``."""
    me = g.person
    try:
        typed = read_form(TeamCsvRow, row)
    except InvalidInput as error:
        return list(_messages(error.errors))
    manager = queries.person_by_email(me.organization_id, typed.manager_email)
    if manager is None:
        return [f"No manager {typed.manager_email!r} in your organisation."]
    if manager.id != me.id and not me.is_admin:
        return ["You can only import reps onto your own team."]
    zone = typed.rep_zone or manager.zone
    problems = list(_messages(person_errors(typed.rep_email, zone)))  # add_reps' own rule
    if not problems:
        additions.append(RepAddition(manager.id, typed.rep_email, typed.rep_name, zone))
    return problems


def _messages(errors: list[FieldError]) -> tuple[str, ...]:
    """A row's errors as the report shows them, each naming its column."""
    columns = {"email": "rep_email", "name": "rep_name", "zone": "rep_zone"}
    return tuple(f"{columns.get(e.field, e.field)}: {e.message}" for e in errors)
