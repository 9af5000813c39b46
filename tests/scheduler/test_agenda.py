from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

import pytest

from scheduler.agenda import (
    DEFAULT_TEMPLATE,
    AgendaTemplate,
    AgendaTopic,
    SessionAgenda,
    TemplateLock,
    agenda_period_start,
    current_template,
    template_for_session,
    validate_template,
)

PRODUCT_TOPICS = (
    "Status update",
    "Coaching to best practices",
    "The customer's voice",
    "Praise for a job well done",
    "Feedback for corrective behaviour",
    "Action items",
)


def template(*titles):
    return AgendaTemplate(tuple(AgendaTopic(title) for title in titles))


ORG = template("Pipeline")
MANAGER = template("Deals")


def test_the_default_template_is_products_six_topics_in_order_each_with_a_prompt():
    assert DEFAULT_TEMPLATE.titles == PRODUCT_TOPICS
    assert all(topic.prompt.strip() for topic in DEFAULT_TEMPLATE.topics)
    assert validate_template(DEFAULT_TEMPLATE) == []


@pytest.mark.parametrize(
    ("titles", "expected"),
    [
        (("One",), []),
        (tuple(f"T{n}" for n in range(12)), []),
        ((), ["topics"]),
        (tuple(f"T{n}" for n in range(13)), ["topics"]),
        (("One", "  "), ["topics[1].title"]),
        (("x" * 120,), []),
        (("x" * 121,), ["topics[0].title"]),
        (("Coaching", "Status", "coaching "), ["topics[0].title", "topics[2].title"]),
        (("", "x" * 121, "Dup", "Dup"), [f"topics[{n}].title" for n in range(4)]),
    ],
)
def test_validate_template_names_each_bad_field(titles, expected):
    assert [error.field for error in validate_template(template(*titles))] == expected


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [("", []), ("p" * 240, []), ("p" * 241, ["topics[0].prompt"])],
)
def test_prompts_are_one_line(prompt, expected):
    topics = (AgendaTopic("Status", prompt),)
    assert [error.field for error in validate_template(AgendaTemplate(topics))] == expected


@pytest.mark.parametrize(
    ("manager", "expected"),
    [(None, ORG), (MANAGER, MANAGER)],
)
def test_a_managers_template_overrides_the_organisations(manager, expected):
    assert current_template(ORG, manager) == expected


START = date(2026, 1, 5)


@pytest.mark.parametrize(
    ("day", "weeks", "expected"),
    [
        (START, 13, START),
        (START + timedelta(weeks=13, days=-1), 13, START),
        (START + timedelta(weeks=13), 13, START + timedelta(weeks=13)),
        (START + timedelta(weeks=27), 13, START + timedelta(weeks=26)),
        (START + timedelta(weeks=4), 4, START + timedelta(weeks=4)),
    ],
)
def test_agenda_periods_run_from_the_series_start(day, weeks, expected):
    assert agenda_period_start(START, day, period_weeks=weeks) == expected


@pytest.mark.parametrize(
    ("day", "weeks", "message"),
    [(START - timedelta(days=1), 13, "before the series starts"), (START, 0, "at least one week")],
)
def test_no_period_before_the_series_starts_or_shorter_than_a_week(day, weeks, message):
    with pytest.raises(ValueError, match=message):
        agenda_period_start(START, day, period_weeks=weeks)


FIRST = TemplateLock(ORG, START)


@pytest.mark.parametrize(
    ("lock", "day", "expected"),
    [
        # no lock yet: the current template is locked for the period
        (None, START, TemplateLock(MANAGER, START)),
        (None, START + timedelta(weeks=14), TemplateLock(MANAGER, START + timedelta(weeks=13))),
        # inside the locked period the locked template stays, though the current one changed
        (FIRST, START, FIRST),
        (FIRST, START + timedelta(weeks=12, days=6), FIRST),
        # a new period takes the then-current template
        (FIRST, START + timedelta(weeks=13), TemplateLock(MANAGER, START + timedelta(weeks=13))),
        (FIRST, START + timedelta(weeks=40), TemplateLock(MANAGER, START + timedelta(weeks=39))),
    ],
)
def test_template_for_session_keeps_the_lock_for_its_period(lock, day, expected):
    chosen = template_for_session(lock, series_start=START, session_day=day, current=MANAGER)
    assert chosen == expected


def agenda(**changes):
    values = dict(
        series_title="Weekly 1:1",
        manager_name="Patrick",
        rep_name="George",
        start=datetime(2026, 3, 10, 13, 0, tzinfo=UTC),
        duration=timedelta(minutes=30),
        organiser_zone="America/New_York",
        rep_zone="Europe/London",
        topics=DEFAULT_TEMPLATE.topics,
        url="https://cadence.example/a/signed",
    )
    values.update(changes)
    return SessionAgenda(**values)


def test_a_session_agenda_gives_each_persons_local_times():
    session = agenda()
    manager_start, manager_end = session.local_span(session.organiser_zone)
    rep_start, rep_end = session.local_span(session.rep_zone)
    # New York is already on summer time (8 March), London not yet (29 March).
    assert (manager_start.hour, manager_end.minute) == (9, 30)
    assert (rep_start.hour, rep_end.hour, rep_end.minute) == (13, 13, 30)


@pytest.mark.parametrize(
    "changes",
    [
        {"start": datetime(2026, 3, 10, 13, 0)},
        {"organiser_zone": "Nowhere/City"},
        {"rep_zone": "Nowhere/City"},
    ],
)
def test_a_session_agenda_refuses_naive_times_and_unknown_zones(changes):
    with pytest.raises((ValueError, ZoneInfoNotFoundError)):
        agenda(**changes)
