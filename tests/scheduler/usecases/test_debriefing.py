from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from scheduler.debrief import ActionItemDraft, DebriefDraft
from scheduler.models import ActionItem, Session
from scheduler.outcomes import SessionOutcome
from scheduler.usecases.agendas import session_agenda
from scheduler.usecases.debriefing import (
    add_talking_point,
    complete_action_item,
    record_debrief,
)
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import NotInOrganization
from tests.scheduler.usecases.conftest import link
from tests.scheduler.usecases.test_booking import book
from tests.sessions import series_sessions

AFTER_FIRST = datetime(2026, 10, 20, 14, tzinfo=UTC)
THREE = (
    ActionItemDraft("Send the Q4 pipeline review", "manager", date(2026, 10, 23)),
    ActionItemDraft("Book the demo with Initech", "rep", date(2026, 10, 22)),
    ActionItemDraft("Quote the CFO's objection verbatim", "rep", date(2026, 10, 27)),
)


def debrief(database, team, session_id, draft, manager_id=None):
    return record_debrief(
        database,
        org_id=team.org_id,
        session_id=session_id,
        manager_id=manager_id or team.manager_id,
        draft=draft,
        now=AFTER_FIRST,
    )


def test_a_debrief_with_three_actions_makes_the_week_held(database, calendar, team):
    first = series_sessions(database, book(database, calendar, team))[0]
    debrief(database, team, first.id, DebriefDraft({"Status update": "Two deals moved"}, THREE))
    with database.session() as db:
        assert db.get(Session, first.id).outcome == SessionOutcome.HELD
        owners = sorted(item.owner_id for item in db.scalars(select(ActionItem)))
    assert owners == sorted([team.manager_id, team.rep_ids[0], team.rep_ids[0]])


def test_every_problem_is_returned_and_nothing_is_stored(database, calendar, team):
    first = series_sessions(database, book(database, calendar, team))[0]
    draft = DebriefDraft(
        {"Weather": "nice"},
        (
            ActionItemDraft("", "rep", date(2026, 10, 1)),
            ActionItemDraft("Call Initech", "boss", None),
        ),
    )
    with pytest.raises(InvalidInput) as refused:
        debrief(database, team, first.id, draft)
    fields = {error.field for error in refused.value.errors}
    assert fields == {
        "notes[Weather]",
        "action_items[0].text",
        "action_items[0].due_date",
        "action_items[1].owner",
        "action_items[1].due_date",
        "action_items",
    }
    with database.session() as db:
        assert db.scalars(select(ActionItem)).all() == []


def test_only_the_sessions_manager_records_its_debrief(database, calendar, team):
    first = series_sessions(database, book(database, calendar, team))[0]
    with pytest.raises(NotInOrganization):
        debrief(database, team, first.id, DebriefDraft({}, THREE), manager_id=team.rep_ids[0])


def test_open_items_and_talking_points_reach_the_next_agenda(database, calendar, team):
    first, second, *_ = series_sessions(database, book(database, calendar, team))
    debrief(database, team, first.id, DebriefDraft({}, THREE))
    with database.session() as db:
        done = db.scalar(select(ActionItem).where(ActionItem.text.startswith("Book the demo")))
    complete_action_item(
        database,
        org_id=team.org_id,
        item_id=done.id,
        person_id=team.rep_ids[0],
        done=True,
        now=AFTER_FIRST,
    )
    add_talking_point(
        database,
        org_id=team.org_id,
        session_id=second.id,
        author_id=team.rep_ids[0],
        text="Pricing for <Globex>",
        now=AFTER_FIRST,
    )

    with database.session() as db:
        agenda = session_agenda(db, db.get(Session, second.id), link, today=date(2026, 10, 24))
    assert [item.text for item in agenda.open_items] == [
        "Send the Q4 pipeline review",
        "Quote the CFO's objection verbatim",
    ]
    assert [item.overdue for item in agenda.open_items] == [True, False]
    assert agenda.talking_points == ("Pricing for <Globex>",)
    assert agenda.url.endswith(second.id)
    with database.session() as db:
        own_week = session_agenda(db, db.get(Session, first.id), link, today=date(2026, 10, 24))
    assert own_week.open_items == ()  # a week's own items are not "carried over" into it


def test_another_rep_cannot_complete_or_add_to_a_session(database, calendar, team):
    first = series_sessions(database, book(database, calendar, team))[0]
    debrief(database, team, first.id, DebriefDraft({}, THREE))
    with database.session() as db:
        item_id = db.scalars(select(ActionItem.id)).first()
    other_rep = team.rep_ids[1]
    with pytest.raises(NotInOrganization):
        complete_action_item(
            database,
            org_id=team.org_id,
            item_id=item_id,
            person_id=other_rep,
            done=True,
            now=AFTER_FIRST,
        )
    with pytest.raises(NotInOrganization):
        add_talking_point(
            database,
            org_id=team.org_id,
            session_id=first.id,
            author_id=other_rep,
            text="hi",
            now=AFTER_FIRST,
        )


def test_nothing_is_reachable_from_another_organisation(database, calendar, team):
    from scheduler.usecases.directory import create_organization

    first = series_sessions(database, book(database, calendar, team))[0]
    other_org, other_admin = create_organization(
        database,
        name="Globex",
        admin_email="hank@globex.test",
        admin_name="Hank",
        zone="UTC",
        now=AFTER_FIRST,
    )
    with pytest.raises(NotInOrganization):
        record_debrief(
            database,
            org_id=other_org,
            session_id=first.id,
            manager_id=other_admin,
            draft=DebriefDraft({}, THREE),
            now=AFTER_FIRST + timedelta(hours=1),
        )


def _items(database, session_id):
    with database.session() as db:
        return {
            item.text: (item.id, item.done_at, item.created_at)
            for item in db.scalars(select(ActionItem).where(ActionItem.session_id == session_id))
        }


def rep_marks_done(database, team, item_id):
    complete_action_item(
        database,
        org_id=team.org_id,
        item_id=item_id,
        person_id=team.rep_ids[0],
        done=True,
        now=AFTER_FIRST,
    )


def test_saving_again_edits_items_in_place_and_keeps_done_marks(database, calendar, team):
    first = series_sessions(database, book(database, calendar, team))[0]
    debrief(database, team, first.id, DebriefDraft({}, THREE))
    before = _items(database, first.id)
    demo_id, _, created = before["Book the demo with Initech"]
    rep_marks_done(database, team, demo_id)
    pipeline_id = before["Send the Q4 pipeline review"][0]
    edited = DebriefDraft(
        {},
        (
            ActionItemDraft(
                "Send the Q4 pipeline review", "manager", THREE[0].due_date, pipeline_id
            ),
            ActionItemDraft("Book the demo with Initech (Tue)", "rep", THREE[1].due_date, demo_id),
            ActionItemDraft("Ask Globex for a referral", "rep", date(2026, 10, 30)),
        ),
    )
    later = AFTER_FIRST + timedelta(hours=3)
    record_debrief(
        database,
        org_id=team.org_id,
        session_id=first.id,
        manager_id=team.manager_id,
        draft=edited,
        now=later,
    )
    after = _items(database, first.id)
    # Edited in place: the same item, still done on the day the rep marked it.
    assert after["Book the demo with Initech (Tue)"] == (demo_id, AFTER_FIRST, created)
    assert after["Send the Q4 pipeline review"][0] == pipeline_id
    # The third of the first debrief was left out: deleted. The new one is new.
    assert "Quote the CFO's objection verbatim" not in after
    new_id, new_done, new_created = after["Ask Globex for a referral"]
    assert new_id not in {item_id for item_id, _, _ in before.values()}
    assert (new_done, new_created) == (None, later)


def test_rows_without_ids_keep_the_item_of_the_same_text_and_owner(database, calendar, team):
    """An API client that sends no ids: an unchanged item is the same item, done mark and all."""
    first = series_sessions(database, book(database, calendar, team))[0]
    debrief(database, team, first.id, DebriefDraft({}, THREE))
    demo_id = _items(database, first.id)["Book the demo with Initech"][0]
    rep_marks_done(database, team, demo_id)
    debrief(database, team, first.id, DebriefDraft({"Status update": "typo fixed"}, THREE))
    assert _items(database, first.id)["Book the demo with Initech"][:2] == (demo_id, AFTER_FIRST)
