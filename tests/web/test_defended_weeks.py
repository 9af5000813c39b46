"""Defending the slot on the manager's pages: "refresh now" records a new conflict, and the
series page says which weeks were moved to avoid one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from scheduler.defend import ConflictState
from scheduler.models import Session, SlotConflict
from scheduler.usecases.sessions import reclassify
from scheduler.usecases.slot_conflicts import transition
from tests.web.conftest import NOW
from tests.web.test_manager import book_top_slot, refresh_now


def test_refresh_now_records_a_new_conflict_and_the_series_page_tells_a_defended_week(
    client, make_org, calendar, database
):
    org = make_org(client)
    answer, _ = book_top_slot(client, org.rep_ids[1])
    series_url = answer.headers["Location"]
    with database.session() as db:
        # The first week: inside the 14 days Cadence defends.
        week = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    dentist = week.scheduled_start - timedelta(minutes=15)
    calendar.add_busy("lena@acme.test", dentist, dentist + timedelta(hours=1), label="Dentist")

    refresh_now(client, series_url)

    with database.session() as db:
        (conflict,) = db.scalars(select(SlotConflict)).all()
        assert (conflict.session_id, conflict.state) == (week.id, ConflictState.PENDING)
        # As the notice run leaves it after moving the week automatically.
        transition(
            db,
            org_id=org.org_id,
            conflict_id=conflict.id,
            expected=[ConflictState.PENDING],
            to=ConflictState.MOVED_AUTOMATICALLY,
            moved_to=week.scheduled_start + timedelta(days=1),
            settled_at=NOW,
        )
        moved = db.get(Session, week.id)
        moved.current_start = week.scheduled_start + timedelta(days=1)
        moved.current_end = week.scheduled_end + timedelta(days=1)
        reclassify(db, [moved], now=NOW)
    assert "Moved automatically to avoid a conflict" in client.get(series_url).get_data(
        as_text=True
    )
