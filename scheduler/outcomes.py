"""What became of one scheduled week's 1:1, and a manager's consistency score.

``week_state`` decides a week from its facts and ``now``. What is known of a week follows
these rules in order; the first that matches decides:

1. the series was stopped or ended before this occurrence  -> stopped
2. a debrief with at least the org's minimum action items  -> held (even if it was moved)
3. either person was out of office or on holiday           -> excused
4. the occurrence was cancelled                            -> cancelled
5. it was moved to another ISO week                        -> rescheduled
6. the rep declined (and it was not moved)                 -> declined
7. it was moved within its ISO week                        -> moved
8. otherwise: event intact, no debrief                     -> undocumented

Nothing counts before it has happened: until its time the week is **upcoming** in every
count, whatever is already known of it (pages show that: "cancelled · upcoming week"). Its
time is the occurrence's (the moved one's, if moved):

- held counts from its start (a debrief is refused before the meeting starts);
- stopped, excused, cancelled, rescheduled and declined count from its end;
- moved and undocumented count from its end plus the grace period (a debrief may still
  arrive until then).

The debrief outranks the calendar because it is the only proof the meeting happened; an
excuse outranks a cancellation because a 1:1 cancelled for a holiday is no one's fault.
Weeks are ISO weeks of the organiser's local dates, the zone the series is kept in.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.debrief import DEFAULT_MINIMUM_ACTION_ITEMS
from scheduler.intervals import Interval, utc
from scheduler.recurrence import week_start


class SessionOutcome(enum.StrEnum):
    HELD = "held"
    UNDOCUMENTED = "undocumented"
    MOVED = "moved"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    EXCUSED = "excused"
    STOPPED = "stopped"
    UPCOMING = "upcoming"


class CancelledBy(enum.StrEnum):
    MANAGER = "manager"
    REP = "rep"
    UNKNOWN = "unknown"


# The skipped-meeting reports list these: the 1:1 did not happen, or nothing shows it did,
# and no excuse. A moved session still happened (PRODUCT.md), so it is not among them.
OUTCOMES_NOT_HELD = frozenset(
    {
        SessionOutcome.UNDOCUMENTED,
        SessionOutcome.RESCHEDULED,
        SessionOutcome.CANCELLED,
        SessionOutcome.DECLINED,
        SessionOutcome.STOPPED,
    }
)

# Weeks that count neither for nor against a manager's consistency.
_NOT_EXPECTED = frozenset({SessionOutcome.EXCUSED, SessionOutcome.UPCOMING})


@dataclass(frozen=True)
class SessionFacts:
    """Everything known about one scheduled occurrence of a series.

    ``current`` is where the occurrence is now if it was moved (``None`` if not);
    ``action_items`` is the number recorded in its debrief (0 without a debrief).
    """

    scheduled: Interval
    organiser_zone: str
    current: Interval | None = None
    cancelled: bool = False
    cancelled_by: CancelledBy = CancelledBy.UNKNOWN
    rep_declined: bool = False
    excused: bool = False
    series_stopped: bool = False
    action_items: int = 0
    minimum_action_items: int = DEFAULT_MINIMUM_ACTION_ITEMS

    def __post_init__(self) -> None:
        ZoneInfo(self.organiser_zone)  # an unknown zone fails here, not in a report job

    @property
    def occurs(self) -> Interval:
        """Where the occurrence is now: moved or not."""
        return self.current or self.scheduled

    @property
    def moved(self) -> bool:
        return self.current is not None and self.current != self.scheduled

    @property
    def moved_to_another_week(self) -> bool:
        if not self.moved:
            return False
        zone = ZoneInfo(self.organiser_zone)
        return _week_of(self.occurs.start, zone) != _week_of(self.scheduled.start, zone)


def _week_of(instant: datetime, zone: ZoneInfo) -> date:
    return week_start(instant.astimezone(zone).date())


@dataclass(frozen=True)
class WeekState:
    """One week as of ``now``: ``outcome`` is what the reports count (``upcoming`` until its
    time), ``known`` what is known of it already (the outcome it will have if nothing else
    changes), ``counts_from`` the instant from which ``known`` is counted."""

    outcome: SessionOutcome
    known: SessionOutcome
    counts_from: datetime

    @property
    def upcoming(self) -> bool:
        return self.outcome is SessionOutcome.UPCOMING


def known_outcome(facts: SessionFacts) -> SessionOutcome:
    """What is known of the week whatever the time: rules 1-8 of this module's docstring."""
    if facts.series_stopped:
        return SessionOutcome.STOPPED
    if facts.action_items >= facts.minimum_action_items:
        return SessionOutcome.HELD
    if facts.excused:
        return SessionOutcome.EXCUSED
    if facts.cancelled:
        return SessionOutcome.CANCELLED
    if facts.moved_to_another_week:
        return SessionOutcome.RESCHEDULED
    if facts.rep_declined and not facts.moved:
        return SessionOutcome.DECLINED
    if facts.moved:
        return SessionOutcome.MOVED
    return SessionOutcome.UNDOCUMENTED


# Weeks decided by what took place, or did not, at the meeting's time: once it is over.
_DECIDED_AT_THE_END = frozenset(
    {
        SessionOutcome.STOPPED,
        SessionOutcome.EXCUSED,
        SessionOutcome.CANCELLED,
        SessionOutcome.RESCHEDULED,
        SessionOutcome.DECLINED,
    }
)


def week_state(facts: SessionFacts, *, now: datetime, grace: timedelta) -> WeekState:
    """The week as of ``now``, by the rules in this module's docstring.

    ``grace`` is how long after the meeting ends a debrief may still arrive; exactly at end +
    grace an intact week without one is no longer upcoming.
    """
    known = known_outcome(facts)
    occurs = facts.occurs
    if known is SessionOutcome.HELD:
        counts_from = occurs.start
    elif known in _DECIDED_AT_THE_END:
        counts_from = occurs.end
    else:
        counts_from = occurs.end + grace
    outcome = known if utc(now) >= counts_from else SessionOutcome.UPCOMING
    return WeekState(outcome=outcome, known=known, counts_from=counts_from)


def classify_session(facts: SessionFacts, *, now: datetime, grace: timedelta) -> SessionOutcome:
    """The outcome the reports count for one occurrence as of ``now`` (``week_state``)."""
    return week_state(facts, now=now, grace=grace).outcome


def debrief_refusal(facts: SessionFacts, *, now: datetime) -> str | None:
    """Why this week cannot be debriefed as of ``now``, or ``None`` if it can.

    "Held" is for meetings that took place: not before the meeting starts, and never for a
    week cancelled, declined by the rep (and not moved) or of a stopped series.
    """
    if facts.series_stopped:
        return "This 1:1 was stopped with its series: it cannot be debriefed."
    if facts.cancelled:
        return "This 1:1 was cancelled: it cannot be debriefed."
    if facts.rep_declined and not facts.moved:
        return "The rep declined this 1:1 and it was not moved: it cannot be debriefed."
    if utc(now) < facts.occurs.start:
        return "This 1:1 has not started yet: debrief it once it has taken place."
    return None


def consistency_score(outcomes: Iterable[SessionOutcome]) -> float | None:
    """The share of expected weeks that were held, from 0.0 to 1.0.

    Excused and upcoming weeks are not expected. Stopped weeks are: the manager let the
    cadence die. ``None`` when no week was expected, so "no data" never reads as 0%.
    """
    expected = [outcome for outcome in outcomes if outcome not in _NOT_EXPECTED]
    if not expected:
        return None
    return expected.count(SessionOutcome.HELD) / len(expected)
