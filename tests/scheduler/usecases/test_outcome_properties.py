"""Random histories through the use cases: bookings, calendar changes in random order,
debriefs and a clock that moves on. Whatever happened, and in whatever order:

- nothing in the future is counted (a counted week's meeting has started);
- expected = held + undocumented + moved + rescheduled + cancelled + declined + stopped;
- each week's stored outcome is what its facts give as of now (``week_state``), so it
  depends on the facts alone, not on the order of the events that made them.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from integrations.base import CalendarChange, ChangeKind, Response
from scheduler.crypto import TokenCipher
from scheduler.debrief import ActionItemDraft, DebriefDraft
from scheduler.models import ActionItem, Organization, Provider, Series, Session
from scheduler.outcomes import SessionOutcome, classify_session
from scheduler.reports import ReportScope, organisation_overview
from scheduler.usecases.booking import book_series
from scheduler.usecases.calendar_sync import sync_connection
from scheduler.usecases.connections import save_connection
from scheduler.usecases.debriefing import DebriefRefused, record_debrief
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.sessions import session_facts
from scheduler.usecases.upkeep import reclassify_past_sessions
from scheduler.usecases.weeks import cancel_session
from tests.memory_provider import MemoryCalendar
from tests.scheduler.usecases.conftest import MONDAY, NOW, link, make_team
from tests.scheduler.usecases.test_booking import TUESDAY_NINE

WEEKS = 6  # the weeks the events touch (of the 13 booked)

week = st.integers(0, WEEKS - 1)
event = st.one_of(
    st.tuples(st.just("cancel"), week),
    st.tuples(st.just("decline"), week),
    st.tuples(st.just("accept"), week),
    st.tuples(st.just("move"), week, st.integers(-2, 2)),  # days: within its week or not
    st.tuples(st.just("reschedule"), week, st.sampled_from([-7, 6, 8])),
    st.tuples(
        st.just("delete_series"),
    ),
    st.tuples(st.just("debrief"), week),
    st.tuples(
        st.just("sync"),
    ),
    st.tuples(st.just("clock"), st.integers(1, 24 * 9)),  # hours forward
)


def _world(database, token_key):  # type: ignore[no-untyped-def]
    team = make_team(database)
    org_id, manager_id, rep_id = team.org_id, team.manager_id, team.rep_ids[0]
    connection_id = save_connection(
        database,
        TokenCipher([token_key]),
        org_id=org_id,
        person_id=manager_id,
        provider=Provider.GOOGLE,
        account_email="pat@acme.test",
        grant=b"{}",
        now=NOW,
    )
    calendar = MemoryCalendar()
    series_id = book_series(
        database,
        calendar,
        org_id=org_id,
        manager_id=manager_id,
        rep_id=rep_id,
        connection_id=connection_id,
        slot=TUESDAY_NINE,
        first_day=MONDAY,
        link=link,
        now=NOW,
    )
    return org_id, manager_id, connection_id, series_id, calendar


DRAFT = DebriefDraft(
    {},
    (
        ActionItemDraft("Send the pipeline review", "manager", date(2027, 1, 4)),
        ActionItemDraft("Book the demo", "rep", date(2027, 1, 4)),
        ActionItemDraft("Quote the objection", "rep", date(2027, 1, 4)),
    ),
)


@settings(
    max_examples=12,  # modest: each example books and syncs a series (a few seconds in all)
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=st.lists(event, max_size=14))
def test_random_histories_keep_the_outcome_invariants(database, token_key, events):
    org_id, manager_id, connection_id, series_id, calendar = _world(database, token_key)
    with database.session() as db:
        starts = list(
            db.scalars(
                select(Session.scheduled_start)
                .where(Session.series_id == series_id)
                .order_by(Session.scheduled_start)
            )
        )
    now = NOW

    def change(kind: ChangeKind, k: int | None = None, **fields) -> CalendarChange:  # type: ignore[no-untyped-def]
        original = starts[k] if k is not None else None
        return CalendarChange(
            kind=kind, series_id=series_id, provider_event_id="e", original_start=original, **fields
        )

    for name, *args in events:
        if name == "cancel":
            with database.session() as db:
                session_id = db.scalar(
                    select(Session.id).where(
                        Session.series_id == series_id, Session.scheduled_start == starts[args[0]]
                    )
                )
            if session_id is not None:
                cancel_session(
                    database,
                    calendar,
                    org_id=org_id,
                    session_id=session_id,
                    actor_id=manager_id,
                    link=link,
                    now=now,
                )
        elif name in ("decline", "accept"):
            answer = Response.DECLINED if name == "decline" else Response.ACCEPTED
            calendar.feed.append(
                change(
                    ChangeKind.ATTENDEE_RESPONDED,
                    args[0],
                    response=answer,
                    attendee_email="george@acme.test",
                )
            )
        elif name in ("move", "reschedule"):
            shift = timedelta(days=args[1])
            calendar.feed.append(
                change(
                    ChangeKind.OCCURRENCE_MOVED,
                    args[0],
                    new_start=starts[args[0]] + shift,
                    new_end=starts[args[0]] + shift + TUESDAY_NINE.duration,
                )
            )
        elif name == "delete_series":
            calendar.feed.append(change(ChangeKind.SERIES_DELETED))
        elif name == "debrief":
            with database.session() as db:
                session_id = db.scalar(
                    select(Session.id).where(
                        Session.series_id == series_id, Session.scheduled_start == starts[args[0]]
                    )
                )
            try:
                if session_id is not None:
                    record_debrief(
                        database,
                        org_id=org_id,
                        session_id=session_id,
                        manager_id=manager_id,
                        draft=DRAFT,
                        now=now,
                    )
            except (DebriefRefused, InvalidInput):
                pass  # not started, did not take place, or due dates before it: refused
        elif name == "sync":
            sync_connection(database, calendar, org_id=org_id, connection_id=connection_id, now=now)
        else:
            now += timedelta(hours=args[0])
            reclassify_past_sessions(database, now=now)
    sync_connection(database, calendar, org_id=org_id, connection_id=connection_id, now=now)
    reclassify_past_sessions(database, now=now)

    with database.session() as db:
        org = db.get(Organization, org_id)
        series = db.get(Series, series_id)
        rows = list(db.scalars(select(Session).where(Session.series_id == series_id)))
        grace = timedelta(hours=org.grace_hours)
        for row in rows:
            items = db.scalar(
                select(func.count()).select_from(ActionItem).where(ActionItem.session_id == row.id)
            )
            facts = session_facts(row, series, org, items)
            # Its facts alone decide it, whatever order the events came in.
            assert row.outcome == classify_session(facts, now=now, grace=grace), row
            if row.outcome != SessionOutcome.UPCOMING:
                # Nothing in the future is counted: the meeting (moved or not) has started.
                assert facts.occurs.start <= now, row
                if row.outcome != SessionOutcome.HELD:
                    assert facts.occurs.end <= now, row
        scope = ReportScope(org_id, MONDAY - timedelta(weeks=1), MONDAY + timedelta(weeks=20))
        totals = organisation_overview(db, scope, today=now.date()).totals
    expected = [row for row in rows if row.outcome not in ("excused", "upcoming")]
    assert totals.expected == len(expected)
    assert totals.expected == (
        totals.held
        + totals.undocumented
        + totals.moved
        + totals.rescheduled
        + totals.cancelled
        + totals.declined
        + totals.stopped
    )
    assert totals.upcoming == sum(row.outcome == "upcoming" for row in rows)
