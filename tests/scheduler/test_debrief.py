from datetime import date

import pytest

from scheduler.debrief import (
    ActionItem,
    ActionItemDraft,
    DebriefDraft,
    OpenActionItem,
    Owner,
    carry_over,
    validate_debrief,
)
from scheduler.field_errors import FieldError

SESSION_DAY = date(2026, 3, 10)
TOPICS = ("Status update", "Coaching to best practices")


def item(text="Send the proposal", owner="rep", due=date(2026, 3, 13)):
    return ActionItemDraft(text=text, owner=owner, due_date=due)


GOOD_ITEMS = (item(owner="manager"), item(), item(due=SESSION_DAY))


def fields(draft, minimum=3):
    errors = validate_debrief(draft, session_day=SESSION_DAY, topics=TOPICS, minimum=minimum)
    return sorted(error.field for error in errors)


def test_a_complete_debrief_has_no_errors():
    draft = DebriefDraft(notes={"Status update": "Pipeline grew."}, action_items=GOOD_ITEMS)
    assert validate_debrief(draft, session_day=SESSION_DAY, topics=TOPICS) == []


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (GOOD_ITEMS, []),
        (GOOD_ITEMS[:2], ["action_items"]),
        ((), ["action_items", "action_items"]),
        ((item(), item(), item()), ["action_items"]),
        ((*GOOD_ITEMS, item(text="   ")), ["action_items[3].text"]),
        ((*GOOD_ITEMS, item(text="x" * 500)), []),
        ((*GOOD_ITEMS, item(text="x" * 501)), ["action_items[3].text"]),
        ((*GOOD_ITEMS, item(owner="boss")), ["action_items[3].owner"]),
        ((*GOOD_ITEMS, item(owner="")), ["action_items[3].owner"]),
        ((*GOOD_ITEMS, item(due=None)), ["action_items[3].due_date"]),
        ((*GOOD_ITEMS, item(due=date(2026, 3, 9))), ["action_items[3].due_date"]),
        (
            (item(text="", owner="rep", due=date(2026, 3, 1)),),
            [
                "action_items",
                "action_items",
                "action_items[0].due_date",
                "action_items[0].text",
            ],
        ),
    ],
)
def test_action_item_rules_name_their_field(items, expected):
    assert fields(DebriefDraft(action_items=items)) == expected


@pytest.mark.parametrize(("minimum", "count", "ok"), [(3, 3, True), (3, 2, False), (4, 3, False)])
def test_the_minimum_is_the_organisations_setting(minimum, count, ok):
    draft = DebriefDraft(action_items=(item(owner="manager"),) + (item(),) * (count - 1))
    assert (fields(draft, minimum=minimum) == []) is ok


def test_the_too_few_message_says_how_many():
    errors = validate_debrief(
        DebriefDraft(action_items=GOOD_ITEMS[:1]), session_day=SESSION_DAY, topics=TOPICS
    )
    assert FieldError("action_items", "Agree at least 3 action items; 1 given.") in errors


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        ({}, []),
        ({"Status update": "ok", "Coaching to best practices": "ok"}, []),
        ({"Weather": "sunny"}, ["notes[Weather]"]),
        ({"status update": "ok", "Status update": "ok"}, ["notes[status update]"]),
    ],
)
def test_notes_only_for_the_agendas_topics(notes, expected):
    assert fields(DebriefDraft(notes=notes, action_items=GOOD_ITEMS)) == expected


def recorded(id, due, done=False):
    return ActionItem(id=id, text=f"item {id}", owner=Owner.REP, due_date=due, done=done)


@pytest.mark.parametrize(
    ("items", "today", "expected"),
    [
        ([], date(2026, 3, 17), []),
        ([recorded("a", date(2026, 3, 13), done=True)], date(2026, 3, 17), []),
        ([recorded("a", date(2026, 3, 16))], date(2026, 3, 17), [("a", True)]),
        ([recorded("a", date(2026, 3, 17))], date(2026, 3, 17), [("a", False)]),
        ([recorded("a", date(2026, 3, 18))], date(2026, 3, 17), [("a", False)]),
        (
            [
                recorded("late", date(2026, 3, 20)),
                recorded("done", date(2026, 3, 1), done=True),
                recorded("early", date(2026, 3, 2)),
            ],
            date(2026, 3, 17),
            [("early", True), ("late", False)],
        ),
    ],
)
def test_carry_over_keeps_open_items_soonest_first_with_overdue_flag(items, today, expected):
    carried = carry_over(items, today)
    assert [(open_item.id, open_item.overdue) for open_item in carried] == expected


def test_carry_over_keeps_what_the_agenda_shows():
    (carried,) = carry_over([recorded("a", date(2026, 3, 13))], date(2026, 3, 17))
    assert carried == OpenActionItem("a", "item a", Owner.REP, date(2026, 3, 13), True)
