"""Migration 0009 on a database that has people already: those who used Cadence are members,
those only added are pending invitations (SQLite, or PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, text

from scheduler.db import MIGRATIONS, sqlalchemy_url
from tests.conftest import POSTGRES

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own (a fresh schema on PostgreSQL)."""
    if not POSTGRES:
        engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    url = sqlalchemy_url(os.environ["DATABASE_URL"])
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def migrate(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    command.upgrade(config, revision)


def test_people_who_used_cadence_are_members_the_others_invitations(engine):
    migrate(engine, "0007")
    at = AT.replace(tzinfo=None) if engine.dialect.name == "sqlite" else AT
    people = [  # (id, email, password hash)
        ("p-admin", "ada@acme.test", None),  # created the organisation (the audit log says)
        ("p-password", "pat@acme.test", "$argon2id$stored"),
        ("p-google", "gail@acme.test", None),  # signed in with Google: her connection
        ("p-rep", "rita@acme.test", None),  # added, never signed in
    ]
    with engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO organizations (id, name, zone, horizon_weeks, agenda_period_weeks, "
                "grace_hours, min_action_items, meeting_minutes, stopped_after_weeks, "
                "video_meetings, join_domain, working_hours, holidays, created_at) VALUES "
                "('o1', 'Acme', 'UTC', 13, 13, 48, 3, 30, 3, false, '', '{}', '[]', :at)"
            ),
            {"at": at},
        )
        for person_id, email, password in people:
            db.execute(
                text(
                    "INSERT INTO people (id, organization_id, email, name, zone, is_admin, "
                    "is_manager, is_rep, password_hash, active, created_at) VALUES "
                    "(:id, 'o1', :email, '', 'UTC', false, true, false, :password, true, :at)"
                ),
                {"id": person_id, "email": email, "password": password, "at": at},
            )
        db.execute(
            text(
                "INSERT INTO audit_log (id, organization_id, actor_id, action, subject_type, "
                "subject_id, detail, at) VALUES ('a1', 'o1', 'p-admin', 'org.created', "
                "'Person', 'p-admin', '{}', :at)"
            ),
            {"at": at},
        )
        db.execute(
            text(
                "INSERT INTO calendar_connections (id, organization_id, person_id, provider, "
                "account_email, status, status_reason, created_at) VALUES ('c1', 'o1', "
                "'p-google', 'google', 'gail@acme.test', 'active', '', :at)"
            ),
            {"at": at},
        )

    migrate(engine, "head")

    with engine.connect() as db:
        rows = db.execute(text("SELECT id, joined_at, declined_at FROM people")).all()
    joined = {person_id: joined_at is not None for person_id, joined_at, _ in rows}
    assert joined == {"p-admin": True, "p-password": True, "p-google": True, "p-rep": False}
    assert all(declined_at is None for _, _, declined_at in rows)
