"""Confirming an email address: the mailed link, and sending it again.

A password sign-up proves nothing about the address typed in, so the account signs in (and
so joins its organisation) only once the link mailed to that address was followed. Nor does
a Microsoft sign-in whose ID token lacks ``xms_edov``: what it accepted waits for the link
mailed to the address, which also names the Microsoft account (web/joining.py). Only a
password account's link can be sent again from here; a Microsoft one comes with signing in
with Microsoft again.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from scheduler.usecases.credentials import (
    confirm_email,
    confirm_microsoft_account,
    password_accounts,
)
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import NotInOrganization
from web import account_links
from web.account_mail import send_verification
from web.forms import by_field
from web.input_shapes import EmailForm, read_form
from web.rate_limits import rate_limited
from web.services import cadence

bp = Blueprint("verification", __name__)


@bp.get("/verify-email")
def check_inbox() -> Any:
    """Where sign-up lands: the link is on its way; send it again from here. ``by=microsoft``:
    a Microsoft sign-in's link, which signing in again sends anew."""
    return render_template(
        "auth/verify_email.html",
        email=request.args.get("email", ""),
        errors={},
        microsoft=request.args.get("by") == "microsoft",
    )


@bp.post("/verify-email/resend")
@rate_limited("verification_resend")  # per address typed in, and per client
def resend() -> Any:
    """Send a new link to every account at this address still waiting for confirmation.

    The answer is the same whether or not there is one: it must not tell who has an account.
    """
    email = request.form.get("email", "")
    try:
        read_form(EmailForm, request.form)
    except InvalidInput as error:
        errors = by_field(error.errors)
        return render_template("auth/verify_email.html", email="", errors=errors), 400
    if not email.strip():
        errors = {"email": "Give the address you signed up with."}
        return render_template("auth/verify_email.html", email="", errors=errors), 400
    with cadence().database.session() as db:
        waiting = [p for p in password_accounts(db, email) if p.email_verified_at is None]
    for person in waiting:
        send_verification(person)
    flash(f"If an account at {email} waits for confirmation, a new link is on its way.", "ok")
    return redirect(url_for("verification.check_inbox", email=email))


@bp.get("/verify-email/<token>")
def confirm(token: str) -> Any:
    services = cadence()
    try:
        who = account_links.read_verification_token(
            services.settings.secret_key, token, now=services.now()
        )
    except account_links.LinkExpired:
        flash("That link has expired: send yourself a new one.", "error")
        return redirect(url_for("verification.check_inbox"))
    except account_links.LinkInvalid:
        return _invalid()
    try:
        if who.microsoft_account:
            person = confirm_microsoft_account(
                services.database,
                org_id=who.org_id,
                person_id=who.person_id,
                email=who.detail,
                microsoft_account=who.microsoft_account,
                now=services.now(),
            )
        else:
            person = confirm_email(
                services.database,
                org_id=who.org_id,
                person_id=who.person_id,
                email=who.detail,
                now=services.now(),
            )
    except NotInOrganization:
        person = None
    if person is None:
        return _invalid()
    if who.microsoft_account:
        flash("Your email is confirmed: continue with Microsoft to sign in.", "ok")
    else:
        flash("Your email is confirmed: sign in.", "ok")
    return redirect(url_for("auth.signin", email=person.email))


def _invalid() -> tuple[str, int]:
    return render_template(
        "auth/verify_email.html",
        email="",
        errors={},
        invalid="That link is not valid: copy the whole link from the email, or send a new one.",
    ), 400
