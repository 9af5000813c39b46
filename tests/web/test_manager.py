"""The manager's pages: team, CSV import, proposals, booking, conflicts, moves, debriefs."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from scheduler.models import ActionItem, Person, Series, Session
from tests.web.conftest import post, set_password, sign_in


@pytest.fixture
def org(client, make_org):
    return make_org(client)


def book_top_slot(client, rep_id: str):  # type: ignore[no-untyped-def]
    """Book the first proposal on the rep's slot page, as the button would."""
    page = client.get(f"/manager/reps/{rep_id}/slots").get_data(as_text=True)
    form = page[page.index(f'action="/manager/reps/{rep_id}/book"') :]
    fields = dict(
        re.findall(r'name="(weekday|local_time|minutes|zone|first_day)" value="([^"]*)"', form)[:5]
    )
    return post(client, f"/manager/reps/{rep_id}/book", fields, page="/manager/team"), fields


def refresh_now(client, page_url: str):  # type: ignore[no-untyped-def]
    """Press the page's "Refresh now" button, as a browser would."""
    page = client.get(page_url).get_data(as_text=True)
    form = page[page.index('action="/manager/availability/refresh"') :]
    form = form[: form.index("</form>")]
    fields = re.findall(r'name="(next|rep_id)" value="([^"]*)"', form)
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return post(client, "/manager/availability/refresh", data, page=page_url)


def test_adding_a_rep_puts_them_on_the_team(client, org, database):
    answer = post(
        client,
        "/manager/team/reps",
        {"email": "ana@acme.test", "name": "Ana", "zone": "Europe/Madrid"},
        page="/manager/team",
    )
    assert answer.status_code == 302
    page = client.get("/manager/team").get_data(as_text=True)
    assert "Ana" in page and "Europe/Madrid" in page and "Find a weekly slot" in page


def test_an_invalid_rep_shows_each_error_beside_its_field(client, org):
    answer = post(
        client,
        "/manager/team/reps",
        {"email": "nope", "name": "X", "zone": "Mars/Base"},
        page="/manager/team",
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="e-email"' in page and 'id="e-zone"' in page and "Unknown time zone" in page


def test_csv_import_reports_every_row_and_adds_none_while_one_is_wrong(client, org, database):
    csv = (
        "manager_email,rep_email,rep_name,rep_zone\n"
        "pat@acme.test,ana@acme.test,Ana,Europe/Madrid\n"
        "pat@acme.test,bad-address,Bad,UTC\n"
        "nobody@acme.test,carl@acme.test,Carl,UTC\n"
        "pat@acme.test,dee@acme.test,Dee,Nowhere/Zone\n"
    )
    answer = post(
        client,
        "/manager/team/import",
        {"file": (io.BytesIO(csv.encode()), "team.csv")},
        page="/manager/team",
        content_type="multipart/form-data",
    )
    page = answer.get_data(as_text=True)
    assert "Nothing was imported: fix the rows marked below" in page
    assert page.count("Not added") == 3 and page.count("Fine, not added") == 1
    assert "No manager &#39;nobody@acme.test&#39;" in page
    assert "rep_email: Give a valid email address." in page
    assert "Unknown time zone" in page
    with database.session() as db:
        assert db.scalar(select(func.count()).where(Person.email == "ana@acme.test")) == 0
        assert db.scalar(select(func.count()).where(Person.email == "carl@acme.test")) == 0


def test_csv_with_the_wrong_header_is_refused(client, org):
    answer = post(
        client,
        "/manager/team/import",
        {"file": (io.BytesIO(b"email,name\na@b.test,A\n"), "team.csv")},
        page="/manager/team",
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400
    assert "missing manager_email" in answer.get_data(as_text=True)


def test_proposals_show_rep_local_times_and_conflicting_weeks(client, org, calendar):
    # Lena (London) is busy every Monday 9:00-9:30 New York time for the next weeks.
    first = datetime(2026, 10, 26, 13, 0, tzinfo=UTC)
    for week in range(13):
        start = first + timedelta(weeks=week)
        calendar.add_busy(
            "lena@acme.test", start, start + timedelta(minutes=30), label="Pipeline call"
        )
    page = client.get(f"/manager/reps/{org.rep_ids[1]}/slots").get_data(as_text=True)
    assert "Best" in page
    assert "(Europe/London)" in page and "(America/New_York)" in page
    assert calendar.calls["free_busy"] == 1


def test_booking_the_top_slot_and_double_submit_books_once(client, org, calendar, database):
    answer, fields = book_top_slot(client, org.rep_ids[0])
    assert answer.status_code == 302
    series_url = answer.headers["Location"]
    again = post(client, f"/manager/reps/{org.rep_ids[0]}/book", fields, page="/manager/team")
    assert again.headers["Location"] == series_url
    assert calendar.calls["create_series"] == 1
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(Series)) == 1
    other = dict(fields, local_time="16:00")
    third = post(client, f"/manager/reps/{org.rep_ids[0]}/book", other, page="/manager/team")
    assert third.headers["Location"] == series_url
    assert "already has a weekly 1:1" in client.get(series_url).get_data(as_text=True)


def test_the_series_page_shows_a_conflict_and_moves_one_week(client, org, calendar, database):
    answer, _ = book_top_slot(client, org.rep_ids[1])
    series_url = answer.headers["Location"]
    with database.session() as db:
        third = db.scalars(select(Session).order_by(Session.scheduled_start)).all()[2]
    # Not exactly the occurrence's own span: that would be the 1:1 itself in her calendar.
    dentist = third.scheduled_start - timedelta(minutes=15)
    calendar.add_busy("lena@acme.test", dentist, dentist + timedelta(hours=1), label="Dentist")
    # The page answers from the busy time read when the slots were proposed...
    assert "Dentist" not in client.get(series_url).get_data(as_text=True)
    # ...until it is read again: "Refresh now" reads both calendars and comes back.
    refreshed = refresh_now(client, series_url)
    assert refreshed.headers["Location"] == series_url
    page = client.get(series_url).get_data(as_text=True)
    assert "Conflict" in page and "Dentist" in page
    assert "(Europe/London)" in page  # the rep's own time beside the manager's
    moves = re.findall(r'name="start" value="([^"]+)"', page)
    assert moves, page
    moved = post(client, f"/manager/sessions/{third.id}/move", {"start": moves[0]}, page=series_url)
    assert moved.status_code == 302
    assert calendar.calls["move_occurrence"] == 1
    with database.session() as db:
        row = db.get(Session, third.id)
        assert row.current_start == datetime.fromisoformat(moves[0])
        assert row.current_start.isocalendar()[1] == row.scheduled_start.isocalendar()[1]
    assert "Moved · upcoming week" in client.get(series_url).get_data(as_text=True)


def test_cancelling_one_week(client, org, calendar, database):
    answer, _ = book_top_slot(client, org.rep_ids[0])
    with database.session() as db:
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    post(client, f"/manager/sessions/{first.id}/cancel", page=answer.headers["Location"])
    assert calendar.calls["cancel_occurrence"] == 1
    with database.session() as db:
        assert db.get(Session, first.id).cancelled


def test_booking_without_a_calendar_says_what_to_do(client, make_org, database):
    org = make_org(client)
    with database.session() as db:
        from scheduler.models import CalendarConnection, ConnectionStatus

        db.scalar(select(CalendarConnection)).status = ConnectionStatus.RECONNECT_REQUIRED
    page = client.get(f"/manager/reps/{org.rep_ids[0]}/slots").get_data(as_text=True)
    assert "needs reconnecting" in page
    assert 'role="alert"' in page  # the banner on every page


def first_session(client, org, database, clock=None):  # type: ignore[no-untyped-def]
    """Book the first rep's series; with ``clock``, move it to the first 1:1's end (a
    debrief is for a meeting that has taken place)."""
    book_top_slot(client, org.rep_ids[0])
    with database.session() as db:
        row = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    if clock is not None:
        clock.now = row.scheduled_end
    return row


def test_a_debrief_with_errors_shows_each_beside_its_field(client, org, database, clock):
    row = first_session(client, org, database, clock)
    url = f"/manager/sessions/{row.id}"
    answer = post(
        client,
        f"{url}/debrief",
        {
            "note-0": "Pipeline is healthy",
            "items-0-text": "Call Acme",
            "items-0-owner": "rep",
            "items-0-due_date": "",
            "items-1-text": "",
            "items-1-owner": "rep",
            "items-1-due_date": "2026-11-30",
            "items-2-text": "Send deck",
            "items-2-owner": "rep",
            "items-2-due_date": "2020-01-01",
            "items-3-text": "",
            "items-3-owner": "rep",
            "items-3-due_date": "",
        },
        page=url,
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="e-items-0-due_date"' in page
    assert 'id="e-items-1-text"' in page
    assert 'id="e-items-2-due_date"' in page and "before the session" in page
    assert "The manager must own at least one item." in page
    assert "Pipeline is healthy" in page  # what was typed survives
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(ActionItem)) == 0


def test_a_debrief_with_three_items_is_recorded(client, org, database, clock):
    row = first_session(client, org, database, clock)
    url = f"/manager/sessions/{row.id}"
    page = client.get(url).get_data(as_text=True)
    assert page.count('name="items-') >= 9  # at least three rows of three fields
    due = "2026-11-30"
    answer = post(
        client,
        f"{url}/debrief",
        {
            "note-1": "Role-played the discovery call",
            **{f"items-{i}-text": f"Action {i}" for i in range(3)},
            "items-0-owner": "manager",
            "items-1-owner": "rep",
            "items-2-owner": "rep",
            **{f"items-{i}-due_date": due for i in range(3)},
            "items-3-text": "",
            "items-3-owner": "rep",
            "items-3-due_date": "",
        },
        page=url,
    )
    assert answer.status_code == 302, re.findall(r'class="error"[^>]*>([^<]*)', answer.text)
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(ActionItem)) == 3
    items = client.get("/manager/action-items").get_data(as_text=True)
    assert "Action 0" in items and "Action 2" in items


def test_changing_the_weekly_time_ends_the_old_series_and_books_the_new(
    client, org, calendar, database
):
    answer, _ = book_top_slot(client, org.rep_ids[0])
    series_url = answer.headers["Location"]
    old_id = series_url.rsplit("/", 1)[1]
    assert "Change the weekly time" in client.get(series_url).get_data(as_text=True)

    page = client.get(f"/manager/reps/{org.rep_ids[0]}/slots?change=1").get_data(as_text=True)
    assert "A new standing time instead of" in page
    form = page[page.index(f'action="/manager/series/{old_id}/retime"') :]
    fields = dict(
        re.findall(r'name="(weekday|local_time|minutes|zone|first_day)" value="([^"]*)"', form)[:5]
    )
    moved = post(client, f"/manager/series/{old_id}/retime", fields, page=series_url)

    assert moved.status_code == 302
    new_id = moved.headers["Location"].rsplit("/", 1)[1]
    assert new_id != old_id
    with database.session() as db:
        assert db.get(Series, old_id).status == "ended"
        new = db.get(Series, new_id)
        assert (new.status, new.previous_series_id) == ("active", old_id)
        assert new.local_time == fields["local_time"]
    assert calendar.calls["end_series"] == 1 and calendar.calls["create_series"] == 2


def test_ending_a_series_needs_a_day_after_today(client, org, calendar, database):
    answer, _ = book_top_slot(client, org.rep_ids[0])
    series_url = answer.headers["Location"]
    series_id = series_url.rsplit("/", 1)[1]

    refused = post(
        client,
        f"/manager/series/{series_id}/end",
        {"from_day": "2026-10-19"},
        page=series_url,
        follow_redirects=True,
    )
    assert "Choose a day after today" in refused.get_data(as_text=True)
    assert calendar.calls["end_series"] == 0

    ended = post(
        client, f"/manager/series/{series_id}/end", {"from_day": "2026-11-02"}, page=series_url
    )
    assert ended.status_code == 302
    with database.session() as db:
        series = db.get(Series, series_id)
        assert (series.status, series.until.isoformat()) == ("ended", "2026-11-01")
    assert calendar.calls["end_series"] == 1


def test_another_managers_series_cannot_be_ended(client, org, calendar, make_org, app):
    answer, _ = book_top_slot(client, org.rep_ids[0])
    series_id = answer.headers["Location"].rsplit("/", 1)[1]
    stranger = app.test_client()
    make_org(
        stranger,
        email="hank@globex.test",
        organization="Globex",
        reps=(("ann@globex.test", "Ann", "UTC"),),
    )
    refused = post(
        stranger,
        f"/manager/series/{series_id}/end",
        {"from_day": "2026-11-02"},
        page="/manager/team",
    )
    assert refused.status_code == 404
    assert calendar.calls["end_series"] == 0


def test_a_managers_own_agenda_is_validated_saved_and_used_by_new_series(
    client, org, calendar, database
):
    page = client.get("/manager/agenda").get_data(as_text=True)
    assert "You use the organisation's agenda" in page and "Status update" in page

    refused = post(
        client,
        "/manager/agenda",
        {"topic-0-title": "Pipeline", "topic-0-prompt": "", "topic-1-title": "pipeline"},
        page="/manager/agenda",
    )
    assert refused.status_code == 400
    assert 'id="e-topic-1-title"' in refused.get_data(as_text=True)

    saved = post(
        client,
        "/manager/agenda",
        {"topic-0-title": "Pipeline", "topic-0-prompt": "Deal by deal", "topic-1-title": "Wins"},
        page="/manager/agenda",
    )
    assert saved.status_code == 302
    assert "This is your own agenda" in client.get("/manager/agenda").get_data(as_text=True)

    answer, _ = book_top_slot(client, org.rep_ids[0])
    with database.session() as db:
        series = db.get(Series, answer.headers["Location"].rsplit("/", 1)[1])
        assert [t["title"] for t in series.template_topics] == ["Pipeline", "Wins"]
    event = next(iter(calendar.events.values()))
    assert "Pipeline" in event.spec.agenda.text and "Status update" not in event.spec.agenda.text

    post(client, "/manager/agenda/reset", page="/manager/agenda")
    assert "You use the organisation's agenda" in client.get("/manager/agenda").get_data(
        as_text=True
    )


def test_a_rep_has_no_agenda_editor(app, client, org, database):
    set_password(database, "george@acme.test")
    george = app.test_client()
    sign_in(george, "george@acme.test")
    assert george.get("/manager/agenda").status_code == 403


def test_a_tampered_booking_form_with_a_past_first_day_shows_the_error(
    client, org, calendar, database
):
    page = client.get(f"/manager/reps/{org.rep_ids[0]}/slots").get_data(as_text=True)
    form = page[page.index(f'action="/manager/reps/{org.rep_ids[0]}/book"') :]
    fields = dict(
        re.findall(r'name="(weekday|local_time|minutes|zone|first_day)" value="([^"]*)"', form)[:5]
    )
    answer = post(
        client,
        f"/manager/reps/{org.rep_ids[0]}/book",
        dict(fields, first_day="2026-09-01"),
        page="/manager/team",
    )
    assert answer.headers["Location"].endswith(f"/manager/reps/{org.rep_ids[0]}/slots")
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "First day: The first 1:1 would be in the past" in shown
    assert calendar.calls["create_series"] == 0
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(Series)) == 0


def test_the_form_refuses_a_debrief_of_a_cancelled_week_and_says_why(client, org, database, clock):
    first = first_session(client, org, database)
    post(client, f"/manager/sessions/{first.id}/cancel", page="/manager/team")
    clock.now = first.scheduled_end
    url = f"/manager/sessions/{first.id}"
    answer = post(
        client,
        f"{url}/debrief",
        {
            "note-0": "We met anyway",
            **{f"items-{i}-text": f"Action {i}" for i in range(3)},
            "items-0-owner": "manager",
            "items-1-owner": "rep",
            "items-2-owner": "rep",
            **{f"items-{i}-due_date": "2026-11-30" for i in range(3)},
        },
        page=url,
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "This 1:1 was cancelled: it cannot be debriefed. Nothing was saved." in page
    assert "Cancelled by the manager" in page  # its state, in the reports' words
    assert "We met anyway" in page  # what was typed is still there
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(ActionItem)) == 0
        assert db.get(Session, first.id).outcome != "held"


def test_editing_a_debrief_on_its_page_keeps_the_reps_done_mark(client, org, database, clock):
    row = first_session(client, org, database, clock)
    url = f"/manager/sessions/{row.id}"
    form = {
        **{f"items-{i}-text": f"Action {i}" for i in range(4)},
        "items-0-owner": "manager",
        **{f"items-{i}-owner": "rep" for i in range(1, 4)},
        **{f"items-{i}-due_date": "2026-11-30" for i in range(4)},
    }
    assert post(client, f"{url}/debrief", form, page=url).status_code == 302
    with database.session() as db:
        done = db.scalar(select(ActionItem).where(ActionItem.text == "Action 1"))
        done.done_at = clock.now
        done_id = done.id
    page = client.get(url).get_data(as_text=True)
    ids = dict(re.findall(r'name="items-(\d+)-id" value="([^"]*)"', page))
    found = re.findall(r'name="items-(\d+)-text" value="([^"]*)"', page)
    rows = {text: n for n, text in found if text}
    assert ids[rows["Action 1"]] == done_id
    # The page's rows, as the manager edits them: one reworded, one cleared, one added.
    edited = {}
    for text, n in rows.items():
        edited[f"items-{n}-id"] = ids[n]
        edited[f"items-{n}-text"] = {"Action 1": "Action 1, with the CFO", "Action 2": ""}.get(
            text, text
        )
        edited[f"items-{n}-owner"] = "manager" if text == "Action 0" else "rep"
        edited[f"items-{n}-due_date"] = "" if text == "Action 2" else "2026-11-30"
    spare = "4"  # the first spare row
    edited.update({f"items-{spare}-text": "Action 4", f"items-{spare}-owner": "rep"})
    edited[f"items-{spare}-due_date"] = "2026-12-01"
    assert post(client, f"{url}/debrief", edited, page=url).status_code == 302
    with database.session() as db:
        items = {item.text: item for item in db.scalars(select(ActionItem))}
    assert set(items) == {"Action 0", "Action 1, with the CFO", "Action 3", "Action 4"}
    kept = items["Action 1, with the CFO"]
    assert (kept.id, kept.done_at) == (done_id, clock.now)
