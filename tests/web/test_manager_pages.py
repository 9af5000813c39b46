"""The manager's pages tell the truth and lead somewhere: unreadable weeks, no common hours,
confirmations, own action items, the first week of a change, proposals and booking words."""

from __future__ import annotations

import re

import pytest


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
