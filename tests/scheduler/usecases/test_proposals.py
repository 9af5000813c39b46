from datetime import UTC, datetime, time, timedelta

from scheduler.intervals import Interval
from scheduler.usecases.proposals import propose_slots
from scheduler.usecases.stored_availability import live_reader, read_availability
from tests.memory_provider import MemoryCalendar
from tests.scheduler.usecases.conftest import MONDAY

WINDOW = Interval(datetime(2026, 10, 19, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC))


def test_the_manager_connection_reads_the_whole_team_in_one_call(database, calendar, team):
    # The manager is busy every Monday 9:00-12:00 New York time for the whole horizon.
    for week in range(14):
        start = datetime(2026, 10, 19, 13, tzinfo=UTC) + timedelta(weeks=week)
        calendar.add_busy("pat@acme.test", start, start + timedelta(hours=3))

    proposals = propose_slots(
        database,
        live_reader(calendar),
        org_id=team.org_id,
        manager_id=team.manager_id,
        rep_ids=team.rep_ids,
        first_day=MONDAY,
    )

    assert calendar.calls["free_busy"] == 1
    assert [p.rep_id for p in proposals] == team.rep_ids
    for proposal in proposals:
        best = proposal.candidates[0]
        assert best.free_in_every_known_week and best.fully_known
        assert not (best.slot.weekday == 0 and time(9) <= best.slot.local_time < time(12))
    # Lena works 9-17 in London: her best slot lies inside her working hours too.
    lena = proposals[1].candidates[0]
    assert all(time(9) <= start.time() for start in lena.rep_starts)


def test_a_calendar_nobody_can_read_is_unknown_never_free(calendar):
    calendar.unreadable.add("george@acme.test")
    seen = read_availability(calendar, ["pat@acme.test", "george@acme.test"], WINDOW)
    assert seen["george@acme.test"].unknown == (WINDOW,)
    assert seen["pat@acme.test"].unknown == ()


def test_a_reps_own_calendar_speaks_for_them(calendar):
    # A CalDAV manager cannot read the rep's calendar; the rep connected their own.
    calendar.unreadable.add("george@acme.test")
    own = MemoryCalendar()
    own.add_busy("george@acme.test", WINDOW.start, WINDOW.start + timedelta(hours=1))

    seen = read_availability(
        calendar, ["pat@acme.test", "george@acme.test"], WINDOW, {"george@acme.test": own}
    )

    assert seen["george@acme.test"].unknown == ()
    assert [b.start for b in seen["george@acme.test"].busy] == [WINDOW.start]
    assert (calendar.calls["free_busy"], own.calls["free_busy"]) == (1, 1)
