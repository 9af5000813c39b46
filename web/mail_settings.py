"""The account page's Emails section: each kind of email the person can get, on or off, and
the language dates are written in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, flash, g, redirect, request, url_for

from scheduler.mail.dates import DATE_LOCALES, DEFAULT_LOCALE
from scheduler.mail.kinds import KIND_LABELS, MailKind, kinds_for
from scheduler.models import Person
from scheduler.usecases.mail_preferences import opted_out_kinds, set_date_locale, set_opt_out
from web.auth import account as account_page
from web.forms import FieldErrors, flag
from web.identity import signed_in
from web.services import cadence

bp = Blueprint("mail_settings", __name__)


@dataclass(frozen=True)
class KindRow:
    kind: MailKind
    label: str
    description: str
    on: bool


@dataclass(frozen=True)
class EmailsForm:
    rows: list[KindRow]
    locale: str
    locales: dict[str, str] = field(default_factory=lambda: DATE_LOCALES)
    errors: FieldErrors = field(default_factory=dict)


def _kinds(person: Person) -> list[MailKind]:
    return kinds_for(is_admin=person.is_admin, is_manager=person.is_manager, is_rep=person.is_rep)


def emails_form() -> EmailsForm:
    """What the section shows: the posted values after a refusal, else the stored ones."""
    posted: EmailsForm | None = g.get("emails_posted")
    if posted is not None:
        return posted
    person: Person = g.person
    with cadence().database.session() as db:
        off = opted_out_kinds(db, org_id=person.organization_id, person_id=person.id)
    rows = [KindRow(kind, *KIND_LABELS[kind], on=kind not in off) for kind in _kinds(person)]
    return EmailsForm(rows, person.date_locale or DEFAULT_LOCALE)


@bp.post("/account/emails")
@signed_in()
def save() -> Any:
    """Turn each kind on (ticked) or off, and set the language of dates."""
    person: Person = g.person
    rows = [
        KindRow(kind, *KIND_LABELS[kind], on=flag(request.form, f"kind-{kind}"))
        for kind in _kinds(person)
    ]
    locale = request.form.get("date_locale", "")
    if locale not in DATE_LOCALES:
        errors = {"date_locale": "Pick one of the languages listed."}
        g.emails_posted = EmailsForm(rows, DEFAULT_LOCALE, errors=errors)
        page, _ = account_page()
        return page, 400
    services = cadence()
    org_id = person.organization_id
    with services.database.session() as db:
        for row in rows:
            set_opt_out(
                db, org_id=org_id, person_id=person.id, kind=row.kind, off=not row.on,
                now=services.now(),
            )  # fmt: skip
        set_date_locale(db, org_id=org_id, person_id=person.id, locale=locale)
    stopped = [row.label.lower() for row in rows if not row.on]
    flash(
        "Saved: you get every kind of email."
        if not stopped
        else f"Saved: no {', '.join(stopped)} emails.",
        "ok",
    )
    return redirect(url_for("auth.account") + "#emails")


def register(app: Flask) -> None:
    app.add_template_global(emails_form, "emails_form")


__all__ = ["bp", "emails_form", "register"]
