"""Which kinds of email (``scheduler.mail.kinds.MailKind``) each person stopped.

``scheduler.jobs.tasks.send_mail`` asks ``opted_out`` before queueing a message: the one
place that decides. The unsubscribe link and the account page both call ``set_opt_out``,
which writes each change in the audit log (the person is the actor).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session as DbSession

from scheduler.db import insert_unless_present
from scheduler.mail.dates import DATE_LOCALES
from scheduler.mail.kinds import is_kind
from scheduler.models import MailOptOut, Person, new_id
from scheduler.usecases.scope import audit, get_in_org


def opted_out(db: DbSession, *, org_id: str, person_id: str, kind: str) -> bool:
    return (
        db.scalar(
            select(MailOptOut.id).where(
                MailOptOut.organization_id == org_id,
                MailOptOut.person_id == person_id,
                MailOptOut.kind == kind,
            )
        )
        is not None
    )


def opted_out_kinds(db: DbSession, *, org_id: str, person_id: str) -> set[str]:
    return set(
        db.scalars(
            select(MailOptOut.kind).where(
                MailOptOut.organization_id == org_id, MailOptOut.person_id == person_id
            )
        )
    )


def set_opt_out(
    db: DbSession, *, org_id: str, person_id: str, kind: str, off: bool, now: datetime
) -> None:
    """Stop (``off``) or resume one kind of email for a person of the organisation; doing it
    twice is doing it once. ``ValueError`` for a kind that is not one."""
    if not is_kind(kind):
        raise ValueError(f"not a kind of email: {kind!r}")
    person = get_in_org(db, Person, org_id, person_id)
    if off:
        # Stopping twice, even at once, is stopping once.
        changed = insert_unless_present(
            db,
            MailOptOut,
            unique=["person_id", "kind"],
            id=new_id(),
            organization_id=org_id,
            person_id=person_id,
            kind=kind,
            created_at=now,
        )
    else:
        deleted = db.execute(
            delete(MailOptOut).where(
                MailOptOut.organization_id == org_id,
                MailOptOut.person_id == person_id,
                MailOptOut.kind == kind,
            )
        )
        changed = cast("CursorResult[Any]", deleted).rowcount > 0
    if changed:
        action = "person.mail_stopped" if off else "person.mail_resumed"
        audit(db, org_id=org_id, actor_id=person_id, action=action, subject=person, now=now,
              kind=kind)  # fmt: skip


def set_date_locale(db: DbSession, *, org_id: str, person_id: str, locale: str) -> None:
    """The language of dates in the person's emails: one of ``DATE_LOCALES``
    (``ValueError`` otherwise)."""
    if locale not in DATE_LOCALES:
        raise ValueError(f"not an offered language of dates: {locale!r}")
    get_in_org(db, Person, org_id, person_id).date_locale = locale


__all__ = ["opted_out", "opted_out_kinds", "set_date_locale", "set_opt_out"]
