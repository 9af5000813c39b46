"""The series page says each week's state in the reports' words, and that a week known
ahead of its time is still to come."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from integrations.base import CalendarChange, ChangeKind, Response
from scheduler.intervals import BusyKind
from scheduler.models import CalendarConnection, Session
from scheduler.usecases.calendar_sync import sync_connection
from scheduler.usecases.excusals import mark_excused_weeks
from tests.web.conftest import NOW, post
from tests.web.test_manager import book_top_slot, refresh_now


def _row(page: str, session_id: str) -> str:
    start = page.index(f'<td><a href="/manager/sessions/{session_id}"')  # its row, not a note
    return page[start : page.index("</tr>", start)]


def test_each_week_shows_its_state_in_the_reports_words(client, make_org, calendar, database):
    org = make_org(client)
    answer, _ = book_top_slot(client, org.rep_ids[1])
    series_url = answer.headers["Location"]
    with database.session() as db:
        weeks = db.scalars(select(Session).order_by(Session.scheduled_start)).all()
        connection_id = db.scalar(select(CalendarConnection.id))
    series_id = weeks[0].series_id
    post(client, f"/manager/sessions/{weeks[1].id}/cancel", page=series_url)
    calendar.feed += [
        CalendarChange(
            kind=ChangeKind.ATTENDEE_RESPONDED,
            series_id=series_id,
            provider_event_id="e",
            original_start=weeks[2].scheduled_start,
            response=Response.DECLINED,
            attendee_email="lena@acme.test",
        ),
        CalendarChange(
            kind=ChangeKind.OCCURRENCE_MOVED,
            series_id=series_id,
            provider_event_id="e",
            original_start=weeks[3].scheduled_start,
            new_start=weeks[3].scheduled_start + timedelta(weeks=1, days=1),
            new_end=weeks[3].scheduled_end + timedelta(weeks=1, days=1),
        ),
    ]
    sync_connection(database, calendar, org_id=org.org_id, connection_id=connection_id, now=NOW)
    start = weeks[4].scheduled_start
    calendar.add_busy("lena@acme.test", start - timedelta(minutes=15), start + timedelta(hours=1))
    away = weeks[5].scheduled_start
    calendar.add_busy(
        "lena@acme.test",
        away - timedelta(days=1),
        away + timedelta(days=1),
        kind=BusyKind.OUT_OF_OFFICE,
    )
    mark_excused_weeks(
        database,
        calendar,
        org_id=org.org_id,
        manager_id=org.manager_id,
        from_day=NOW.date(),
        weeks=13,
        now=NOW,
    )

    refresh_now(client, series_url)  # the page reads the stored busy time
    page = client.get(series_url).get_data(as_text=True)
    assert "Cancelled by the manager · upcoming week" in _row(page, weeks[1].id)
    declined = _row(page, weeks[2].id)
    assert "Declined · upcoming week" in declined and "Clear" not in declined
    assert "Rescheduled · upcoming week" in _row(page, weeks[3].id)
    assert "Conflict" in _row(page, weeks[4].id)
    assert "Excused · upcoming week" in _row(page, weeks[5].id)
    assert "Upcoming" in _row(page, weeks[6].id)

    calendar.unreadable.add("lena@acme.test")  # her calendar can no longer be read
    refresh_now(client, series_url)
    page = client.get(series_url).get_data(as_text=True)
    assert "Not readable" in _row(page, weeks[6].id) and "lena@acme.test" in _row(page, weeks[6].id)
    assert "Cancelled by the manager · upcoming week" in _row(page, weeks[1].id)
