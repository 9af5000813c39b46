"""The account emails: the link confirming an address (for a password sign-up, or for a
Microsoft sign-in that did not prove it), and the link resetting a password.

Each is composed like every other email (``scheduler.mail.compose``: the link a button in
HTML, the footer) and put in the outbox through the app's job pipeline. They are not kinds of
email a person can stop, so they carry no unsubscribe link. Their bodies hold a sign-in
secret, so they are marked ``secret`` (blanked once an SMTP server took them). A key per link:
asking again a second later sends a fresh message, while the same request retried sends it
once.
"""

from __future__ import annotations

from scheduler.jobs.tasks import send_mail
from scheduler.mail.compose import Action, Para, compose
from scheduler.models import Organization, Person
from web import account_links
from web.services import cadence
from web.webhooks import pipeline


def _organization_name(org_id: str) -> str:
    with cadence().database.session() as db:
        org = db.get(Organization, org_id)
        return org.name if org else ""


def send_verification(person: Person, *, microsoft_account: str = "") -> None:
    """Mail ``person`` the link that confirms their address (valid 48 hours). With
    ``microsoft_account``, a Microsoft sign-in that did not prove the address accepted their
    row: the link also lets that account in, and the email says so."""
    services = cadence()
    token = account_links.verification_token(
        services.settings.secret_key,
        org_id=person.organization_id,
        person_id=person.id,
        email=person.email,
        now=services.now(),
        microsoft_account=microsoft_account,
    )
    org = _organization_name(person.organization_id)
    url = f"{services.settings.base_url}/verify-email/{token}"
    ask = f"Confirm that {person.email} is your address to finish your Cadence account at {org}."
    later = "The link works for 48 hours. Did not sign up? Ignore this email: nothing happens."
    if microsoft_account:
        ask = (
            f"Someone signed in to Cadence with a Microsoft account that gives {person.email} as "
            f"its address, to join {org}; Microsoft did not confirm the address is theirs. If "
            f"it was you, confirm it: that Microsoft account then signs in to {org} as you."
        )
        later = (
            "The link works for 48 hours. Did not sign in with Microsoft? Ignore this email: "
            "nothing happens."
        )
    _send(
        person,
        "verify-email",
        token,
        subject="Confirm your email for Cadence",
        ask=ask,
        link=Action("Confirm your email", url),
        later=later,
    )


def send_password_reset(person: Person) -> None:
    """Mail ``person`` a link that sets a new password (valid an hour, once)."""
    services = cadence()
    token = account_links.reset_token(
        services.settings.secret_key,
        org_id=person.organization_id,
        person_id=person.id,
        password_hash=person.password_hash,
        now=services.now(),
    )
    org = _organization_name(person.organization_id)
    url = f"{services.settings.base_url}/password/reset/{token}"
    _send(
        person,
        "password-reset",
        token,
        subject="Reset your Cadence password",
        ask=f"Someone asked to reset the Cadence password of {person.email} at {org}.",
        link=Action("Choose a new password", url),
        later="The link works once, for an hour. Did not ask? Ignore this email: your password "
        "stays as it is.",
    )


def _send(
    person: Person, kind: str, token: str, *, subject: str, ask: str, link: Action, later: str
) -> None:
    send_mail(
        pipeline(),
        compose(
            org_id=person.organization_id,
            key=f"{kind}/{person.id}/{token[-16:]}",  # the signature's end: one per link
            kind=kind,
            person=person,
            subject=subject,
            blocks=[Para(ask), link, Para(later)],
            unsubscribe_url="",
            secret=True,
        ),
    )


__all__ = ["send_password_reset", "send_verification"]
