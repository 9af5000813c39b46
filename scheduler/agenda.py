"""The standing agenda: templates, which one a session uses, and one session's agenda.

The article's first rule: "Set an agenda for the next 3 months and stick to it. Always cover
the same topics each week." So a series locks the template it starts with for an agenda
period (13 weeks by default); edits to the template reach it at the next period.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler import text_limits
from scheduler.debrief import OpenActionItem
from scheduler.field_errors import FieldError
from scheduler.intervals import utc

AGENDA_PERIOD_WEEKS = 13
MAX_TOPICS = 12
MAX_TITLE_CHARS = text_limits.TOPIC_TITLE
MAX_PROMPT_CHARS = text_limits.TOPIC_PROMPT


@dataclass(frozen=True)
class AgendaTopic:
    """One standing topic; ``prompt`` is the line that says what covering it means."""

    title: str
    prompt: str = ""


@dataclass(frozen=True)
class AgendaTemplate:
    topics: tuple[AgendaTopic, ...]

    @property
    def titles(self) -> tuple[str, ...]:
        return tuple(topic.title for topic in self.topics)


# What made Patrick's 1:1 good (PRODUCT.md, "The standing agenda"), prompts from the article.
DEFAULT_TEMPLATE = AgendaTemplate(
    (
        AgendaTopic(
            "Status update",
            "Walk the pipeline account by account: create the tasks that move each "
            "opportunity to its next sales stage, or decide to stop working it.",
        ),
        AgendaTopic(
            "Coaching to best practices",
            "Coach this week's sales situations: advance the sale and follow the "
            "customer's buying process.",
        ),
        AgendaTopic(
            "The customer's voice",
            "Quote what customers actually said on this week's calls.",
        ),
        AgendaTopic(
            "Praise for a job well done",
            "Name what went well this week, and why it worked.",
        ),
        AgendaTopic(
            "Feedback for corrective behaviour",
            "Say plainly what to do differently, and how.",
        ),
        AgendaTopic(
            "Action items",
            "Review last week's; agree this week's three, each with an owner and a due "
            "date. The manager owns at least one.",
        ),
    )
)


def validate_template(template: AgendaTemplate) -> list[FieldError]:
    """Every problem with ``template`` at once, by field; empty when it can be saved.

    A template has 1 to ``MAX_TOPICS`` topics, each titled (at most ``MAX_TITLE_CHARS``
    characters) with a prompt of at most ``MAX_PROMPT_CHARS``, and no title twice (ignoring
    case): debrief notes are keyed by title.
    """
    errors = []
    if not 1 <= len(template.topics) <= MAX_TOPICS:
        errors.append(FieldError("topics", f"An agenda has 1 to {MAX_TOPICS} topics."))
    counts = Counter(topic.title.strip().casefold() for topic in template.topics)
    for index, topic in enumerate(template.topics):
        title = topic.title.strip()
        field = f"topics[{index}].title"
        if not title:
            errors.append(FieldError(field, "Give the topic a title."))
        elif len(title) > MAX_TITLE_CHARS:
            errors.append(FieldError(field, f"Keep titles to {MAX_TITLE_CHARS} characters."))
        elif counts[title.casefold()] > 1:
            errors.append(FieldError(field, "Another topic has this title."))
        if len(topic.prompt.strip()) > MAX_PROMPT_CHARS:
            errors.append(
                FieldError(f"topics[{index}].prompt", f"Keep it to {MAX_PROMPT_CHARS} characters.")
            )
    return errors


def current_template(
    organisation: AgendaTemplate, manager: AgendaTemplate | None = None
) -> AgendaTemplate:
    """The template a manager's new agenda periods take: their own if they have one."""
    return manager if manager is not None else organisation


@dataclass(frozen=True)
class TemplateLock:
    """The template a series uses for the agenda period starting on ``period_start``."""

    template: AgendaTemplate
    period_start: date


def agenda_period_start(
    series_start: date, day: date, *, period_weeks: int = AGENDA_PERIOD_WEEKS
) -> date:
    """The first day of the agenda period ``day`` falls in; periods run from ``series_start``."""
    if period_weeks < 1:
        raise ValueError(f"an agenda period is at least one week, not {period_weeks}")
    if day < series_start:
        raise ValueError(f"{day} is before the series starts ({series_start})")
    period = timedelta(weeks=period_weeks)
    return series_start + period * ((day - series_start) // period)


def template_for_session(
    lock: TemplateLock | None,
    *,
    series_start: date,
    session_day: date,
    current: AgendaTemplate,
    period_weeks: int = AGENDA_PERIOD_WEEKS,
) -> TemplateLock:
    """The lock that applies to the session on ``session_day``; the caller keeps it.

    Inside the locked period the locked template applies, however the template was edited
    since. Otherwise (no lock yet, or a new period has begun) ``current`` is locked for the
    period ``session_day`` falls in.
    """
    period_start = agenda_period_start(series_start, session_day, period_weeks=period_weeks)
    if lock is not None and lock.period_start == period_start:
        return lock
    return TemplateLock(current, period_start)


@dataclass(frozen=True)
class SessionAgenda:
    """Everything one session's agenda shows, as it travels with the invite.

    ``start`` is the session's UTC start; both people's local times are derived from it and
    their IANA zones. ``open_items`` are the action items carried over from earlier weeks.
    """

    series_title: str
    manager_name: str
    rep_name: str
    start: datetime
    duration: timedelta
    organiser_zone: str
    rep_zone: str
    topics: tuple[AgendaTopic, ...]
    url: str
    talking_points: tuple[str, ...] = ()
    open_items: tuple[OpenActionItem, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        ZoneInfo(self.organiser_zone)  # unknown zones fail when the agenda is built
        ZoneInfo(self.rep_zone)

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    def local_span(self, zone: str) -> tuple[datetime, datetime]:
        """The session's start and end as wall-clock times in ``zone``."""
        tz = ZoneInfo(zone)
        return self.start.astimezone(tz), self.end.astimezone(tz)
