"""Stopping one kind of email from the link at the bottom of it (no sign-in needed).

``GET /unsubscribe/<token>`` asks ("Stop conflict emails?") and its button posts, with the
form's CSRF token. ``POST /unsubscribe/<token>`` also answers RFC 8058's one-click request
(the ``List-Unsubscribe-Post`` header of every such mail): a mail client posts
``List-Unsubscribe=One-Click`` with no CSRF token, and the signed token is the credential.
Stopping twice is stopping once; the account page's Emails section turns a kind back on.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from scheduler.links import UNSUBSCRIBE, LinkInvalid, LinkRefused, SignedLink, read_link
from scheduler.mail.kinds import KIND_LABELS, MailKind, is_kind
from scheduler.models import Person
from scheduler.usecases.mail_preferences import opted_out, set_opt_out
from scheduler.usecases.scope import NotInOrganization, get_in_org
from web.confirm import Confirmation, confirm_page
from web.link_pages import refused_link
from web.security import csrf
from web.services import cadence

bp = Blueprint("unsubscribe", __name__)

ONE_CLICK = ("List-Unsubscribe", "One-Click")  # RFC 8058's form field and value


def _read(token: str) -> tuple[SignedLink, Person, MailKind]:
    services = cadence()
    link = read_link(services.settings.secret_key, token, purpose=UNSUBSCRIBE, now=services.now())
    kind, person_id = link.subject.get("kind", ""), link.subject.get("person", "")
    if not is_kind(kind):
        raise LinkInvalid("not a kind of email")
    try:
        with services.database.session() as db:
            person = get_in_org(db, Person, link.org_id, person_id)
    except NotInOrganization as error:
        raise LinkInvalid("no such person") from error
    return link, person, MailKind(kind)


@bp.get("/unsubscribe/<token>")
def ask(token: str) -> Any:
    try:
        link, person, kind = _read(token)
    except LinkRefused as error:
        return refused_link(error)
    label, why = KIND_LABELS[kind]
    with cadence().database.session() as db:
        stopped = opted_out(db, org_id=link.org_id, person_id=person.id, kind=kind)
    if stopped:
        return _done(person, kind, already=True)
    return confirm_page(
        Confirmation(
            title=f"Stop {label.lower()} emails?",
            details=(
                f"{person.email} gets these emails: {why}",
                "Other emails from Cadence keep coming. You can turn these back on from your "
                "account page.",
            ),
            action=url_for("unsubscribe.stop", token=token),
            button=f"Stop {label.lower()} emails",
            back=url_for("auth.home"),
            back_label="Keep getting them",
        )
    )


@bp.post("/unsubscribe/<token>")
def stop(token: str) -> Any:
    """Stop the kind the link names; a one-click request needs no CSRF token (exempt in the
    app: the signed token is the credential), any other post does."""
    if request.form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
        csrf.protect()
    try:
        link, person, kind = _read(token)
    except LinkRefused as error:
        return refused_link(error)
    services = cadence()
    with services.database.session() as db:
        set_opt_out(
            db, org_id=link.org_id, person_id=person.id, kind=kind, off=True, now=services.now()
        )
    return _done(person, kind, already=False)


def _done(person: Person, kind: MailKind, *, already: bool) -> tuple[str, int]:
    label = KIND_LABELS[kind][0]
    page = render_template("unsubscribed.html", person=person, label=label.lower(), already=already)
    return page, 200


__all__ = ["bp"]
