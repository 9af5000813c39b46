"""Passwords: a reset by a mailed link, and a change on the account page.

Either ends the person's other sessions: a reset all of them (whoever knew the old password is
signed out), a change all but the browser that made it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from scheduler.models import Person
from scheduler.usecases.credentials import password_accounts, set_password
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import NotInOrganization, get_in_org
from web import account_links
from web.account_mail import send_password_reset
from web.auth import account_page
from web.forms import FieldErrors, by_field
from web.identity import (
    MIN_PASSWORD_CHARS,
    hash_password,
    password_matches,
    session_token,
    signed_in,
)
from web.input_shapes import EmailForm, NewPasswordForm, read_form
from web.rate_limits import rate_limited
from web.services import cadence

bp = Blueprint("passwords", __name__)


@bp.route("/password/forgot", methods=["GET", "POST"])
@rate_limited("password_reset")  # each request mails someone: not a way to flood an inbox
def forgot() -> Any:
    """Mail a reset link to each password account at the address (the same answer if none)."""
    email = request.form.get("email", "")
    errors: FieldErrors = {}
    if request.method == "POST":
        try:
            read_form(EmailForm, request.form)
        except InvalidInput as error:
            errors.update(by_field(error.errors))
        if not errors and not email.strip():
            errors["email"] = "Give the address you sign in with."
        if not errors:
            with cadence().database.session() as db:
                accounts = password_accounts(db, email)
            for person in accounts:
                send_password_reset(person)
            flash(
                f"If {email} has a Cadence password, a link to choose a new one is on its way. "
                "It works for an hour.",
                "ok",
            )
            return redirect(url_for("auth.signin", email=email))
    return render_template("auth/forgot_password.html", email=email, errors=errors), (
        400 if errors else 200
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Any:
    services = cadence()
    person = _reset_person(token)
    if person is None:
        flash("That reset link has expired or was already used: ask for a new one.", "error")
        return redirect(url_for("passwords.forgot"))
    errors: FieldErrors = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        errors = _new_password_errors(password)
        if not errors:
            set_password(
                services.database,
                org_id=person.organization_id,
                person_id=person.id,
                password_hash=hash_password(password),
                now=services.now(),
                keep_session=None,
                by_email=True,
            )
            flash("Your password is changed and every session signed out: sign in.", "ok")
            return redirect(url_for("auth.signin", email=person.email))
    return render_template("auth/reset_password.html", person=person, errors=errors), (
        400 if errors else 200
    )


def _reset_person(token: str) -> Person | None:
    """The person a live, unused reset link is for; None for any other link."""
    services = cadence()
    secret = services.settings.secret_key
    try:
        who = account_links.read_reset_token(secret, token, now=services.now())
        with services.database.session() as db:
            person = get_in_org(db, Person, who.org_id, who.person_id)
        account_links.check_unused(secret, who, person.password_hash)
    except (account_links.LinkInvalid, NotInOrganization):
        return None
    return person if person.active else None


def _new_password_errors(password: str) -> FieldErrors:
    try:
        read_form(NewPasswordForm, request.form)
    except InvalidInput as error:
        return by_field(error.errors)
    if len(password) < MIN_PASSWORD_CHARS:
        return {"password": f"Use at least {MIN_PASSWORD_CHARS} characters."}
    return {}


@bp.post("/account/password")
@signed_in()
def change() -> Any:
    """Change the password: asks the current one; the other sessions are signed out."""
    services = cadence()
    password = request.form.get("password", "")
    errors = _new_password_errors(password)
    if not password_matches(g.person.password_hash, request.form.get("current_password", "")):
        errors["current_password"] = "That is not your current password."
    if errors:
        return account_page(password_errors=errors)
    set_password(
        services.database,
        org_id=g.person.organization_id,
        person_id=g.person.id,
        password_hash=hash_password(password),
        now=services.now(),
        keep_session=session_token(),
        by_email=False,
    )
    flash("Password changed. Your other sessions are signed out.", "ok")
    return redirect(url_for("auth.account"))
