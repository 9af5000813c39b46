"""The rep's Monday email: their open action items due this week (and the overdue ones), each
with a signed, single-use link to mark it done.

One email per rep and week, key ``rep-items/<Monday>/<rep>``: the hourly run composes only
for reps whose Monday morning it is (``scheduler.chase.items_mail_week``) and whose email of
that week is not in the outbox yet, and sends nothing to a rep with nothing due.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduler.chase import due_this_week, items_mail_week
from scheduler.debrief import Owner
from scheduler.links import link_url, sign_link, unsubscribe_url
from scheduler.mail.compose import Action, Block, Para, compose
from scheduler.mail.dates import day
from scheduler.mail.kinds import MailKind
from scheduler.mail.message import Mail
from scheduler.models import ActionItem, MailOptOut, OutboxMessage, Person
from scheduler.settings import Settings

# The signed link that marks one item done: used once (scheduler.usecases.spent_links).
ITEM_DONE_LINK = "item-done"
ITEM_DONE_PATH = "/items/done"
ITEM_DONE_VALID = timedelta(days=14)


def rep_items_key(week: date, rep_id: str) -> str:
    return f"rep-items/{week.isoformat()}/{rep_id}"


def rep_items_mails(db: DbSession, settings: Settings, *, now: datetime) -> Iterator[Mail]:
    """The Monday emails due as of ``now`` and not yet in the outbox, one per rep."""
    # Whatever their zone, a rep's week ends within 8 days of the UTC date.
    latest_due = now.date() + timedelta(days=8)
    owing = select(ActionItem.owner_id).where(
        ActionItem.done_at.is_(None),
        ActionItem.owner == Owner.REP,
        ActionItem.due_date <= latest_due,
    )
    opted_out = (
        select(MailOptOut.id)
        .where(MailOptOut.person_id == Person.id, MailOptOut.kind == MailKind.REP_ITEMS.value)
        .exists()
    )
    reps = db.scalars(
        select(Person)
        .where(Person.id.in_(owing), Person.active.is_(True), ~opted_out)
        .order_by(Person.id)
    ).all()
    for rep in reps:
        week = items_mail_week(now, rep.zone)
        if week is None:
            continue
        key = rep_items_key(week, rep.id)
        if db.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
            continue
        mail = rep_items_mail(db, settings, rep=rep, week=week, now=now)
        if mail is not None:
            yield mail


def rep_items_mail(
    db: DbSession, settings: Settings, *, rep: Person, week: date, now: datetime
) -> Mail | None:
    """``rep``'s email for ``week`` (a Monday), or ``None`` when nothing is due."""
    items = [
        item
        for item in db.scalars(
            select(ActionItem)
            .where(
                ActionItem.organization_id == rep.organization_id,
                ActionItem.owner_id == rep.id,
                ActionItem.owner == Owner.REP,
                ActionItem.done_at.is_(None),
            )
            .order_by(ActionItem.due_date, ActionItem.created_at)
        )
        if due_this_week(item.due_date, week)
    ]
    if not items:
        return None
    today = now.astimezone(ZoneInfo(rep.zone)).date()
    locale = rep.date_locale
    blocks: list[Block] = [
        Para(
            f"Your action items due this week ({day(week, locale)} to "
            f"{day(week + timedelta(days=6), locale)}), overdue ones first:"
        )
    ]
    for item in items:
        late = ", overdue" if item.due_date < today else ""
        blocks += [
            Para(f"{item.text} (due {day(item.due_date, locale)}{late})"),
            Action("Mark it done", item_done_link(settings, item=item, now=now)),
        ]
    blocks.append(Para("Each link marks its item done once, after asking you to confirm."))
    count = len(items)
    return compose(
        org_id=rep.organization_id,
        key=rep_items_key(week, rep.id),
        kind=MailKind.REP_ITEMS,
        person=rep,
        subject=f"Your action items this week: {count} open",
        blocks=blocks,
        unsubscribe_url=unsubscribe_url(
            settings,
            org_id=rep.organization_id,
            person_id=rep.id,
            kind=MailKind.REP_ITEMS,
            now=now,
        ),
    )


def item_done_link(settings: Settings, *, item: ActionItem, now: datetime) -> str:
    """A signed, single-use link for the item's owner to mark it done (after a confirm page)."""
    token = sign_link(
        settings.secret_key,
        purpose=ITEM_DONE_LINK,
        org_id=item.organization_id,
        subject={"item": item.id, "person": item.owner_id},
        expires_at=now + ITEM_DONE_VALID,
    )
    return link_url(settings.base_url, ITEM_DONE_PATH, token)
