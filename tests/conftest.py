"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Connection, select, text

from scheduler.db import Database
from scheduler.models import Base, ManagerItemWeek, ManagerWeek, Organization, Person
from scheduler.reports.derived import rebuild_derived_rows
from scheduler.settings import Settings
from tests.smtp import SmtpServer

POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql"))


@pytest.fixture(scope="session")
def token_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def settings(token_key: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "CADENCE_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "CADENCE_TOKEN_KEYS": token_key,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cadence.db'}",
            "CADENCE_BASE_URL": "http://127.0.0.1:5000",
        }
    )


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd), plain, for one test."""
    server = SmtpServer().start()
    yield server
    server.stop()


def with_smtp(settings: Settings, url: str, **more: object) -> Settings:
    """``settings`` sending mail to ``url``."""
    return dataclasses.replace(settings, smtp_url=url, **more)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def _migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per run: a SQLite file to copy, or a PostgreSQL schema."""
    if POSTGRES:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = Database(os.environ["DATABASE_URL"])
        with admin.engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        database = Database(
            os.environ["DATABASE_URL"], connect_args={"options": f"-csearch_path={schema}"}
        )
        database.create_schema()
        database.engine.dispose()
        yield schema
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.engine.dispose()
    else:
        path = tmp_path_factory.mktemp("schema") / "template.db"
        database = Database(f"sqlite:///{path}")
        database.create_schema()
        database.engine.dispose()
        yield str(path)


@pytest.fixture
def database(_migrated: str, tmp_path: Path) -> Iterator[Database]:
    """An empty, fully migrated database for one test."""
    if POSTGRES:
        database = Database(
            os.environ["DATABASE_URL"], connect_args={"options": f"-csearch_path={_migrated}"}
        )
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        with database.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    else:
        path = tmp_path / "cadence.db"
        shutil.copyfile(_migrated, path)
        database = Database(f"sqlite:///{path}")
    yield database
    assert_derived_rows_current(database)
    database.engine.dispose()


def _derived(connection: Connection) -> dict[str, list[tuple]]:
    def rows(table) -> list[tuple]:  # type: ignore[no-untyped-def]
        return sorted(tuple(row) for row in connection.execute(select(table)))

    facts = select(
        Person.id,
        Person.cadence_first_start,
        Person.cadence_booked_through,
        Person.cadence_last_held_at,
    )
    return {
        "facts": sorted(tuple(row) for row in connection.execute(facts)),
        "manager_weeks": rows(ManagerWeek.__table__),
        "manager_item_weeks": rows(ManagerItemWeek.__table__),
    }


def assert_derived_rows_current(database: Database) -> None:
    """What every test left in the reports' derived rows is what a recount gives.

    Run after each test that had a database: a write that bypassed the ORM (and so the
    flushes that keep those rows) fails the test that made it.
    """
    with database.engine.connect() as connection, connection.begin() as transaction:
        kept = _derived(connection)
        for org_id in connection.scalars(select(Organization.id)).all():
            rebuild_derived_rows(connection, org_id)
        recounted = _derived(connection)
        transaction.rollback()
    for name in kept:
        assert kept[name] == recounted[name], f"{name} differ from a recount"
