"""Defending the slot end to end, on each provider (the Google emulator, the Graph emulator,
Radicale over CalDAV): PostgreSQL, Redis, RQ workers, the app and a real SMTP server on
127.0.0.1.

A new busy block -> one email -> following an alternative's link (GET, then the POST of its
confirmation page) moves exactly that week at the provider; the link once used, or expired,
gets a page saying so (410); a clash gone before the notice run sends nothing; the "auto"
policy moves once and tells both; retried jobs never send an email twice.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from scheduler.defend import ConflictState
from scheduler.jobs import tasks
from scheduler.models import Person, Provider, SlotConflict
from tests.e2e.provider_views import add_rep_busy, occurrence_at, remove_busy
from tests.e2e.stack import wait_until

PROVIDERS = pytest.mark.parametrize(
    "provider", [Provider.GOOGLE, Provider.MICROSOFT, Provider.CALDAV], ids=str
)


def conflicts(stack) -> list[SlotConflict]:
    with stack.database.session() as db:
        return list(db.scalars(select(SlotConflict)))


def clash(stack, week) -> str:
    """The rep gets a customer call over ``week``'s 1:1; the next refresh reads it."""
    start = week.scheduled_start - timedelta(minutes=15)
    event = add_rep_busy(stack, start, start + timedelta(hours=1), "Initech call")
    refresh(stack)
    return event


def refresh(stack) -> None:
    for connection_id in stack.connection_ids:  # CalDAV: the rep's own calendar too
        stack.run(tasks.refresh_availability, stack.org_id, connection_id)


def notify_again(stack, conflict_id: str) -> None:
    """The conflict's job again (a retry) and the periodic run again; then every email
    they could have queued had its chance to go."""
    stack.run(tasks.notify_conflict, stack.org_id, conflict_id)
    stack.run(tasks.notify_conflicts)
    stack.settle()


def get(browser, link, ca) -> requests.Response:
    # verify per request: REQUESTS_CA_BUNDLE would win over the session's.
    return browser.get(link, timeout=10, verify=ca.bundle_path)


@PROVIDERS
def test_a_new_busy_block_mails_once_and_its_link_moves_exactly_that_week(
    stack_factory, smtp, ca, provider
):
    stack = stack_factory(provider=provider, env={"SMTP_URL": smtp.url()}, shifted_clock=True)
    series = stack.book_and_watch()
    week = stack.sessions()[0]
    clash(stack, week)
    wait_until(lambda: conflicts(stack), timeout=15)

    stack.run(tasks.notify_conflicts)
    (message,) = smtp.inbox.wait_for(1, timeout=15)
    (conflict,) = conflicts(stack)
    notify_again(stack, conflict.id)
    assert len(smtp.inbox.messages) == 1
    assert message["To"] == stack.manager_email
    text = smtp.inbox.text(message)
    assert "Rep is busy" in text and "Initech" not in text
    links = re.findall(r"https?://\S+/slot/\S+", text)
    assert len(links) >= 2  # at least one alternative, and the cancel link

    browser = requests.Session()
    # Once the week has begun its links have expired: a page says so, nothing moves.
    stack.clock.move_to(week.scheduled_start + timedelta(minutes=1))
    late = get(browser, links[0], ca)
    assert late.status_code == 410 and "This link has expired" in late.text
    stack.clock.move_to(datetime.now(week.scheduled_start.tzinfo))

    page = get(browser, links[0], ca)
    assert page.status_code == 200 and "Move this week" in page.text
    assert stack.sessions()[0].current_start is None  # a GET never acts
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = browser.post(
        links[0],
        data={"csrf_token": token},
        headers={"Referer": links[0]},  # over https the CSRF check wants the same origin
        timeout=30,
        verify=ca.bundle_path,
    )
    assert done.status_code == 200 and "Done" in done.text

    moved_to = datetime.fromisoformat(conflicts(stack)[0].alternatives[0])
    assert stack.sessions()[0].current_start == moved_to
    assert occurrence_at(stack, series, week.scheduled_start) == moved_to
    # Exactly that week: the next keeps its time.
    assert occurrence_at(stack, series, stack.sessions()[1].scheduled_start) is None
    assert conflicts(stack)[0].state == ConflictState.MOVED
    # The link, and the email's others with it, are spent: a page says when and what it did.
    for used in (links[0], links[-1]):
        again = get(browser, used, ca)
        assert again.status_code == 410 and "This link was already used" in again.text
    assert len(smtp.inbox.messages) == 1
    assert stack.sessions()[0].current_start == moved_to


@PROVIDERS
def test_a_clash_gone_before_the_notice_run_sends_nothing(stack_factory, smtp, provider):
    stack = stack_factory(provider=provider, env={"SMTP_URL": smtp.url()})
    stack.book_and_watch()
    event = clash(stack, stack.sessions()[0])
    wait_until(lambda: conflicts(stack), timeout=15)
    remove_busy(stack, event)
    refresh(stack)
    stack.run(tasks.notify_conflicts)
    wait_until(lambda: conflicts(stack)[0].state == ConflictState.RESOLVED, timeout=15)
    stack.settle()
    assert smtp.inbox.messages == []


@PROVIDERS
def test_the_auto_policy_moves_once_and_tells_both(stack_factory, smtp, provider):
    stack = stack_factory(provider=provider, env={"SMTP_URL": smtp.url()})
    series = stack.book_and_watch()
    with stack.database.session() as db:
        db.get(Person, stack.manager_id).conflict_policy = "auto"
    week = stack.sessions()[1]  # more than 24 hours away
    clash(stack, week)
    wait_until(lambda: conflicts(stack), timeout=15)

    stack.run(tasks.notify_conflicts)
    messages = smtp.inbox.wait_for(2, timeout=20)
    (conflict,) = conflicts(stack)
    notify_again(stack, conflict.id)
    assert sorted(m["To"] for m in smtp.inbox.messages) == sorted(
        [stack.manager_email, stack.rep_email]
    )
    assert all("moved" in m["Subject"] for m in messages)
    (conflict,) = conflicts(stack)
    assert conflict.state == ConflictState.MOVED_AUTOMATICALLY
    assert occurrence_at(stack, series, week.scheduled_start) == conflict.moved_to
    assert stack.sessions()[1].current_start == conflict.moved_to
    # Exactly that week: the weeks around it keep their time.
    for other in (0, 2):
        assert occurrence_at(stack, series, stack.sessions()[other].scheduled_start) is None
