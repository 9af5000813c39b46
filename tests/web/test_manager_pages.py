"""The manager's pages tell the truth and lead somewhere: unreadable weeks, no common hours,
confirmations, own action items, the first week of a change, proposals and booking words."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from scheduler.debrief import ActionItemDraft, DebriefDraft
from scheduler.models import ActionItem, CalendarConnection, Person, Provider, Series, Session
from scheduler.usecases.debriefing import record_debrief
from scheduler.usecases.upkeep import reclassify_past_sessions
from tests.web.conftest import NOW, post, set_password, sign_in
from tests.web.test_manager import book_top_slot


@pytest.fixture
def org(client, make_org):
    return make_org(client)


def proposal_cards(page: str) -> list[str]:
    """Each proposal card's text, in the order shown."""
    return re.findall(r'<li class="card">(.*?)</li>\s*(?=<li class="card">|</ol>)', page, re.S)


def test_unreadable_weeks_are_never_called_free(client, org, calendar):
    calendar.unreadable.add("lena@acme.test")
    page = client.get(f"/manager/reps/{org.rep_ids[1]}/slots").get_data(as_text=True)
    cards = proposal_cards(page)
    assert cards, page
    assert "Free for both every week" not in page
    assert all("Not readable: 13 weeks" in card for card in cards)
    assert "Best guess" in cards[0] and ">Best<" not in page


def test_a_fully_known_free_slot_is_best_and_says_so(client, org, calendar):
    page = client.get(f"/manager/reps/{org.rep_ids[0]}/slots").get_data(as_text=True)
    first = proposal_cards(page)[0]
    assert ">Best<" in first and "Free for both every week" in first
    assert "Not readable" not in page


def test_no_common_working_hours_explains_why_and_the_ways_out(client, make_org, database):
    """Los Angeles 08-17 and Kolkata 10-18 share no minute: the page says so, never a 500."""
    org = make_org(client, reps=(("ravi@acme.test", "Ravi", "Asia/Kolkata"),))
    with database.session() as db:
        manager = db.get(Person, org.manager_id)
        manager.zone = "America/Los_Angeles"
        manager.working_hours = {str(day): [["08:00", "17:00"]] for day in range(5)}
        db.get(Person, org.rep_ids[0]).working_hours = {
            str(day): [["10:00", "18:00"]] for day in range(5)
        }
    answer = client.get(f"/manager/reps/{org.rep_ids[0]}/slots")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page
    assert "No time inside both working days" in page
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    # both people's hours, each in their own zone and on both clocks
    assert "Mon-Fri 08:00-17:00 (America/Los_Angeles)" in text
    assert "Mon-Fri 10:00-18:00 (Asia/Kolkata)" in text
    # drawn on the tightest week (Los Angeles on standard time from 1 November)
    assert "Both working days on Tuesday 03 Nov" in text
    assert "Tue 08:00 PST–Tue 17:00 PST" in text  # the manager's day on their clock
    assert "Tue 21:30 IST–Wed 06:30 IST" in text  # ... and on Ravi's
    assert "Mon 20:30 PST–Tue 04:30 PST" in text  # Ravi's Tuesday on the manager's clock
    assert "your working days never overlap" in text
    # the ways out: either person 3 h 30 min + the meeting further, or no shorter meeting
    assert "Wider hours: you starting at Tue 04:00 PST on your clock" in text
    assert "Wider hours: Ravi working until Tue 08:30 PST on your clock" in text
    assert "(Tue 22:00 IST on Ravi's), 4 h later than now" in text
    assert "A shorter meeting does not help" in text
    assert "A shorter meeting does not help" in text


def test_a_short_overlap_offers_the_shorter_meeting_that_fits(client, make_org, database):
    org = make_org(client, reps=(("lena@acme.test", "Lena", "Europe/London"),))
    with database.session() as db:
        # New York 09-17 against London 09:00-14:20: 20 minutes shared (14:00-14:20 London)
        db.get(Person, org.rep_ids[0]).working_hours = {
            str(day): [["09:00", "14:20"]] for day in range(5)
        }
    page = client.get(f"/manager/reps/{org.rep_ids[0]}/slots").get_data(as_text=True)
    assert "the longest time you both work is 20 minutes" in page
    assert "a 15-minute 1:1 fits" in page
    shorter = client.get(f"/manager/reps/{org.rep_ids[0]}/slots?minutes=15")
    assert shorter.status_code == 200
    assert "Book" in shorter.get_data(as_text=True)


def book_and_debrief(client, org, database, items: tuple[tuple[str, str, date], ...]):  # type: ignore[no-untyped-def]
    """Book George's 1:1 and debrief its first week with ``items`` (text, owner, due);
    returns the first session, the series page's URL and the items by text."""
    answer, _ = book_top_slot(client, org.rep_ids[0])
    with database.session() as db:
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    record_debrief(
        database,
        org_id=org.org_id,
        session_id=first.id,
        manager_id=org.manager_id,
        draft=DebriefDraft(notes={}, action_items=tuple(ActionItemDraft(*i) for i in items)),
        now=first.scheduled_end,  # a debrief is for a 1:1 that took place
    )
    with database.session() as db:
        by_text = {item.text: item for item in db.scalars(select(ActionItem))}
    return first, answer.headers["Location"], by_text


@pytest.fixture
def debriefed(client, org, database):
    """George's first 1:1 booked and debriefed: one item Patrick owns, two George owns."""
    first, _, items = book_and_debrief(
        client,
        org,
        database,
        (
            ("Send the pricing memo", "manager", date(2026, 11, 30)),
            ("Update the CRM", "rep", date(2026, 10, 27)),
            ("Call Initech", "rep", date(2026, 11, 30)),
        ),
    )
    return first, items


def test_a_manager_completes_their_own_item_after_confirming_and_reopens_it(
    client, debriefed, database, clock
):
    _, items = debriefed
    memo, crm = items["Send the pricing memo"], items["Update the CRM"]
    page = client.get("/manager/action-items").get_data(as_text=True)
    confirm_url = f"/manager/action-items/{memo.id}/done"
    assert f'href="{confirm_url}"' in page
    assert f"/manager/action-items/{crm.id}/done" not in page  # George ticks off his own
    # the button only asks: nothing is done until the confirmation page's form is sent
    asked = client.get(confirm_url)
    assert asked.status_code == 200
    question = asked.get_data(as_text=True)
    assert "Mark this action item done?" in question and "Send the pricing memo" in question
    assert f'action="/manager/action-items/{memo.id}"' in question
    assert 'name="done" value="1"' in question and "No, keep it open" in question
    with database.session() as db:
        assert db.get(ActionItem, memo.id).done_at is None

    done = post(client, f"/manager/action-items/{memo.id}", {"done": "1"}, page=confirm_url)
    assert done.headers["Location"] == "/manager/action-items"
    with database.session() as db:
        assert db.get(ActionItem, memo.id).done_at == NOW
    page = client.get("/manager/action-items").get_data(as_text=True)
    assert "Your items done lately" in page and f"/manager/action-items/{memo.id}/done" not in page

    reopened = post(client, f"/manager/action-items/{memo.id}", {"done": "0"}, page="/manager/team")
    assert reopened.status_code == 302
    with database.session() as db:
        assert db.get(ActionItem, memo.id).done_at is None


def test_a_manager_completes_an_item_from_the_session_page(client, debriefed, database):
    session, items = debriefed
    memo = items["Send the pricing memo"]
    page = client.get(f"/manager/sessions/{session.id}").get_data(as_text=True)
    assert "Action items from this 1:1" in page
    confirm_url = f"/manager/action-items/{memo.id}/done?back=session"
    assert f'href="{confirm_url}"' in page
    question = client.get(confirm_url).get_data(as_text=True)
    assert 'name="back" value="session"' in question
    answer = post(
        client,
        f"/manager/action-items/{memo.id}",
        {"done": "1", "back": "session"},
        page=confirm_url,
    )
    assert answer.headers["Location"] == f"/manager/sessions/{session.id}"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'class="tag ok">Done</span>' in page and "Reopen" in page


def test_correcting_a_debrief_keeps_done_items_done(client, debriefed, database, clock):
    session, items = debriefed
    memo = items["Send the pricing memo"]
    post(client, f"/manager/action-items/{memo.id}", {"done": "1"}, page="/manager/team")
    clock.now = session.scheduled_end + timedelta(hours=1)  # after the 1:1, as debriefs are
    form = client.get(f"/manager/sessions/{session.id}").get_data(as_text=True)
    fields = dict(re.findall(r'name="(items-\d-(?:text|due_date))" value="([^"]*)"', form))
    data = {**fields, "note-0": "Corrected note"}
    for name, owner in re.findall(
        r'name="(items-\d-owner)">\s*(?:<option value="\w+">[^<]*</option>\s*)*'
        r'<option value="(\w+)" selected',
        form,
    ):
        data[name] = owner
    answer = post(client, f"/manager/sessions/{session.id}/debrief", data, page="/manager/team")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    with database.session() as db:
        again = db.scalar(select(ActionItem).where(ActionItem.text == "Send the pricing memo"))
        assert again.done_at == NOW


def test_nobody_completes_someone_elses_item_through_their_page(client, debriefed):
    _, items = debriefed
    crm = items["Update the CRM"]
    assert client.get(f"/manager/action-items/{crm.id}/done").status_code == 404
    answer = post(client, f"/manager/action-items/{crm.id}", {"done": "1"}, page="/manager/team")
    assert answer.status_code == 404


def test_a_rep_confirms_mark_done_and_sees_overdue_items_in_words(app, debriefed, database, clock):
    _, items = debriefed
    crm = items["Update the CRM"]  # due 27 October, the day after the 1:1
    set_password(database, "george@acme.test")
    george = app.test_client()
    sign_in(george, "george@acme.test")
    page = george.get("/me/action-items").get_data(as_text=True)
    assert "Overdue" not in page
    assert f'href="/me/action-items/{crm.id}/done"' in page
    assert 'name="done" value="1"' not in page  # no one-click "mark done"
    question = george.get(f"/me/action-items/{crm.id}/done").get_data(as_text=True)
    assert "Mark this action item done?" in question
    assert f'action="/me/action-items/{crm.id}"' in question
    # ten days on, the open item is overdue, said in words beside its date
    clock.now = NOW + timedelta(days=10)
    page = george.get("/me/action-items").get_data(as_text=True)
    row = page[page.index("Update the CRM") : page.index("</tr>", page.index("Update the CRM"))]
    assert "Overdue" in row
    assert "Overdue" not in page[page.index("Call Initech") :]
    post(george, f"/me/action-items/{crm.id}", {"done": "1"}, page="/me/action-items")
    page = george.get("/me/action-items").get_data(as_text=True)
    assert "Overdue" not in page  # done is done, whatever its date


def test_cancel_this_week_asks_first_and_keeps_the_reason(client, org, calendar, database, clock):
    answer, _ = book_top_slot(client, org.rep_ids[0])
    series_url = answer.headers["Location"]
    with database.session() as db:
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    page = client.get(series_url).get_data(as_text=True)
    confirm_url = f"/manager/sessions/{first.id}/cancel"
    # the series page only links to the question: no form there cancels in one click
    assert f'href="{confirm_url}"' in page
    assert f'action="{confirm_url}"' not in page
    question = client.get(confirm_url).get_data(as_text=True)
    assert "Cancel this week&#39;s 1:1?" in question
    assert f'action="{confirm_url}"' in question and 'name="reason"' in question
    assert "No, keep it" in question
    assert calendar.calls["cancel_occurrence"] == 0

    too_long = post(client, confirm_url, {"reason": "x" * 501}, page=confirm_url)
    assert too_long.status_code == 400
    assert 'id="e-reason"' in too_long.get_data(as_text=True)
    assert calendar.calls["cancel_occurrence"] == 0

    done = post(client, confirm_url, {"reason": "  Customer offsite all day "}, page=confirm_url)
    assert done.headers["Location"] == series_url
    assert calendar.calls["cancel_occurrence"] == 1
    with database.session() as db:
        row = db.get(Session, first.id)
        assert (row.cancelled, row.cancel_reason) == (True, "Customer offsite all day")
    assert "“Customer offsite all day”" in client.get(series_url).get_data(as_text=True)
    session_page = client.get(f"/manager/sessions/{first.id}").get_data(as_text=True)
    assert "Cancelled: “Customer offsite all day”" in session_page

    # a week later the reports' skipped list shows it, reason and all (page, JSON and CSV)
    clock.now = NOW + timedelta(weeks=1, days=2)
    reclassify_past_sessions(database, now=clock.now)  # the hourly job settles the past week
    skipped = client.get("/reports/skipped").get_data(as_text=True)
    assert "cancelled by manager" in skipped and "“Customer offsite all day”" in skipped
    csv = client.get("/reports/skipped.csv").get_data(as_text=True)
    assert csv.splitlines()[0].endswith(",cancel_reason")
    assert csv.splitlines()[1].endswith(",Customer offsite all day")


def test_cancelling_without_a_reason_still_asks(client, org, calendar, database):
    book_top_slot(client, org.rep_ids[0])
    with database.session() as db:
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    confirm_url = f"/manager/sessions/{first.id}/cancel"
    done = post(client, confirm_url, {"reason": ""}, page=confirm_url)
    assert done.status_code == 302 and calendar.calls["cancel_occurrence"] == 1
    with database.session() as db:
        assert db.get(Session, first.id).cancel_reason == ""


def slot_fields(page: str, action: str, index: int = 0) -> dict[str, str]:
    """The hidden fields of the ``index``-th proposal form posting to ``action``."""
    forms = page.split(f'action="{action}"')[1:]
    return dict(
        re.findall(
            r'name="(weekday|local_time|minutes|zone|first_day)" value="([^"]*)"', forms[index]
        )[:5]
    )


def test_proposals_show_the_best_of_each_weekday_first_with_the_reps_time(client, org):
    page = client.get(f"/manager/reps/{org.rep_ids[1]}/slots").get_data(as_text=True)
    headings = re.findall(r"<h2>(\w+)s at (\d\d:\d\d) \(America/New_York\)", page)
    assert len(headings) == 8
    assert sorted(day for day, _ in headings[:5]) == sorted(
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    )
    assert headings[5:] == [("Monday", "09:15"), ("Monday", "09:30"), ("Monday", "09:45")]
    # each card gives Lena's own time: London leaves summer time a week before New York
    first = proposal_cards(page)[0]
    assert "Lena's time (Europe/London): Mondays at 13:00 GMT; 14:00 GMT from Mon 02 Nov" in (
        re.sub(r"\s+", " ", first)
    )
    assert 'name="minutes" value="30"' in first  # the default length


def test_the_manager_picks_the_meeting_length_and_first_week(client, org, database):
    rep_id = org.rep_ids[0]
    page = client.get(f"/manager/reps/{rep_id}/slots?minutes=45&first_day=2026-11-09")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "45-minute slots over the coming weeks from Mon 09 Nov 2026" in text
    fields = slot_fields(text, f"/manager/reps/{rep_id}/book")
    assert (fields["minutes"], fields["first_day"]) == ("45", "2026-11-09")
    booked = post(client, f"/manager/reps/{rep_id}/book", fields, page="/manager/team")
    assert booked.status_code == 302
    with database.session() as db:
        series = db.scalar(select(Series))
        assert (series.duration_minutes, series.first_day) == (45, date(2026, 11, 9))
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
        assert first.scheduled_start.date() >= date(2026, 11, 9)


def test_a_first_week_in_the_past_or_a_length_out_of_bounds_is_named(client, org, database):
    answer = client.get(f"/manager/reps/{org.rep_ids[0]}/slots?first_day=2026-10-01&minutes=5")
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert 'id="e-first_day"' in page and "Choose a day from Tue 20 Oct 2026" in page
    assert 'id="e-minutes"' in page and "Enter a number from 15 to 120." in page
    assert "Book " not in page
    fields = {
        "weekday": "0",
        "local_time": "09:00",
        "minutes": "30",
        "zone": "America/New_York",
        "first_day": "2026-10-12",
    }
    post(client, f"/manager/reps/{org.rep_ids[0]}/book", fields, page="/manager/team")
    with database.session() as db:
        assert db.scalar(select(Series)) is None  # a first week in the past books nothing


def test_change_the_weekly_time_from_a_chosen_week(client, org, calendar, database):
    answer, _ = book_top_slot(client, org.rep_ids[0])
    series_url = answer.headers["Location"]
    old_id = series_url.rsplit("/", 1)[1]
    page = client.get(
        f"/manager/reps/{org.rep_ids[0]}/slots?change=1&first_day=2026-11-16"
    ).get_data(as_text=True)
    assert "The new time applies from" in page
    assert "the current series ends before Mon 16 Nov 2026" in page
    fields = slot_fields(page, f"/manager/series/{old_id}/retime", index=1)
    assert fields["first_day"] == "2026-11-16"
    moved = post(client, f"/manager/series/{old_id}/retime", fields, page=series_url)
    assert moved.status_code == 302
    new_id = moved.headers["Location"].rsplit("/", 1)[1]
    with database.session() as db:
        old, new = db.get(Series, old_id), db.get(Series, new_id)
        assert old.until == date(2026, 11, 15)
        assert date(2026, 11, 16) <= new.first_day < date(2026, 11, 23)
        kept = db.scalars(select(Session).where(Session.series_id == old_id)).all()
        assert [row.scheduled_start.date() for row in kept] == [
            date(2026, 10, 26),
            date(2026, 11, 2),
            date(2026, 11, 9),
        ]


@pytest.mark.parametrize(
    ("provider", "said"),
    [
        (Provider.GOOGLE, "is in your calendar and Google sent George the invitation."),
        (Provider.MICROSOFT, "is in your calendar and Outlook sent George the invitation."),
        (
            Provider.CALDAV,
            "is in your calendar only, with George as an attendee. George gets an invitation"
            " only if your CalDAV server sends them",
        ),
    ],
)
def test_the_booking_message_says_what_each_provider_did(client, org, database, provider, said):
    with database.session() as db:
        db.scalar(select(CalendarConnection)).provider = provider
    answer, _ = book_top_slot(client, org.rep_ids[0])
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"Booked: the 1:1 with George {said}" in page
    assert "both calendars" not in page


@pytest.mark.parametrize(
    ("provider", "said"),
    [
        (Provider.GOOGLE, "the calendar updates the rep&#39;s invitation."),
        (Provider.MICROSOFT, "the calendar updates the rep&#39;s invitation."),
        (Provider.CALDAV, "the change is in your calendar only: your CalDAV server tells the rep"),
    ],
)
def test_cancelling_a_week_says_how_the_rep_hears_of_it(
    client, org, calendar, database, provider, said
):
    answer, _ = book_top_slot(client, org.rep_ids[0])
    series_url = answer.headers["Location"]
    with database.session() as db:
        db.scalar(select(CalendarConnection)).provider = provider
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    confirm_url = f"/manager/sessions/{first.id}/cancel"
    question = client.get(confirm_url).get_data(as_text=True)
    assert said.capitalize() in question
    post(client, confirm_url, {"reason": ""}, page=confirm_url)
    page = client.get(series_url).get_data(as_text=True)
    assert f"Cancelled this week&#39;s 1:1; {said}" in page
    if provider == Provider.CALDAV:
        assert "is told by the calendar" not in question + page
