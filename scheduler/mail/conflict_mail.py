"""The emails of defending the slot: a conflict with its alternatives, and an automatic move.

Pure: the caller gives the people, the times and the signed links; dates are on each
recipient's clock, in their language (``scheduler.mail.dates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from scheduler.defend import BusySpan
from scheduler.mail.compose import Action, Block, Bullets, Para, compose
from scheduler.mail.dates import day, when
from scheduler.mail.kinds import MailKind
from scheduler.mail.message import Mail


@dataclass(frozen=True)
class Recipient:
    """Who gets a message, on which clock and in which language."""

    id: str
    email: str
    name: str
    zone: str
    locale: str


@dataclass(frozen=True)
class Alternative:
    start: datetime
    url: str


def conflict_key(conflict_id: str) -> str:
    return f"conflict/{conflict_id}"


def auto_move_key(session_id: str, person_id: str) -> str:
    return f"auto-move/{session_id}/{person_id}"


def _busy_lines(spans: Sequence[BusySpan], manager: Recipient, rep_name: str) -> list[str]:
    lines = []
    for span in spans:
        who = "You are" if span.role == "manager" else f"{rep_name} is"
        start, end = span.interval.start, span.interval.end
        lines.append(
            f"{who} busy from {when(start, manager.zone, manager.locale)}"
            f" until {when(end, manager.zone, manager.locale)}"
        )
    return lines


def conflict_mail(
    *,
    org_id: str,
    conflict_id: str,
    manager: Recipient,
    rep_name: str,
    occurrence_start: datetime,
    week_start: date,
    spans: Sequence[BusySpan],
    alternatives: Sequence[Alternative],
    cancel_url: str,
    series_url: str,
    unsubscribe_url: str,
) -> Mail:
    """The manager's one email about one conflict: the week, who is busy (never what), the
    best alternatives free for both as one-click links, and a link to cancel the week."""
    at = when(occurrence_start, manager.zone, manager.locale)
    week = day(week_start, manager.locale)
    blocks: list[Block] = [
        Para(
            f"Your weekly 1:1 with {rep_name} on {at} (the week of {week}) now clashes with "
            "other busy time:"
        ),
        Bullets(_busy_lines(spans, manager, rep_name)),
    ]
    if alternatives:
        blocks.append(
            Para(
                f"These times that week are free for both of you. Each link moves just this "
                f"week's 1:1 (the calendar tells {rep_name}) after you confirm:"
            )
        )
        blocks += [
            Action(f"Move to {when(a.start, manager.zone, manager.locale)}", a.url)
            for a in alternatives
        ]
    else:
        blocks.append(
            Para(
                "No other time that week is free for both of you inside your working hours. "
                "You can move it from the series page, or cancel this week."
            )
        )
    blocks += [
        Para("Or cancel this week's 1:1, saying why:"),
        Action("Cancel this week", cancel_url),
        Para(
            "These links work once (using one spends them all) and until the 1:1 starts. "
            f"The series page: {series_url}"
        ),
    ]
    return compose(
        org_id=org_id,
        key=conflict_key(conflict_id),
        kind=MailKind.CONFLICT,
        person=(manager.email, manager.name, manager.id),
        subject=f"Conflict: your 1:1 with {rep_name} on {at}",
        blocks=blocks,
        unsubscribe_url=unsubscribe_url,
    )


def auto_move_mail(
    *,
    org_id: str,
    session_id: str,
    recipient: Recipient,
    other_name: str,
    is_manager: bool,
    busy_names: Sequence[str],
    old_start: datetime,
    new_start: datetime,
    link_url: str,
    unsubscribe_url: str,
) -> Mail:
    """Telling one of the two people that their 1:1 was moved automatically, and why."""
    old = when(old_start, recipient.zone, recipient.locale)
    new = when(new_start, recipient.zone, recipient.locale)
    why = " and ".join(busy_names)
    blocks: list[Block] = [
        Para(
            f"Your 1:1 with {other_name} on {old} clashed with other busy time ({why}), so "
            f"Cadence moved just this week's meeting to {new}, a time free for both of you. "
            "The calendar invitation is updated; the weeks after it keep their usual time."
        ),
    ]
    if is_manager:
        blocks += [
            Para(
                "You (or your organisation's default) chose to let Cadence move a 1:1 "
                "automatically when a conflict appears. Change it on your account page."
            ),
            Action("Open the series", link_url),
        ]
    return compose(
        org_id=org_id,
        key=auto_move_key(session_id, recipient.id),
        kind=MailKind.AUTO_MOVE,
        person=(recipient.email, recipient.name, recipient.id),
        subject=f"Your 1:1 with {other_name} moved to {new}",
        blocks=blocks,
        unsubscribe_url=unsubscribe_url,
    )
