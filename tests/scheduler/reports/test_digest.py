"""Weekly digests of the hand-built history: content, rendering, and sending once."""

from __future__ import annotations

from sqlalchemy import select

from scheduler import jobs
from scheduler.jobs import tasks
from scheduler.jobs.registry import declared
from scheduler.models import OutboxMessage
from scheduler.reports.digest import digest_week, render_html, render_text, weekly_digest
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


def runtime(settings, database):  # type: ignore[no-untyped-def]
    return jobs.build(
        settings,
        link=lambda org, session: "",
        database=database,
        calendars=lambda row: None,  # type: ignore[arg-type,return-value]
        clock=lambda: NOW,
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
