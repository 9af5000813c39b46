"""Weekly digests of the hand-built history: content, rendering, which weeks are due, and
sending once through the outbox to a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial

from sqlalchemy import select

from scheduler import jobs
from scheduler.jobs import tasks
from scheduler.jobs.registry import declared
from scheduler.links import UNSUBSCRIBE, read_link
from scheduler.models import Organization, OutboxMessage, Person, Session
from scheduler.reports.digest import (
    digest_week,
    digest_weeks_due,
    render_html,
    render_text,
    weekly_digest,
)
from scheduler.usecases.mail_preferences import set_opt_out
from tests.conftest import with_smtp
from tests.scheduler.reports.conftest import NOW, WEEKS


def test_digest_week_is_the_last_complete_week():
    assert digest_week(NOW) == WEEKS[4]


def test_admin_digest_covers_the_organisation(database, history):
    with database.session() as db:
        digest = weekly_digest(db, history.org_id, history.admin, now=NOW)
    assert digest is not None and digest.week_start == WEEKS[4]
    assert (digest.counts.expected, digest.counts.held, digest.skipped_total) == (3, 1, 2)
    assert [(r.rep_name, r.outcome.value) for r in digest.skipped] == [
        ("Ryan", "cancelled"),
        ("George", "cancelled"),
    ]
    assert [r.rep_name for r in digest.stopped] == ["Ann", "Kai", "Ryan"]
    assert digest.subject == "1:1s, week of 12 Oct 2026: 1 held, 2 skipped, 3 stopped"


def test_a_long_digest_lists_the_first_rows_and_says_how_many_more(database, history, monkeypatch):
    monkeypatch.setattr("scheduler.reports.digest.DIGEST_ROWS", 2)
    with database.session() as db:
        digest = weekly_digest(db, history.org_id, history.admin, now=NOW)
    assert digest is not None
    assert ([r.rep_name for r in digest.stopped], digest.stopped_total) == (["Ann", "Kai"], 3)
    assert digest.as_dict()["stopped_total"] == 3
    assert digest.subject.endswith("2 skipped, 3 stopped")
    text = render_text(digest, "https://cadence.test")
    assert "Ryan: last held" not in text and "  ... and 1 more." in text
    assert "… and 1 more." in render_html(digest, "https://cadence.test")


def test_manager_digest_covers_their_team_and_reps_get_none(database, history):
    with database.session() as db:
        patrick = weekly_digest(db, history.org_id, history.patrick, now=NOW)
        george = weekly_digest(db, history.org_id, history.george, now=NOW)
    assert patrick is not None
    assert [(r.rep_name, r.cancelled_by) for r in patrick.skipped] == [("George", "rep")]
    assert patrick.stopped == []
    assert george is None


def test_renderings_say_the_same_and_escape_names(database, history):
    with database.session() as db:
        digest = weekly_digest(db, history.org_id, history.admin, now=NOW)
    assert digest is not None
    text = render_text(digest, "https://cadence.test")
    assert "1 of 3 expected 1:1s held (33%); 2 skipped, 1 excused, 0 moved." in text
    assert "Matt with Ryan: cancelled" in text
    assert "Matt with Ryan: last held 34 days ago, nothing booked" in text
    assert "Matt with Kai: never held\n" in text
    html = render_html(digest, "https://cadence.test")
    assert "<strong>1 of 3</strong>" in html
    assert f'href="https://cadence.test/reports/reps/{history.ryan}?to=2026-10-12"' in html
    evil = digest.__class__(**{**digest.__dict__, "skipped": [
        digest.skipped[0].__class__(**{**digest.skipped[0].__dict__, "rep_name": "<b>x</b>"})
    ]})  # fmt: skip
    assert "&lt;b&gt;x&lt;/b&gt;" in render_html(evil, "https://cadence.test")


def test_the_email_gives_each_time_on_the_recipients_clock(database, history):
    """Ryan's cancelled week, Thursday 15 October 09:00 UTC, for an admin in New York."""
    with database.session() as db:
        db.get(Person, history.admin).zone = "America/New_York"
    with database.session() as db:
        digest = weekly_digest(db, history.org_id, history.admin, now=NOW)
    assert digest is not None
    text = render_text(digest, "https://cadence.test")
    assert "Skipped (times in America/New_York):" in text
    assert "  Thu 15 Oct 05:00 EDT  Matt with Ryan: cancelled" in text
    assert " UTC " not in text
    html = render_html(digest, "https://cadence.test")
    assert "<th>When (America/New_York)</th>" in html and "Thu 15 Oct 05:00 EDT" in html


def runtime(settings, database, clock: Callable[[], datetime] = lambda: NOW):  # type: ignore[no-untyped-def]
    return jobs.build(
        settings,
        link=lambda org, session: "",
        database=database,
        calendars=lambda row: None,  # type: ignore[arg-type,return-value]
        clock=clock,
    )


def send_digests(rt) -> int:  # type: ignore[no-untyped-def]
    return declared(tasks.send_digests).perform(rt)


def test_digests_are_emailed_once_per_person_per_week(database, history, settings, smtp):
    rt = runtime(with_smtp(settings, smtp.url(), mail_from="r@acme.test"), database)
    assert send_digests(rt) == 5  # Ada, Patrick, Matt, Nina; Boss in the other organisation
    assert send_digests(rt) == 0  # hourly runs: the second sends nothing
    received = sorted(message["To"] for message in smtp.inbox.messages)
    assert len(received) == 5 and len(set(received)) == 5
    first = smtp.inbox.messages[0]
    assert first["From"] == "r@acme.test"
    assert first["Subject"].startswith("1:1s, week of 12 Oct 2026")
    assert {part.get_content_type() for part in first.walk()} >= {"text/plain", "text/html"}
    with database.session() as db:
        keys = db.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "digest")).all()
    assert len(keys) == 5 and all(key.startswith("digest/2026-10-12/") for key in keys)


def test_a_refused_digest_is_sent_by_the_retry_and_only_once(database, history, settings, smtp):
    rt = runtime(with_smtp(settings, smtp.url()), database)
    smtp.inbox.refuse(1)
    assert send_digests(rt) == 5
    assert len(smtp.inbox.messages) == 4  # the refusal did not stop the others
    assert send_digests(rt) == 0  # the digest job does not compose it again...
    assert declared(tasks.retry_mail).perform(rt) == 1  # ...the outbox's retry sends it
    assert declared(tasks.retry_mail).perform(rt) == 0
    assert len({message["To"] for message in smtp.inbox.messages}) == 5
    assert len(smtp.inbox.messages) == 5


def test_without_smtp_digests_go_to_the_local_outbox(database, history, settings, capsys):
    assert settings.smtp_url is None
    assert send_digests(runtime(settings, database)) == 5
    assert capsys.readouterr().err.count("Subject: 1:1s, week of 12 Oct 2026") == 5


# Monday 2 November 2026, 01:00 UTC: still Sunday evening in New York and Los Angeles.
MONDAY_NIGHT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
GRACE = timedelta(hours=48)


def test_each_recipient_gets_the_last_complete_week_of_their_own_zone():
    assert digest_week(MONDAY_NIGHT, "Europe/London") == date(2026, 10, 26)
    # In Los Angeles the week of 26 October is not over: the last complete one is before it.
    assert digest_week(MONDAY_NIGHT, "America/Los_Angeles") == date(2026, 10, 19)


def test_a_week_is_due_once_every_session_in_it_is_past_its_grace():
    sunday_evening_end = datetime(2026, 11, 2, 2, 30, tzinfo=UTC)  # 18:30 Sunday in LA
    ends = {date(2026, 10, 26): sunday_evening_end}
    due = partial(digest_weeks_due, zone="Europe/London", last_sent=None, latest_ends=ends)
    assert due(now=MONDAY_NIGHT, grace=GRACE) == []
    assert due(now=sunday_evening_end + GRACE - timedelta(seconds=1), grace=GRACE) == []
    assert due(now=sunday_evening_end + GRACE, grace=GRACE) == [date(2026, 10, 26)]


def test_no_week_is_left_out_and_none_is_sent_after_a_later_one():
    ends = {date(2026, 10, 19): datetime(2026, 10, 30, 12, tzinfo=UTC)}  # moved to Friday 30th
    due = partial(digest_weeks_due, zone="UTC", last_sent=date(2026, 10, 12), latest_ends=ends)
    # A week held back by its last session: nothing later goes before it ...
    assert due(now=datetime(2026, 10, 31, 12, tzinfo=UTC), grace=GRACE) == []
    # ... and once it has settled, it goes with the weeks that followed it.
    assert due(now=MONDAY_NIGHT + timedelta(days=1), grace=GRACE) == [
        date(2026, 10, 19),
        date(2026, 10, 26),
    ]


def test_a_digest_waits_for_its_weeks_last_session_and_is_then_sent(
    database, history, settings, smtp
):
    """Kai's 1:1 of the week of 12 October was moved to Sunday 18th, 22:00; with a 72 h
    grace it settles on Wednesday 21st at 22:00, after NOW: Ada (admin) and Matt wait for it,
    and get it at the next run after; a week later each gets the next week, once."""
    with database.session() as db:
        db.get(Organization, history.org_id).grace_hours = 72
        kai5 = db.get(Session, history.sessions[("Kai", 5)])
        kai5.current_start = datetime(2026, 10, 18, 21, 30, tzinfo=UTC)
        kai5.current_end = datetime(2026, 10, 18, 22, 0, tzinfo=UTC)
    now = [NOW]
    rt = runtime(with_smtp(settings, smtp.url()), database, clock=lambda: now[0])

    def run(at: datetime) -> list[tuple[str, str]]:
        """What the digest job sends at ``at``: (recipient, week) per email received."""
        now[0], before = at, len(smtp.inbox.messages)
        send_digests(rt)
        received = smtp.inbox.messages[before:]
        return sorted((m["To"].split("@")[0], m["Subject"][14:25]) for m in received)

    # Patrick and Nina: nothing of theirs still to settle (Boss: the other organisation).
    assert run(NOW) == [
        ("boss", "12 Oct 2026"),
        ("nina", "12 Oct 2026"),
        ("patrick", "12 Oct 2026"),
    ]
    assert run(NOW + timedelta(hours=10)) == [("ada", "12 Oct 2026"), ("matt", "12 Oct 2026")]
    assert run(NOW + timedelta(hours=11)) == []
    # The week of 19 October, to each, once.
    week_after = run(NOW + timedelta(days=7))
    assert [to for to, _ in week_after] == ["ada", "boss", "matt", "nina", "patrick"]
    assert {week for _, week in week_after} == {"19 Oct 2026"}
    assert run(NOW + timedelta(days=7, hours=1)) == []


def test_a_week_missed_by_every_run_goes_out_before_the_next(database, history, settings, smtp):
    """No run between the weeks of 12 and 19 October (an outage): the first run after sends
    each person both weeks, oldest first, and none again."""
    rt = runtime(with_smtp(settings, smtp.url()), database)
    assert send_digests(rt) == 5
    rt = runtime(with_smtp(settings, smtp.url()), database, clock=lambda: NOW + timedelta(days=14))
    assert send_digests(rt) == 10  # the weeks of 19 and 26 October, to each of the five
    later = [(m["To"], m["Subject"][14:25]) for m in smtp.inbox.messages[5:]]
    ada = [week for to, week in later if to.startswith("ada")]
    assert ada == ["19 Oct 2026", "26 Oct 2026"]
    assert send_digests(rt) == 0


def test_a_digest_carries_its_unsubscribe_link_and_footer(database, history, settings, smtp):
    rt = runtime(with_smtp(settings, smtp.url()), database)
    send_digests(rt)
    (ada,) = [m for m in smtp.inbox.messages if m["To"].startswith("ada")]
    url = ada["List-Unsubscribe"].strip("<>")
    assert ada["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Stop these emails (Weekly digest): {url}" in smtp.inbox.text(ada)
    token = url.removeprefix(f"{settings.base_url}/unsubscribe/")
    link = read_link(settings.secret_key, token, purpose=UNSUBSCRIBE, now=NOW)
    assert link.subject == {"person": history.admin, "kind": "digest"}
    with database.session() as db:
        row = db.scalars(select(OutboxMessage).where(OutboxMessage.to_email == ada["To"])).one()
    assert row.unsubscribe_url == url and "Stop these emails" in row.html_body


def test_a_stopped_digest_is_not_composed_and_resumes_with_the_latest_week(
    database, history, settings, smtp
):
    def run(at: datetime) -> tuple[int, list[str]]:
        """How many digests the job composed at ``at``, and the weeks Ada received so far."""
        count = send_digests(runtime(with_smtp(settings, smtp.url()), database, clock=lambda: at))
        return count, [
            m["Subject"][14:25] for m in smtp.inbox.messages if m["To"].startswith("ada")
        ]

    assert run(NOW) == (5, ["12 Oct 2026"])
    with database.session() as db:
        set_opt_out(db, org_id=history.org_id, person_id=history.admin, kind="digest", off=True,
                    now=NOW + timedelta(hours=1))  # fmt: skip
    assert run(NOW + timedelta(days=7)) == (4, ["12 Oct 2026"])  # not Ada's
    # Two weeks later Ada turns it back on: she gets the latest week, not those it was off.
    later = NOW + timedelta(days=21)
    with database.session() as db:
        set_opt_out(db, org_id=history.org_id, person_id=history.admin, kind="digest", off=False,
                    now=later)  # fmt: skip
    assert run(later)[1] == ["12 Oct 2026", "02 Nov 2026"]
