"""Times on the viewer's wall clock, always with the zone named."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from scheduler.recurrence import WeeklySlot
from web.timefmt import beside, local_date, local_time, wall_clock_changes, weekly

# Monday 26 October 2026, 9:00 in New York (EDT) = 13:00 UTC.
MEETING = datetime(2026, 10, 26, 13, 0, tzinfo=UTC)


def test_a_manager_in_new_york_and_a_rep_in_london_each_see_their_own_time():
    assert (
        local_time(MEETING, "America/New_York") == "Mon 26 Oct 2026, 09:00 EDT (America/New_York)"
    )
    assert local_time(MEETING, "Europe/London") == "Mon 26 Oct 2026, 13:00 GMT (Europe/London)"
    assert local_date(MEETING, "Asia/Tokyo") == "Mon 26 Oct 2026"
    assert local_time(None, "UTC") == ""


def test_a_zone_whose_abbreviation_is_its_name_is_named_once():
    assert local_time(MEETING, "UTC") == "Mon 26 Oct 2026, 13:00 UTC"


def test_the_reps_wall_clock_shifts_while_the_two_countries_clocks_differ():
    slot = WeeklySlot(0, time(9), timedelta(minutes=30), "America/New_York")
    starts = [slot.start_on(date(2026, 10, 26) + timedelta(weeks=w)) for w in range(3)]
    changes = wall_clock_changes(starts, "Europe/London")
    assert [clock for _, clock in changes] == ["13:00 GMT", "14:00 GMT"]
    assert changes[1][0].date() == date(2026, 11, 2)
    # The organiser's own wall clock does not move: one entry, whatever the abbreviation.
    assert [clock for _, clock in wall_clock_changes(starts, "America/New_York")] == ["09:00 EDT"]


def test_weekly_names_day_time_and_zone():
    assert weekly(1, "09:30", "Europe/Paris") == "Tuesdays at 09:30 (Europe/Paris)"
    assert weekly(4, time(16), "UTC") == "Fridays at 16:00 (UTC)"


def test_beside_names_the_other_persons_day_only_when_it_differs():
    assert beside(MEETING, "Europe/London", "America/New_York") == "13:00 GMT"
    # 13:00 UTC is 02:00 the next day in Auckland (NZDT).
    assert beside(MEETING, "Pacific/Auckland", "America/New_York") == "Tue 02:00 NZDT"
