"""Migration 0012 on a database with history: each digest already sent becomes a sent outbox
row under the digest job's key (so none goes out twice), password accounts count as
verified, and the downgrade gives the deliveries back."""

from __future__ import annotations

from datetime import date

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from scheduler.db import MIGRATIONS, Database
from scheduler.reports.mail import digest_key


def migrate(database: Database, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = database.engine
    (command.downgrade if down else command.upgrade)(config, revision)


def test_sent_digests_move_into_the_outbox_and_back(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(database, "0011")
    with database.engine.begin() as db:
        db.execute(text(
            "INSERT INTO organizations (id, name, zone, horizon_weeks, agenda_period_weeks,"
            " grace_hours, min_action_items, meeting_minutes, stopped_after_weeks,"
            " video_meetings, join_domain, working_hours, holidays, created_at) VALUES"
            " ('o', 'Acme', 'UTC', 13, 13, 48, 3, 30, 3, false, '', '{}', '[]',"
            " '2026-01-01 00:00:00')"
        ))  # fmt: skip
        for person, password in (("p", "'argon'"), ("q", "NULL")):
            db.execute(text(
                "INSERT INTO people (id, organization_id, email, name, zone, is_admin,"
                " is_manager, is_rep, password_hash, active, created_at) VALUES"
                f" ('{person}', 'o', '{person}@acme.test', '', 'UTC', true, true, false,"
                f" {password}, true, '2026-01-02 00:00:00')"
            ))  # fmt: skip
        db.execute(text(
            "INSERT INTO digest_deliveries VALUES ('p', '2026-10-12', 'p@acme.test',"
            " '<d@acme.test>', '2026-10-19 08:00:00', 'd', 'o')"
        ))  # fmt: skip

    migrate(database, "head")

    with database.engine.connect() as db:
        outbox = db.execute(text("SELECT key, sent_at, message_id FROM outbox_messages")).all()
        verified = dict(db.execute(text("SELECT id, email_verified_at FROM people")).all())
    assert [(key, message_id) for key, _, message_id in outbox] == [
        (digest_key(date(2026, 10, 12), "p"), "<d@acme.test>")
    ]
    assert outbox[0][1] is not None  # sent: the digest job will not compose it again
    assert verified["p"] is not None and verified["q"] is None

    migrate(database, "0011", down=True)
    with database.engine.connect() as db:
        back = db.execute(text("SELECT person_id, week_start, message_id FROM digest_deliveries"))
        assert [tuple(row) for row in back] == [("p", "2026-10-12", "<d@acme.test>")]
    database.engine.dispose()
