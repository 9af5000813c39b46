"""The weekly digests as mail: one ``Mail`` per admin and manager per week.

Each digest's key is ``digest/<week>/<person>``, so the hourly run that finds last week's
digests already in the outbox sends nothing, and delivery (with its retries) is the
outbox's (``scheduler.mail``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduler.mail.message import Mail
from scheduler.models import Organization, OutboxMessage
from scheduler.reports.digest import (
    Digest,
    digest_recipients,
    digest_week,
    render_html,
    render_text,
    weekly_digest,
)

KIND = "digest"


def digest_key(week: date, person_id: str) -> str:
    return f"{KIND}/{week.isoformat()}/{person_id}"


def digest_mail(digest: Digest, *, base_url: str) -> Mail:
    return Mail(
        org_id=digest.org_id,
        key=digest_key(digest.week_start, digest.person_id),
        kind=KIND,
        to=digest.email,
        subject=digest.subject,
        text=render_text(digest, base_url),
        html=str(render_html(digest, base_url)),
    )


def weekly_digest_mails(db: DbSession, *, base_url: str, now: datetime) -> Iterator[Mail]:
    """Last week's digest of every admin and manager of every organisation who has none in
    the outbox yet (safe to run hourly: each is composed once a week)."""
    week = digest_week(now)
    queued = set(
        db.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like(f"{KIND}/{week}/%")))
    )
    for org_id in db.scalars(select(Organization.id).order_by(Organization.id)).all():
        for person_id in digest_recipients(db, org_id):
            if digest_key(week, person_id) in queued:
                continue
            digest = weekly_digest(db, org_id, person_id, now=now)
            if digest is not None:
                yield digest_mail(digest, base_url=base_url)


__all__ = ["digest_key", "digest_mail", "weekly_digest_mails"]
