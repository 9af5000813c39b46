"""Signing in and up (password, Google, Microsoft), and the person's calendar connections."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from integrations.base import ProviderError
from integrations.caldav import (
    CalDAVCredentials,
    CalendarNotFound,
    NotCalDAV,
    ServerUnreachable,
    WrongPassword,
    checked_credentials,
)
from integrations.factory import caldav_outbound
from integrations.outbound import OutboundRefused
from scheduler.models import Provider
from scheduler.usecases.accounts import Invitation, sign_up
from scheduler.usecases.connections import disconnect, save_connection
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.held_consents import Consent
from scheduler.usecases.joining import sign_in_candidates
from scheduler.usecases.login_sessions import end_sessions
from web import queries
from web.account_mail import send_verification
from web.consent_zone import keep_consent_zone, read_consent_zone
from web.forms import FieldErrors, by_field, safe_next
from web.identity import (
    MIN_PASSWORD_CHARS,
    hash_password,
    home_for,
    password_matches,
    sign_in,
    sign_out,
    signed_in,
)
from web.input_shapes import CalDAVForm, SignUpForm, read_form
from web.joining import enter
from web.oauth import ConsentFlow, SignInFailed, consent_flow
from web.rate_limits import rate_limited
from web.services import cadence

bp = Blueprint("auth", __name__)

INVITATION_MAX_AGE = 60 * 60 * 24 * 14
_CONSENT_KEY = "consent"


def _invitation_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(cadence().settings.secret_key, salt="cadence.invitation")


def invitation_token(org_id: str, person_id: str) -> str:
    """A link token an admin hands to someone they added, valid for 14 days."""
    return _invitation_signer().dumps([org_id, person_id])


def _invitation(token: str) -> Invitation | None:
    if not token:
        return None
    try:
        org_id, person_id = _invitation_signer().loads(token, max_age=INVITATION_MAX_AGE)
    except (BadSignature, ValueError, TypeError):
        return None
    return Invitation(str(org_id), str(person_id))


@bp.get("/")
def home() -> Response:
    if g.person is None:
        return redirect(url_for("auth.signin"))
    return redirect(home_for(g.person))


@bp.route("/signin", methods=["GET", "POST"])
@rate_limited("signin")
def signin() -> Any:
    errors: FieldErrors = {}
    email = request.form.get("email", "")
    if request.method == "POST":
        password = request.form.get("password", "")
        with cadence().database.session() as db:
            candidates = sign_in_candidates(db, email) if email.strip() else []
        hashes = [p.password_hash for p in candidates] or [None]  # None still costs one verify
        matches = [password_matches(stored, password) for stored in hashes]
        person = next((p for p, ok in zip(candidates, matches, strict=False) if ok), None)
        if person is None:
            # One message for both cases: the page must not reveal who has an account.
            errors["password"] = "That email and password do not match an account."
        elif person.email_verified_at is None:
            # Only the password's owner learns this: the address is still unproven.
            return render_template(
                "auth/verify_email.html", email=person.email, errors={}, unconfirmed=True
            ), 403
        else:
            sign_in(person)
            return redirect(safe_next(request.args.get("next")) or home_for(person))
    else:
        email = request.args.get("email", "")
    return render_template(
        "auth/signin.html", errors=errors, email=email, providers=_providers()
    ), (400 if errors else 200)


@bp.route("/signup", methods=["GET", "POST"])
@rate_limited("signup")
def signup() -> Any:
    invite = request.values.get("invite", "")
    invitation = _invitation(invite)
    if invite and invitation is None:
        flash(
            "That invitation link is invalid or has expired: ask your admin for a new one.", "error"
        )
    form = {key: request.form.get(key, "") for key in ("email", "name", "zone", "organization")}
    errors: FieldErrors = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        try:
            read_form(SignUpForm, request.form)
        except InvalidInput as error:
            errors.update(by_field(error.errors))
        if len(password) < MIN_PASSWORD_CHARS:
            errors["password"] = f"Use at least {MIN_PASSWORD_CHARS} characters."
        if not form["name"].strip():
            errors["name"] = "Tell us your name."
        try:
            if not errors:
                person = sign_up(
                    cadence().database,
                    email=form["email"],
                    name=form["name"],
                    zone=form["zone"] or "UTC",
                    password_hash=hash_password(password),
                    organization_name=form["organization"],
                    invitation=invitation,
                    now=cadence().now(),
                )
                if person.email_verified_at is None:  # a typed-in address proves nothing
                    send_verification(person)
                    return redirect(url_for("verification.check_inbox", email=person.email))
                sign_in(person)
                flash("Welcome to Cadence.", "ok")
                return redirect(home_for(person))
        except InvalidInput as error:
            errors.update(by_field(error.errors))
    return render_template(
        "auth/signup.html",
        errors=errors,
        form=form,
        invite=invite if invitation else "",
        providers=_providers(),
    ), (400 if errors else 200)


@bp.post("/signout")
def signout() -> Response:
    sign_out()
    flash("You are signed out.", "ok")
    return redirect(url_for("auth.signin"))


@bp.post("/account/signout-everywhere")
@signed_in()
def signout_everywhere() -> Response:
    """End every session of the person: other browsers, and cookies copied from them."""
    services = cadence()
    with services.database.session() as db:
        end_sessions(db, org_id=g.person.organization_id, person_id=g.person.id, now=services.now())
    sign_out()
    flash("You are signed out everywhere.", "ok")
    return redirect(url_for("auth.signin"))


def _providers() -> list[tuple[str, str]]:
    """(provider, label) of the consent flows this deployment is configured for."""
    settings = cadence().settings
    return [
        (provider.value, label)
        for provider, label in ((Provider.GOOGLE, "Google"), (Provider.MICROSOFT, "Microsoft"))
        if consent_flow(settings, provider) is not None
    ]


def _callback_uri(provider: str) -> str:
    return f"{cadence().settings.base_url}{url_for('auth.consent_callback', provider=provider)}"


@bp.get("/auth/<provider>")
def consent_start(provider: str) -> Response:
    """Send the browser to the provider's consent screen (sign-in, connect or reconnect)."""
    flow = _flow_or_404(provider)
    hint = g.person.email if g.person else request.args.get("email") or None
    try:
        url, kept = flow.start(_callback_uri(provider), hint)
    except (ProviderError, ImportError) as error:
        flash(f"{provider.title()} is not reachable right now ({error}).", "error")
        return redirect(url_for("auth.account" if g.person else "auth.signin"))
    session[_CONSENT_KEY] = {"provider": provider, "kept": kept}
    return redirect(url)


@bp.get("/auth/<provider>/callback")
def consent_callback(provider: str) -> Response:
    """Finish the consent: connect the signed-in person's calendar, or sign someone in (a
    member at once; anyone else chooses an organisation first: web/joining.py)."""
    flow = _flow_or_404(provider)
    started = session.pop(_CONSENT_KEY, None)
    if not started or started.get("provider") != provider:
        flash("That sign-in was not started here, or took too long. Please try again.", "error")
        return redirect(url_for("auth.signin"))
    try:
        result = flow.finish(
            _callback_uri(provider), request.url, request.args.to_dict(), started["kept"]
        )
    except (SignInFailed, ProviderError) as error:
        flash(f"{provider.title()} sign-in did not complete: {error}", "error")
        return redirect(url_for("auth.account" if g.person else "auth.signin"))
    services = cadence()
    zone = read_consent_zone(Provider(provider), result.grant)
    if g.person is None:  # signing in: which organisation is the person's to choose
        if result.email_verified is False:
            # Joining goes by the address: one the provider does not vouch for opens nothing.
            flash(
                f"{provider.title()} has not verified {result.email}: confirm the address "
                f"with {provider.title()}, or sign in another way.",
                "error",
            )
            return redirect(url_for("auth.signin"))
        if result.email_verified is None and result.microsoft_account is None:
            # Neither the address nor the account: nothing would tell this sign-in again.
            flash(f"{provider.title()} did not say who signed in: sign in another way.", "error")
            return redirect(url_for("auth.signin"))
        return enter(
            Consent(
                Provider(provider),
                result.email,
                result.name,
                result.grant,
                zone,
                address_proven=result.email_verified is True,
                microsoft_account=result.microsoft_account,
            )
        )
    zone_said = keep_consent_zone(g.person, zone)
    save_connection(
        services.database,
        services.cipher,
        org_id=g.person.organization_id,
        person_id=g.person.id,
        provider=Provider(provider),
        account_email=result.email,
        grant=result.grant,
        now=services.now(),
    )
    flash(f"Your {provider.title()} calendar ({result.email}) is connected.", "ok")
    flash(*zone_said)
    return redirect(home_for(g.person))


def _flow(provider: str) -> ConsentFlow | None:
    try:
        kind = Provider(provider)
    except ValueError:
        return None
    return consent_flow(cadence().settings, kind)


def _flow_or_404(provider: str) -> ConsentFlow:
    flow = _flow(provider)
    if flow is None:
        abort(404)
    return flow


@bp.get("/account")
@signed_in()
def account() -> Any:
    return account_page()


def account_page(
    errors: FieldErrors | None = None,
    form: dict[str, str] | None = None,
    *,
    password_errors: FieldErrors | None = None,
) -> tuple[str, int]:
    """The account page; with ``errors`` (the CalDAV form) or ``password_errors`` (the
    password change) it is that form sent back (400)."""
    return render_template(
        "auth/account.html",
        connections=queries.person_connections(g.person),
        providers=_providers(),
        errors=errors or {},
        form=form or {},
        password_errors=password_errors or {},
    ), (400 if errors or password_errors else 200)


@bp.post("/account/caldav")
@signed_in()
def connect_caldav() -> Any:
    """Connect a CalDAV calendar (iCloud, Fastmail, Nextcloud...) with an app password."""
    form = {k: request.form.get(k, "").strip() for k in ("url", "username", "email", "calendar")}
    try:
        read_form(CalDAVForm, request.form)
    except InvalidInput as error:
        return account_page(by_field(error.errors), form)
    form["email"] = form["email"] or g.person.email
    credentials = CalDAVCredentials(
        url=form["url"],
        username=form["username"],
        password=request.form.get("password", ""),
        email=form["email"],
        calendar=form["calendar"],
    )
    errors, checked = _checked_caldav(credentials)
    if errors:
        return account_page(errors, form)
    services = cadence()
    save_connection(
        services.database,
        services.cipher,
        org_id=g.person.organization_id,
        person_id=g.person.id,
        provider=Provider.CALDAV,
        account_email=form["email"],
        grant=checked.to_blob(),
        now=services.now(),
    )
    flash(f"Your CalDAV calendar ({form['email']}) is connected.", "ok")
    return redirect(url_for("auth.account"))


def _checked_caldav(credentials: CalDAVCredentials) -> tuple[FieldErrors, CalDAVCredentials]:
    """What is wrong with the typed CalDAV settings, by field (empty: they reach a calendar),
    and the credentials to save (with where their calendar is, once checked)."""
    errors: FieldErrors = {}
    if not credentials.url.startswith(("https://", "http://")):
        errors["url"] = "Give the server's address, starting with https://."
    if not credentials.username:
        errors["username"] = "Give the account's user name."
    if errors:
        return errors, credentials
    try:
        credentials = checked_credentials(credentials, caldav_outbound(cadence().settings))
    except OutboundRefused as error:
        errors["url"] = str(error)  # says why in plain words
    except WrongPassword:
        errors["password"] = "The server refused this user name and password."
    except CalendarNotFound as error:
        errors["calendar"] = str(error)
    except ServerUnreachable:
        errors["url"] = "Nothing answers at this address: check the server URL."
    except NotCalDAV:
        errors["url"] = "No CalDAV calendar answers at this address: check the server URL."
    except ProviderError:
        errors["url"] = "The server answered with an error: check the server URL, or try later."
    return errors, credentials


@bp.post("/account/connections/<connection_id>/disconnect")
@signed_in()
def disconnect_connection(connection_id: str) -> Response:
    mine = {row.id for row in queries.person_connections(g.person)}
    if connection_id not in mine:
        abort(404)
    disconnect(
        cadence().database,
        org_id=g.person.organization_id,
        connection_id=connection_id,
        actor_id=g.person.id,
        now=cadence().now(),
    )
    flash("Calendar disconnected. Booked 1:1s stay in the calendar.", "ok")
    return redirect(url_for("auth.account"))
