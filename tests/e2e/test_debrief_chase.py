"""Chasing the debrief end to end: the Google emulator, PostgreSQL, Redis, RQ workers, the app
over TLS and a real SMTP server on 127.0.0.1, with the app's and workers' clock moved past a
1:1's end (``ShiftedClock``).

A 1:1 ends -> the nudge arrives once, though the SMTP server refused it first and the jobs
run again -> its link leads to the debrief page after signing in -> the debrief is saved ->
when the reminder time passes, no reminder; the next week, left undebriefed, gets its one.
"""

from __future__ import annotations

import re
from datetime import timedelta

import requests
from sqlalchemy import select

from scheduler.jobs import tasks
from scheduler.models import Debrief, DebriefNudge, Organization, OutboxMessage
from tests.e2e.stack import wait_until
from tests.web.conftest import PASSWORD, set_password


def nudges(stack) -> list[tuple[str, str]]:
    with stack.database.session() as db:
        return [(n.session_id, n.kind) for n in db.scalars(select(DebriefNudge))]


def outbox(stack) -> list[OutboxMessage]:
    with stack.database.session() as db:
        return list(db.scalars(select(OutboxMessage)))


def form_token(page: requests.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def test_the_nudge_arrives_once_leads_to_the_debrief_and_no_reminder_follows_it(
    stack_factory, smtp, ca
):
    stack = stack_factory(env={"SMTP_URL": smtp.url()}, shifted_clock=True)
    stack.book_and_watch()
    first, second = stack.sessions()[:2]
    set_password(stack.database, stack.manager_email)
    with stack.database.session() as db:
        grace = timedelta(hours=db.get(Organization, stack.org_id).grace_hours)

    # The first 1:1 has just ended; the SMTP server refuses the first attempt.
    stack.clock.move_to(first.scheduled_end + timedelta(minutes=1))
    smtp.inbox.refuse(1)
    assert stack.run(tasks.chase_debriefs) == 1
    (nudge,) = smtp.inbox.wait_for(1, timeout=15)
    assert smtp.inbox.refusals == 0  # refused once, delivered by the retry
    wait_until(lambda: outbox(stack)[0].sent_at, timeout=10)
    assert outbox(stack)[0].attempts == 2
    # The periodic run and the job again, as a retry or an overlapping run would.
    assert stack.run(tasks.chase_debriefs) == 0
    assert stack.run(tasks.chase_debrief, stack.org_id, first.id) is False
    assert stack.run(tasks.retry_mail) == 0  # nothing left undelivered in the outbox
    assert len(smtp.inbox.messages) == 1
    assert nudges(stack) == [(first.id, "nudge")]
    assert nudge["To"] == stack.manager_email and "Debrief your 1:1" in nudge["Subject"]

    # Its link leads to the debrief form, through signing in.
    (link,) = re.findall(r"https://\S+/debrief/\S+", smtp.inbox.text(nudge))
    browser = requests.Session()
    browser.verify = ca.bundle_path
    signin = browser.get(link, timeout=10, verify=ca.bundle_path)
    assert signin.status_code == 200 and "/signin" in signin.url
    page = browser.post(
        signin.url,
        data={
            "csrf_token": form_token(signin),
            "email": stack.manager_email,
            "password": PASSWORD,
        },
        headers={"Referer": signin.url},  # over https the CSRF check wants the same origin
        timeout=10,
        verify=ca.bundle_path,
    )
    assert page.status_code == 200 and page.url.endswith(f"/manager/sessions/{first.id}")
    assert 'name="items-0-text"' in page.text

    due = (first.scheduled_start + timedelta(days=7)).date().isoformat()
    saved = browser.post(
        page.url + "/debrief",
        data={
            "csrf_token": form_token(page),
            "note-0": "Pipeline reviewed",
            **{f"items-{i}-text": f"Action {i}" for i in range(3)},
            "items-0-owner": "manager",
            "items-1-owner": "rep",
            "items-2-owner": "rep",
            **{f"items-{i}-due_date": due for i in range(3)},
        },
        headers={"Referer": page.url},
        timeout=10,
        verify=ca.bundle_path,
    )
    assert saved.status_code == 200 and "Debrief recorded" in saved.text
    with stack.database.session() as db:
        assert db.scalar(select(Debrief.session_id)) == first.id

    # Past the reminder time: nothing about the debriefed week.
    stack.clock.move_to(first.scheduled_end + grace / 2 + timedelta(minutes=1))
    assert stack.run(tasks.chase_debriefs) == 0
    assert stack.run(tasks.chase_debrief, stack.org_id, first.id) is False
    # The next week, not debriefed, gets its reminder at the same point: the run above would
    # have sent one.
    stack.clock.move_to(second.scheduled_end + grace / 2 + timedelta(minutes=1))
    assert stack.run(tasks.chase_debriefs) == 1
    smtp.inbox.wait_for(2, timeout=15)
    assert stack.run(tasks.chase_debrief, stack.org_id, second.id) is False
    (reminder,) = smtp.inbox.messages[1:]
    assert reminder["Subject"].startswith("Reminder: debrief your 1:1")
    assert sorted(nudges(stack)) == sorted([(first.id, "nudge"), (second.id, "reminder")])
    assert len(smtp.inbox.messages) == 2
