"""Each person's time zone and working hours: chosen at sign-up from a list, changed on the
account page; a booked series keeps its own zone, and pages show both times."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from scheduler.models import AuditEntry, Person, Series, Session
from tests.web.conftest import post, set_password, sign_in, sign_up
from tests.web.test_manager import book_top_slot

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def hours_form(zone: str, days: dict[int, tuple[str, str]]) -> dict[str, str]:
    """The account page's form: ``days`` are ticked with their times, the others left off."""
    form = {"zone": zone}
    for day in range(7):
        start, end = days.get(day, ("09:00", "17:00"))
        form |= {f"day-{day}-start": start, f"day-{day}-end": end}
        if day in days:
            form[f"day-{day}-works"] = "on"
    return form


def person(database, email: str) -> Person:
    with database.session() as db:
        return db.scalar(select(Person).where(Person.email == email))


# ---------------------------------------------------------------- sign-up


def test_sign_up_offers_every_zone_in_a_list_with_the_browsers_zone_to_preselect(client):
    page = client.get("/signup").get_data(as_text=True)

    picker = page[page.index("data-zone-picker") : page.index("</select>")]
    assert "data-browser-default" in picker  # zone-picker.js selects the browser's zone
    assert '<select id="f-zone" name="zone" required' in picker
    assert '<option value="UTC" selected>' in picker  # without script: UTC, in plain sight
    assert '<optgroup label="America">' in picker
    assert '<option value="America/New_York">New York (America/New_York)</option>' in picker
    assert '<option value="Asia/Kolkata">Kolkata (Asia/Kolkata)</option>' in picker
    assert len(re.findall(r"<option ", picker)) > 400
    assert '<script src="/static/zone-picker.js" defer></script>' in page


def test_the_zone_picker_script_is_served_under_the_content_security_policy(client):
    answer = client.get("/static/zone-picker.js")
    assert answer.status_code == 200 and answer.mimetype in (
        "text/javascript",
        "application/javascript",
    )
    assert "Intl.DateTimeFormat().resolvedOptions().timeZone" in answer.get_data(as_text=True)
    assert "script-src 'self'" in client.get("/signup").headers["Content-Security-Policy"]


def test_a_chosen_zone_is_kept_and_an_unknown_one_is_refused(client, database):
    refused = sign_up(client, "pat@acme.test", "Patrick", "Mars/Olympus_Mons", "Acme")
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert "Unknown time zone 'Mars/Olympus_Mons'" in page
    # The refused value is shown as chosen (not silently replaced), and the script leaves it.
    assert '<option value="Mars/Olympus_Mons" selected>' in page
    assert "data-browser-default" not in page

    answer = sign_up(client, "pat@acme.test", "Patrick", "Asia/Tokyo", "Acme")
    assert answer.status_code == 302
    assert person(database, "pat@acme.test").zone == "Asia/Tokyo"


# ---------------------------------------------------------------- the account page


def test_the_account_page_shows_the_zone_and_the_working_hours_in_use(client, make_org):
    make_org(client)

    page = client.get("/account").get_data(as_text=True)

    section = page[page.index('id="time"') : page.index("Save time zone and hours")]
    assert '<option value="America/New_York" selected>' in section
    assert "data-browser-default" not in section  # the stored zone stays until changed
    assert "These are your organisation's hours" in section
    assert 'name="day-0-works" checked' in section and 'name="day-5-works">' in section
    assert 'name="day-0-start" value="09:00"' in section


def test_a_person_changes_their_zone_and_working_hours(client, make_org, database):
    org = make_org(client)
    form = hours_form("Europe/London", {0: ("08:00", "16:00"), 1: ("08:00", "16:00")})

    answer = post(client, "/account/time", form, page="/account")

    assert answer.status_code == 302 and answer.headers["Location"] == "/account"
    pat = person(database, org.manager_email)
    assert pat.zone == "Europe/London"
    assert pat.working_hours == {"0": [["08:00", "16:00"]], "1": [["08:00", "16:00"]]}
    page = client.get("/account").get_data(as_text=True)
    assert "Saved: you are in Europe/London, working Mon-Tue 08:00-16:00." in page
    assert '<option value="Europe/London" selected>' in page
    with database.session() as db:
        assert db.scalar(select(AuditEntry.action).where(AuditEntry.action == "person.zone"))


def test_hours_equal_to_the_organisations_keep_following_them(client, make_org, database):
    org = make_org(client)
    post(
        client,
        "/account/time",
        hours_form("Europe/Paris", {0: ("07:00", "15:00")}),
        page="/account",
    )

    post(
        client,
        "/account/time",
        hours_form("Europe/Paris", {day: ("09:00", "17:00") for day in range(5)}),
        page="/account",
    )

    pat = person(database, org.manager_email)
    assert pat.zone == "Europe/Paris" and pat.working_hours is None


def test_wrong_hours_are_refused_beside_their_day_and_nothing_is_saved(client, make_org, database):
    org = make_org(client)
    form = hours_form("Europe/London", {0: ("17:00", "09:00"), 2: ("9am", "")})

    answer = post(client, "/account/time", form, page="/account")

    page = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 400
    assert 'id="e-working_hours-2"' in page and "Give Wednesday's hours as two times" in page
    assert '<option value="Europe/London" selected>' in page  # what was posted stays
    assert 'name="day-2-start" value="9am"' in page
    assert person(database, org.manager_email).zone == "America/New_York"

    answer = post(
        client,
        "/account/time",
        hours_form("Europe/London", {0: ("17:00", "09:00")}),
        page="/account",
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="e-working_hours-0"' in page and "must end after it starts" in page
    assert 'aria-describedby="e-working_hours-0"' in page

    unknown = post(
        client, "/account/time", hours_form("Nowhere", {0: ("09:00", "17:00")}), page="/account"
    )
    assert unknown.status_code == 400 and "choose one in the list" in unknown.get_data(as_text=True)
    too_long = post(client, "/account/time", hours_form("Europe/" + "x" * 80, {}), page="/account")
    assert too_long.status_code == 400 and "At most 64 characters." in too_long.get_data(
        as_text=True
    )
    no_days = post(client, "/account/time", hours_form("UTC", {}), page="/account")
    assert no_days.status_code == 400
    assert "Choose at least one working day." in no_days.get_data(as_text=True)
    assert person(database, org.manager_email).zone == "America/New_York"


def test_a_rep_sets_their_own_zone_too(app, client, make_org, database):
    org = make_org(client)
    set_password(database, "lena@acme.test")
    rep = app.test_client()
    sign_in(rep, "lena@acme.test")

    post(
        rep, "/account/time", hours_form("Europe/Dublin", {0: ("10:00", "18:00")}), page="/account"
    )

    lena = person(database, "lena@acme.test")
    assert lena.id in org.rep_ids and lena.zone == "Europe/Dublin"
    assert person(database, org.manager_email).zone == "America/New_York"  # only their own


# ---------------------------------------------------------------- booked series keep their zone


def test_a_managers_zone_change_moves_no_series_and_pages_show_both_times(
    app, client, make_org, database, calendar
):
    org = make_org(client)
    book_top_slot(client, org.rep_ids[0])  # George, New York
    with database.session() as db:
        series = db.scalar(select(Series))
        starts = [s.scheduled_start for s in db.scalars(select(Session))]
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    calls_before = sum(calendar.calls.values())

    post(
        client,
        "/account/time",
        hours_form("Europe/London", {day: ("09:00", "17:00") for day in range(5)}),
        page="/account",
    )

    with database.session() as db:
        kept = db.get(Series, series.id)
        assert (kept.zone, kept.weekday, kept.local_time) == (
            "America/New_York",
            series.weekday,
            series.local_time,
        )
        assert [s.scheduled_start for s in db.scalars(select(Session))] == starts
    assert sum(calendar.calls.values()) == calls_before  # nothing was rebooked
    new_york = f"{series.local_time} E"  # 09:30 EDT / EST: the series' own wall clock

    series_page = client.get(f"/manager/series/{series.id}").get_data(as_text=True)
    assert "This series keeps America/New_York" in series_page
    assert "in the series' zone (America/New_York)" in series_page and new_york in series_page
    assert "(Europe/London)" in series_page

    session_page = client.get(f"/manager/sessions/{first.id}").get_data(as_text=True)
    lead = session_page[session_page.index('class="lead"') : session_page.index("</p>")]
    assert "(Europe/London)" in lead and "in the series' zone (America/New_York)" in lead


def test_the_reps_one_to_ones_show_the_series_time_when_their_zone_differs(
    app, client, make_org, database
):
    org = make_org(client)
    book_top_slot(client, org.rep_ids[1])  # Lena, London; the series is New York's
    set_password(database, "lena@acme.test")
    rep = app.test_client()
    sign_in(rep, "lena@acme.test")

    page = rep.get("/me").get_data(as_text=True)

    coming = page[page.index("Coming up") : page.index("History")]
    assert "(Europe/London)" in coming
    assert "in the series' zone (America/New_York)" in coming
    george = app.test_client()
    set_password(database, "george@acme.test")
    book_top_slot(client, org.rep_ids[0])
    sign_in(george, "george@acme.test")
    same_zone = george.get("/me").get_data(as_text=True)
    assert "(America/New_York)" in same_zone and "in the series' zone" not in same_zone
