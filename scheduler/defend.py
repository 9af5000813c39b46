"""Defending the slot: the rules for a conflict in a booked week, free of I/O.

A conflict is recorded once per clash (``fingerprint``), then either mailed to the manager
with the week's alternatives ("ask") or, under the "auto" policy, moved to the best
alternative when ``auto_move_target`` allows it. ``count_conflicts`` is what reports show.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.availability import WorkingHours
from scheduler.intervals import Interval
from scheduler.outcomes import OUTCOMES_NOT_HELD, SessionOutcome

# Neither the week's time nor the new one may be closer than this to now for an automatic
# move: a meeting about to start is the manager's to move.
AUTO_MOVE_NOTICE = timedelta(hours=24)


class ConflictPolicy(enum.StrEnum):
    ASK = "ask"  # mail the manager the alternatives
    AUTO = "auto"  # move to the best alternative when the rules allow, and tell both


POLICY_LABELS = {
    ConflictPolicy.ASK: "Ask me: email me the conflict and the best three alternatives",
    ConflictPolicy.AUTO: (
        "Move automatically to the best same-week alternative free for both of us, "
        "and tell us both (never within 24 hours of the meeting)"
    ),
}


class ConflictState(enum.StrEnum):
    # Detected; the next notice run checks it again and mails (or moves) if still there.
    PENDING = "pending"
    # The manager was sent the alternatives; the conflict waits for a link to be used.
    MAILED = "mailed"
    # The clash went away by itself (if before mailing, nothing was ever sent).
    RESOLVED = "resolved"
    # Moved by the manager through one of the email's links.
    MOVED = "moved"
    # Moved by Cadence under the manager's "move automatically" policy.
    MOVED_AUTOMATICALLY = "moved_automatically"
    # The week was cancelled through the email's link.
    CANCELLED = "cancelled"


# Still waiting for something to happen: a week lost while in one of these was lost to it.
OPEN_CONFLICT_STATES = (ConflictState.PENDING, ConflictState.MAILED)


def effective_policy(own: str | None, organisation_default: str) -> ConflictPolicy:
    """The manager's own choice, else the organisation's, else ask."""
    for choice in (own, organisation_default):
        if choice in set(ConflictPolicy):
            return ConflictPolicy(choice)
    return ConflictPolicy.ASK


@dataclass(frozen=True)
class BusySpan:
    """Busy time of one person in the meeting: whose, and when (never what)."""

    email: str
    role: str  # "manager" | "rep"
    interval: Interval

    def as_json(self) -> dict[str, str]:
        return {
            "email": self.email,
            "role": self.role,
            "start": self.interval.start.isoformat(),
            "end": self.interval.end.isoformat(),
        }

    @classmethod
    def from_json(cls, row: dict[str, str]) -> BusySpan:
        return cls(
            row["email"],
            row["role"],
            Interval(datetime.fromisoformat(row["start"]), datetime.fromisoformat(row["end"])),
        )


def fingerprint(occurrence_start: datetime, spans: Iterable[BusySpan]) -> str:
    """The same clash (this week's time, the same busy intervals of the same people) always
    hashes the same, whatever order the calendar listed them in."""
    parts = sorted(
        f"{span.email.lower()}|{span.interval.start.isoformat()}|{span.interval.end.isoformat()}"
        for span in spans
    )
    text = "\n".join([occurrence_start.isoformat(), *parts])
    return hashlib.sha256(text.encode()).hexdigest()


def within_hours(hours: WorkingHours, interval: Interval) -> bool:
    """Whether ``interval`` lies inside one span of ``hours`` on its local day."""
    zone = ZoneInfo(hours.zone)
    start, end = interval.start.astimezone(zone), interval.end.astimezone(zone)
    if end.date() != start.date():
        return False
    return any(
        begin <= start.time() and end.time() <= until
        for begin, until in hours.days.get(start.weekday(), ())
    )


class AutoMoveRefusal(enum.StrEnum):
    """Why a conflict could not be moved automatically (the manager is asked instead)."""

    NO_ALTERNATIVE = "no same-week time is free for both"
    TOO_SOON = "the meeting is less than 24 hours away"
    OUTSIDE_HOURS = "no free time is inside both people's working hours"
    ALREADY_MOVED = "this week was already moved automatically once"


@dataclass(frozen=True)
class AutoMove:
    """The automatic move decided: the new time, or why there is none."""

    to: Interval | None
    refusal: AutoMoveRefusal | None = None


def auto_move_target(
    occurrence: Interval,
    alternatives: Sequence[Interval],
    *,
    manager_hours: WorkingHours,
    rep_hours: WorkingHours,
    moved_this_week: bool,
    now: datetime,
) -> AutoMove:
    """Where the "auto" policy moves a conflicting week: the first (best) of
    ``alternatives`` (already free for both, best first) that starts more than 24 hours
    from ``now`` inside both people's working hours; never when the week itself starts
    within 24 hours, nor when the series' week was already moved automatically."""
    if moved_this_week:
        return AutoMove(None, AutoMoveRefusal.ALREADY_MOVED)
    if occurrence.start - now < AUTO_MOVE_NOTICE:
        return AutoMove(None, AutoMoveRefusal.TOO_SOON)
    if not alternatives:
        return AutoMove(None, AutoMoveRefusal.NO_ALTERNATIVE)
    later = [a for a in alternatives if a.start - now >= AUTO_MOVE_NOTICE]
    if not later:
        return AutoMove(None, AutoMoveRefusal.TOO_SOON)
    for alternative in later:
        if within_hours(manager_hours, alternative) and within_hours(rep_hours, alternative):
            return AutoMove(alternative)
    return AutoMove(None, AutoMoveRefusal.OUTSIDE_HOURS)


# ---------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class ConflictCounts:
    """What became of the conflicts of some weeks, for reports.

    ``defended`` = moved by the manager + moved automatically; ``lost``: the week was not
    held and its conflict was never defended (cancelled through the email, or still open
    when the week ended cancelled, declined, undocumented, rescheduled or stopped).
    """

    detected: int = 0
    moved_by_manager: int = 0
    moved_automatically: int = 0
    lost: int = 0
    resolved: int = 0

    @property
    def defended(self) -> int:
        return self.moved_by_manager + self.moved_automatically


def count_conflicts(rows: Iterable[tuple[str, str]]) -> ConflictCounts:
    """Count ``(conflict state, the week's outcome)`` pairs, one per recorded conflict.

    A week with several conflicts counts each; a week still upcoming is never lost.
    """
    detected = manager = automatic = lost = resolved = 0
    for state, outcome in rows:
        detected += 1
        if state == ConflictState.MOVED:
            manager += 1
        elif state == ConflictState.MOVED_AUTOMATICALLY:
            automatic += 1
        elif state == ConflictState.RESOLVED:
            resolved += 1
        elif outcome != SessionOutcome.UPCOMING and (
            state == ConflictState.CANCELLED or outcome in OUTCOMES_NOT_HELD
        ):
            lost += 1
    return ConflictCounts(detected, manager, automatic, lost, resolved)
