"""A week's state in the reports' words, for the pages that list weeks (the series page).

``scheduler.outcomes.week_state`` decides; this only says it. A week known ahead of its time
(cancelled, declined...) says so and that it is still to come: the reports count it only
once its time has passed.
"""

from __future__ import annotations

from scheduler.outcomes import SessionOutcome, WeekState

_WORDS = {
    SessionOutcome.HELD: "Held",
    SessionOutcome.MOVED: "Moved",
    SessionOutcome.RESCHEDULED: "Rescheduled",
    SessionOutcome.DECLINED: "Declined",
    SessionOutcome.EXCUSED: "Excused",
    SessionOutcome.STOPPED: "Stopped",
}


def week_status(state: WeekState, cancelled_by: str | None) -> str | None:
    """ "Cancelled by the rep · upcoming week", "Declined", ...; ``None`` for a week with
    nothing known yet (the page says "Upcoming", or its conflict)."""
    known = state.known
    if known is SessionOutcome.CANCELLED:
        words = f"Cancelled by {'the ' if cancelled_by in ('manager', 'rep') else ''}" + (
            cancelled_by or "unknown"
        )
    elif known in _WORDS:
        words = _WORDS[known]
    elif state.upcoming:
        return None
    else:
        words = known.value.capitalize()  # undocumented: its time and grace have passed
    return f"{words} · upcoming week" if state.upcoming else words
