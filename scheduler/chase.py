"""Chasing the debrief: which email, if any, a manager is due about a 1:1 that ended.

Once a 1:1 has ended, its manager gets one **nudge** to debrief it; if nothing is recorded by
half the grace period after the end, one **reminder**. Nothing once a debrief exists, nothing
after the grace period (the week then counts as it is), and nothing for a week that did not
take place: cancelled, declined by the rep and not moved, stopped with its series, or excused.
A nudge the job could not send in time (a worker down) is not sent late: past half the grace
period only the reminder is still due, so the manager never gets the two back to back.

Each rep gets, on Monday morning in their own zone, their open action items due that week
(and the overdue ones): ``items_mail_week``.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.intervals import utc
from scheduler.outcomes import SessionFacts


class NudgeKind(enum.StrEnum):
    NUDGE = "nudge"
    REMINDER = "reminder"


@dataclass(frozen=True)
class ChaseFacts:
    """What the chase needs of one week: ``session`` as the outcomes see it, whether a
    debrief was saved (any, even short of the minimum items), and the emails already sent."""

    session: SessionFacts
    has_debrief: bool = False
    sent: Collection[NudgeKind] = ()


def took_place(session: SessionFacts) -> bool:
    """Whether the week's 1:1 can have happened, so that a debrief of it is worth asking."""
    if session.series_stopped or session.excused or session.cancelled:
        return False
    return not (session.rep_declined and not session.moved)


def grace_ends_at(session: SessionFacts, grace: timedelta) -> datetime:
    """When the week stops waiting for a debrief: its (moved) end plus the grace period."""
    return session.occurs.end + grace


def reminder_at(session: SessionFacts, grace: timedelta) -> datetime:
    """When the reminder is due: half the grace period after the (moved) end."""
    return session.occurs.end + grace / 2


def due_nudge(facts: ChaseFacts, *, now: datetime, grace: timedelta) -> NudgeKind | None:
    """The email due about this week as of ``now``, or ``None`` (this module's docstring)."""
    session = facts.session
    now = utc(now)
    if facts.has_debrief or not took_place(session):
        return None
    if now < session.occurs.end or now >= grace_ends_at(session, grace):
        return None
    if now < reminder_at(session, grace):
        return NudgeKind.NUDGE if NudgeKind.NUDGE not in facts.sent else None
    return NudgeKind.REMINDER if NudgeKind.REMINDER not in facts.sent else None


# The rep's Monday email of action items goes from this local time on Monday.
ITEMS_MAIL_FROM = time(8)


def items_mail_week(now: datetime, zone: str) -> date | None:
    """The Monday (the rep's own date) whose action-items email is due as of ``now``: on
    Monday from ``ITEMS_MAIL_FROM`` in ``zone`` until the day ends there; ``None`` otherwise."""
    local = utc(now).astimezone(ZoneInfo(zone))
    if local.weekday() != 0 or local.time() < ITEMS_MAIL_FROM:
        return None
    return local.date()


def due_this_week(due_date: date, week: date) -> bool:
    """Whether an open item belongs in the email of ``week`` (a Monday): due by that week's
    Sunday, the overdue ones included."""
    return due_date <= week + timedelta(days=6)
