"""The weekly digests as mail: one ``Mail`` per admin and manager per due week.

A digest is of kind ``MailKind.DIGEST``: it ends with the footer every stoppable email has
and carries its unsubscribe link; a recipient who stopped it gets none composed (and, on
turning it back on, none of the weeks it was off: ``due_digest_weeks``).

Each digest's key is ``digest/<week>/<person>``: which weeks are due for a person starts
after the newest such key in the outbox (``digest.due_digest_weeks``), so the hourly run
that finds a week's digest already queued composes nothing, and delivery (with its retries)
is the outbox's (``scheduler.mail``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduler.links import unsubscribe_url
from scheduler.mail.compose import with_footer
from scheduler.mail.message import Mail
from scheduler.models import Organization
from scheduler.reports.digest import (
    DIGEST_KIND,
    Digest,
    digest_key,
    digest_recipients,
    due_digest_weeks,
    render_html,
    render_text,
    weekly_digest,
)
from scheduler.settings import Settings
from scheduler.usecases.mail_preferences import opted_out


def digest_mail(digest: Digest, *, base_url: str, unsubscribe_url: str) -> Mail:
    text, html = with_footer(
        render_text(digest, base_url), render_html(digest, base_url), DIGEST_KIND, unsubscribe_url
    )
    return Mail(
        org_id=digest.org_id,
        key=digest_key(digest.week_start, digest.person_id),
        kind=DIGEST_KIND,
        to=digest.email,
        subject=digest.subject,
        text=text,
        html=html,
        person_id=digest.person_id,
        unsubscribe_url=unsubscribe_url,
    )


def weekly_digest_mails(db: DbSession, *, settings: Settings, now: datetime) -> Iterator[Mail]:
    """Every admin's and manager's due digests, oldest week first: for each, the last
    complete week of their own zone once every session of it is past its grace period, and
    any week before it not yet in the outbox (safe to run hourly: each is composed once)."""
    for org_id in db.scalars(select(Organization.id).order_by(Organization.id)).all():
        for person_id in digest_recipients(db, org_id):
            if opted_out(db, org_id=org_id, person_id=person_id, kind=DIGEST_KIND):
                continue
            stop = unsubscribe_url(
                settings, org_id=org_id, person_id=person_id, kind=DIGEST_KIND, now=now
            )
            for week in due_digest_weeks(db, org_id, person_id, now=now):
                digest = weekly_digest(db, org_id, person_id, now=now, week=week)
                if digest is not None:
                    yield digest_mail(digest, base_url=settings.base_url, unsubscribe_url=stop)


__all__ = ["digest_key", "digest_mail", "weekly_digest_mails"]
