"""Choosing an organisation after a Google or Microsoft sign-in (scheduler/usecases/joining.py).

A member with nothing new to answer is signed in at once. Anyone else finds their consent
held (encrypted, server-side) and sees /join: "Join <organisation>? Added by <name, email>"
with accept and decline for each invitation, and continue for each organisation they are
already in. The calendar grant is stored only for the organisation accepted, and only then.

A Microsoft sign-in that did not prove the address (no ``xms_edov``) accepts or continues
only where its account is linked; elsewhere accepting mails a link to the address and shows
"Confirm your email", and the person joins when it is followed (then signs in again).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from scheduler.models import Person
from scheduler.usecases.connections import save_connection
from scheduler.usecases.credentials import prove_by_sign_in
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.held_consents import Consent, drop, held, hold
from scheduler.usecases.joining import (
    accept,
    choices_for,
    decline,
    enters,
    start_organization,
)
from web.account_mail import send_verification
from web.consent_zone import keep_consent_zone
from web.identity import home_for, sign_in
from web.rate_limits import rate_limits, too_many
from web.services import cadence

bp = Blueprint("joining", __name__, url_prefix="/join")

_HELD_KEY = "held_consent"


def enter(consent: Consent) -> Response:
    """Where a finished consent leads someone not signed in: straight in as a member, into a
    new organisation of their own when no organisation knows the address, else to /join."""
    services = cadence()
    with services.database.session() as db:
        choices = choices_for(db, consent.who)
        member_id = choices.direct()
        direct = db.get(Person, member_id) if member_id else None
    if direct is not None:
        return _signed_in(direct, consent)
    if not (choices.memberships or choices.offers or choices.declined):
        return _signed_in(_new_organization(consent), consent)
    session[_HELD_KEY] = hold(services.database, services.cipher, consent, now=services.now())
    return redirect(url_for("joining.choose"))


def _signed_in(person: Person, consent: Consent) -> Response:
    """Sign ``person`` in; a manager's calendar grant is stored in their organisation, and an
    address the provider vouched for is proven (a Microsoft account's linked to them)."""
    services = cadence()
    zone_said = keep_consent_zone(person, consent.zone)
    password_dropped = consent.address_proven and prove_by_sign_in(
        services.database,
        org_id=person.organization_id,
        person_id=person.id,
        provider=consent.provider,
        microsoft_account=consent.microsoft_account,
        now=services.now(),
    )
    if person.is_manager:
        save_connection(
            services.database,
            services.cipher,
            org_id=person.organization_id,
            person_id=person.id,
            provider=consent.provider,
            account_email=consent.email,
            grant=consent.grant,
            now=services.now(),
        )
    sign_in(person)
    if person.is_manager:
        label = consent.provider.value.title()
        flash(f"Your {label} calendar ({consent.email}) is connected.", "ok")
    flash(*zone_said)
    if password_dropped:
        label = consent.provider.value.title()
        flash(
            f"The password chosen for {consent.email} before the address was proven no longer "
            f"works: continue with {label} to sign in.",
            "ok",
        )
    return redirect(home_for(person))


def _new_organization(consent: Consent) -> Person:
    services = cadence()
    return start_organization(
        services.database,
        who=consent.who,
        name=consent.name,
        zone=consent.zone.zone,
        now=services.now(),
    )


def _held() -> tuple[str, Consent] | None:
    held_id = session.get(_HELD_KEY)
    if not held_id:
        return None
    services = cadence()
    consent = held(services.database, services.cipher, str(held_id), now=services.now())
    return None if consent is None else (str(held_id), consent)


def _start_again() -> Response:
    session.pop(_HELD_KEY, None)
    flash("Your sign-in took too long, or was not started here. Please sign in again.", "error")
    return redirect(url_for("auth.signin"))


@bp.get("")
def choose() -> Any:
    kept = _held()
    if kept is None:
        return _start_again()
    _, consent = kept
    with cadence().database.session() as db:
        choices = choices_for(db, consent.who)
    return render_template("auth/join.html", choices=choices, email=consent.email)


@bp.post("/<org_id>/accept")
def accept_offer(org_id: str) -> Any:
    kept = _held()
    if kept is None:
        return _start_again()
    held_id, consent = kept
    services = cadence()
    try:
        person = accept(
            services.database,
            who=consent.who,
            org_id=org_id,
            name=consent.name,
            zone=consent.zone.zone,
            now=services.now(),
        )
    except InvalidInput as error:
        flash(" ".join(e.message for e in error.errors), "error")
        return redirect(url_for("joining.choose"))
    if not enters(person, consent.who):
        return _prove_first(person, consent, held_id)
    drop(services.database, held_id)
    return _signed_in(person, consent)


def _prove_first(person: Person, consent: Consent, held_id: str) -> Response:
    """A Microsoft sign-in that did not prove the address accepted ``person``'s row: mail
    the address the link that lets its account in, and say so. The grant is not kept (the
    person signs in again once the link is followed); the mail counts against the limit on
    verification emails to the address."""
    services = cadence()
    refusal = rate_limits().attempt(
        "verification_resend", account=person.email, address=request.remote_addr or ""
    )
    if refusal is not None:
        return too_many("verification_resend", refusal)
    assert consent.microsoft_account is not None  # web/auth.py refuses a sign-in without one
    send_verification(person, microsoft_account=consent.microsoft_account)
    drop(services.database, held_id)
    session.pop(_HELD_KEY, None)
    return redirect(url_for("verification.check_inbox", email=person.email, by="microsoft"))


@bp.post("/<org_id>/decline")
def decline_offer(org_id: str) -> Any:
    kept = _held()
    if kept is None:
        return _start_again()
    _, consent = kept
    services = cadence()
    try:
        decline(
            services.database,
            who=consent.who,
            org_id=org_id,
            name=consent.name,
            now=services.now(),
        )
    except InvalidInput as error:
        flash(" ".join(e.message for e in error.errors), "error")
    else:
        flash("Declined: that organisation will not ask you again.", "ok")
    return redirect(url_for("joining.choose"))


@bp.post("/new")
def new_organization() -> Any:
    kept = _held()
    if kept is None:
        return _start_again()
    held_id, consent = kept
    with cadence().database.session() as db:
        if choices_for(db, consent.who).memberships:
            flash("You are in an organisation already: continue there.", "error")
            return redirect(url_for("joining.choose"))
    person = _new_organization(consent)
    drop(cadence().database, held_id)
    return _signed_in(person, consent)
