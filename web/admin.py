"""The admin's pages: people and roles, organisation settings, calendar connection health."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from scheduler.agenda import AgendaTopic
from scheduler.defend import POLICY_LABELS
from scheduler.field_errors import FieldError
from scheduler.usecases.accounts import invite_person, set_roles
from scheduler.usecases.agendas import manager_template
from scheduler.usecases.api_tokens import is_live, issue_token, revoke_token
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.job_failures import recent_job_failures
from scheduler.usecases.joining import membership
from scheduler.usecases.organisation import (
    LIMITS,
    OrganizationSettings,
    save_template,
    update_settings,
)
from web import queries
from web.auth import invitation_token
from web.forms import (
    FieldErrors,
    by_field,
    flag,
    parse_day,
    parse_int,
    submitted_template,
    topic_field_names,
    topic_rows,
)
from web.identity import signed_in
from web.input_shapes import NewApiToken, NewRep, SettingsForm, read_form
from web.services import cadence

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _people_page(errors: FieldErrors | None = None, form: dict[str, str] | None = None) -> Any:
    org_id = g.person.organization_id
    people = queries.people(org_id)
    base = cadence().settings.base_url
    standing = {p.id: membership(p) for p in people}
    invitations = {
        p.id: f"{base}{url_for('auth.signup', invite=invitation_token(org_id, p.id))}"
        for p in people
        if standing[p.id] == "invited" and p.active
    }
    return render_template(
        "admin/people.html",
        people=people,
        by_id={p.id: p for p in people},
        standing=standing,
        invitations=invitations,
        errors=errors or {},
        form=form or {"zone": g.person.zone},
    ), (400 if errors else 200)


@bp.get("/people")
@signed_in("admin")
def people() -> Any:
    return _people_page()


@bp.post("/people")
@signed_in("admin")
def invite() -> Any:
    form = {key: request.form.get(key, "") for key in ("email", "name", "zone")}
    services = cadence()
    try:
        new = read_form(NewRep, form)
        invite_person(
            services.database,
            org_id=g.person.organization_id,
            actor_id=g.person.id,
            email=new.email,
            name=new.name,
            zone=new.zone,
            admin=flag(request.form, "admin"),
            manager=flag(request.form, "manager"),
            rep=flag(request.form, "rep"),
            now=services.now(),
        )
    except InvalidInput as error:
        return _people_page(by_field(error.errors), form)
    flash(f"Added {form['email']}: send them the invitation link below.", "ok")
    return redirect(url_for("admin.people"))


@bp.post("/people/<person_id>/roles")
@signed_in("admin")
def roles(person_id: str) -> Response:
    services = cadence()
    try:
        set_roles(
            services.database,
            org_id=g.person.organization_id,
            actor_id=g.person.id,
            person_id=person_id,
            admin=flag(request.form, "admin"),
            manager=flag(request.form, "manager"),
            rep=flag(request.form, "rep"),
            active=flag(request.form, "active"),
            now=services.now(),
        )
        flash("Roles saved.", "ok")
    except InvalidInput as error:
        flash(" ".join(e.message for e in error.errors), "error")
    return redirect(url_for("admin.people"))


@bp.route("/settings", methods=["GET", "POST"])
@signed_in("admin")
def settings() -> Any:
    org = queries.organization(g.person.organization_id)
    errors: FieldErrors = {}
    form = dict(request.form) if request.method == "POST" else _settings_form(org)
    if request.method == "POST":
        values = _settings_values(form, errors)
        if not errors:
            try:
                update_settings(
                    cadence().database,
                    org_id=org.id,
                    actor_id=g.person.id,
                    values=values,
                    now=cadence().now(),
                )
                flash("Settings saved.", "ok")
                return redirect(url_for("admin.settings"))
            except InvalidInput as error:
                errors = by_field(error.errors)
    return _settings_page(form, errors, _org_topics(), {})


@bp.post("/settings/agenda")
@signed_in("admin")
def agenda_template() -> Any:
    template = submitted_template()
    try:
        save_template(
            cadence().database,
            org_id=g.person.organization_id,
            actor_id=g.person.id,
            template=template,
            now=cadence().now(),
        )
    except InvalidInput as error:
        org = queries.organization(g.person.organization_id)
        return _settings_page(
            _settings_form(org), {}, topic_rows(template), topic_field_names(by_field(error.errors))
        )
    flash("Agenda template saved: new agenda periods use it.", "ok")
    return redirect(url_for("admin.settings"))


@bp.get("/connections")
@signed_in("admin")
def connections() -> str:
    org_id = g.person.organization_id
    with cadence().database.session() as db:
        failures = recent_job_failures(db, org_id, limit=20)
    return render_template(
        "admin/connections.html", rows=queries.connection_health(org_id), failures=failures
    )


def _settings_form(org: Any) -> dict[str, str]:
    span = (org.working_hours or {}).get("0") or [["09:00", "17:00"]]
    return {
        "horizon_weeks": str(org.horizon_weeks),
        "grace_hours": str(org.grace_hours),
        "min_action_items": str(org.min_action_items),
        "meeting_minutes": str(org.meeting_minutes),
        "join_domain": org.join_domain,
        "day_starts": span[0][0],
        "day_ends": span[0][1],
        "holidays": "\n".join(org.holidays),
        "conflict_policy_default": org.conflict_policy_default,
        **({"video_meetings": "on"} if org.video_meetings else {}),
    }


def _settings_values(form: dict[str, str], errors: FieldErrors) -> OrganizationSettings:
    """The typed values of the settings form; unreadable fields are recorded in ``errors``."""
    try:
        read_form(SettingsForm, form)
    except InvalidInput as error:
        errors.update(by_field(error.errors))
    numbers = {
        name: parse_int(form.get(name, ""), name, low, high, errors)
        for name, (low, high) in LIMITS.items()
    }
    clock = {}
    for name in ("day_starts", "day_ends"):
        try:
            clock[name] = time.fromisoformat(form.get(name, ""))
        except ValueError:
            errors[name] = "Enter a time like 09:00."
            clock[name] = time(9)
    holidays = []
    for line in form.get("holidays", "").split():
        day = parse_day(line)
        if day is None:
            errors["holidays"] = f"{line!r} is not a date like 2026-12-25."
        else:
            holidays.append(day)
    return OrganizationSettings(
        **numbers,
        video_meetings="video_meetings" in form,
        join_domain=form.get("join_domain", ""),
        day_starts=clock["day_starts"],
        day_ends=clock["day_ends"],
        holidays=tuple(holidays),
        conflict_policy_default=form.get("conflict_policy_default", "ask"),
    )


def _settings_page(
    form: dict[str, str], errors: FieldErrors, topics: list[AgendaTopic], topic_errors: FieldErrors
) -> tuple[str, int]:
    """The settings page with its two forms (settings and agenda); 400 when either has errors."""
    return render_template(
        "admin/settings.html",
        form=form,
        errors=errors,
        topics=topics,
        topic_errors=topic_errors,
        policies=POLICY_LABELS,
    ), (400 if errors or topic_errors else 200)


def _org_topics() -> list[AgendaTopic]:
    with cadence().database.session() as db:
        # No manager has the empty id: this is the organisation's own template.
        template = manager_template(db, g.person.organization_id, "")
    return topic_rows(template)


# What the issue form offers: value -> (label, lifetime); the empty value never expires.
TOKEN_LIFETIMES: dict[str, tuple[str, timedelta | None]] = {
    "": ("Never (until revoked)", None),
    "7": ("In 7 days", timedelta(days=7)),
    "30": ("In 30 days", timedelta(days=30)),
    "90": ("In 90 days", timedelta(days=90)),
    "365": ("In a year", timedelta(days=365)),
}


def _token_expiry(choice: str, now: datetime) -> datetime | None:
    """When a token issued ``now`` with the form's ``expires`` choice stops working."""
    if choice not in TOKEN_LIFETIMES:
        raise InvalidInput([FieldError("expires", "Choose one of the offered expiries.")])
    lifetime = TOKEN_LIFETIMES[choice][1]
    return None if lifetime is None else now + lifetime


@bp.route("/api-tokens", methods=["GET", "POST"])
@signed_in("admin")
def api_tokens() -> Any:
    """Issue a token (shown once, here) and list the organisation's tokens."""
    services, errors, issued = cadence(), {}, None
    now = services.now()
    if request.method == "POST":
        try:
            asked = read_form(NewApiToken, request.form)
            _, issued = issue_token(
                services.database,
                org_id=g.person.organization_id,
                admin_id=g.person.id,
                name=asked.name,
                expires_at=_token_expiry(asked.expires, now),
                now=now,
            )
        except InvalidInput as error:
            errors = by_field(error.errors)
    return render_template(
        "admin/api_tokens.html",
        tokens=[
            (token, owner, is_live(token, now))
            for token, owner in queries.api_tokens(g.person.organization_id)
        ],
        lifetimes=TOKEN_LIFETIMES,
        chosen=request.form.get("expires", ""),
        issued=issued,
        errors=errors,
    ), (400 if errors else 200)


@bp.post("/api-tokens/<token_id>/revoke")
@signed_in("admin")
def revoke_api_token(token_id: str) -> Response:
    revoke_token(
        cadence().database,
        org_id=g.person.organization_id,
        token_id=token_id,
        actor_id=g.person.id,
        now=cadence().now(),
    )
    flash("Token revoked: calls with it are refused from now on.", "ok")
    return redirect(url_for("admin.api_tokens"))
