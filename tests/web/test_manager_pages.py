"""The manager's pages tell the truth and lead somewhere: unreadable weeks, no common hours,
confirmations, own action items, the first week of a change, proposals and booking words."""

from __future__ import annotations

import re

import pytest

from scheduler.models import Person


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
