"""The account emails: the link confirming an address, and the link resetting a password.

Each is a ``Mail`` (plain text and HTML) put in the outbox through the app's job pipeline.
Their bodies hold a sign-in secret, so they are marked ``secret`` (blanked once an SMTP server
took them). A key per link: asking again a second later sends a fresh message, while the
same request retried sends it once.
"""

from __future__ import annotations

from markupsafe import Markup

from scheduler.jobs.tasks import send_mail
from scheduler.mail.message import Mail
from scheduler.models import Organization, Person
from web import account_links
from web.services import cadence
from web.webhooks import pipeline


def _organization_name(org_id: str) -> str:
    with cadence().database.session() as db:
        org = db.get(Organization, org_id)
        return org.name if org else ""


def _paragraphs(*lines: str | Markup) -> str:
    return "".join(str(Markup("<p>{}</p>").format(line)) for line in lines)


def _link(url: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, url)


def send_verification(person: Person) -> None:
    """Mail ``person`` the link that confirms their address (valid 48 hours)."""
    services = cadence()
    token = account_links.verification_token(
        services.settings.secret_key,
        org_id=person.organization_id,
        person_id=person.id,
        email=person.email,
        now=services.now(),
    )
    org = _organization_name(person.organization_id)
    _send(
        person,
        "verify-email",
        token,
        subject="Confirm your email for Cadence",
        url=f"{services.settings.base_url}/verify-email/{token}",
        ask=f"Confirm that {person.email} is your address to finish your Cadence account at {org}:",
        later="The link works for 48 hours. Did not sign up? Ignore this email: nothing happens.",
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
    _send(
        person,
        "password-reset",
        token,
        subject="Reset your Cadence password",
        url=f"{services.settings.base_url}/password/reset/{token}",
        ask=f"Someone asked to reset the Cadence password of {person.email} at {org}. "
        "To choose a new one:",
        later="The link works once, for an hour. Did not ask? Ignore this email: your password "
        "stays as it is.",
    )


def _send(
    person: Person, kind: str, token: str, *, subject: str, url: str, ask: str, later: str
) -> None:
    greeting = f"Hello {person.name}," if person.name else "Hello,"
    send_mail(
        pipeline(),
        Mail(
            org_id=person.organization_id,
            key=f"{kind}/{person.id}/{token[-16:]}",  # the signature's end: one per link
            kind=kind,
            to=person.email,
            subject=subject,
            text=f"{greeting}\n\n{ask}\n\n{url}\n\n{later}\n",
            html=_paragraphs(greeting, ask, _link(url), later),
            secret=True,
        ),
    )


__all__ = ["send_password_reset", "send_verification"]
