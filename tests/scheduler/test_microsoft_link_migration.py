"""Migration 0018 on a database with consents held while their people choose: Google vouched
for each one held (it refused the others), no Microsoft one proved anything; and nobody is
linked to a Microsoft account yet (SQLite, or PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from scheduler.db import MIGRATIONS
from tests.scheduler.test_joining_migration import AT, engine, migrate  # noqa: F401


def downgrade(engine: Engine, revision: str) -> None:  # noqa: F811
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    command.downgrade(config, revision)


def test_held_google_consents_are_proven_microsoft_ones_not(engine):  # noqa: F811
    migrate(engine, "0017")
    at = AT.replace(tzinfo=None) if engine.dialect.name == "sqlite" else AT
    with engine.begin() as db:
        for held_id, provider in (("g", "google"), ("m", "microsoft")):
            db.execute(
                text(
                    "INSERT INTO held_consents (id, provider, email, name, token_blob,"
                    " zone_reading, created_at, expires_at) VALUES"
                    " (:id, :provider, 'vic@acme.test', 'Vic', :blob, '{}', :at, :at)"
                ),
                {"id": held_id, "provider": provider, "blob": b"grant", "at": at},
            )

    migrate(engine, "0018")

    with engine.connect() as db:
        held = dict(db.execute(text("SELECT id, address_proven FROM held_consents")).all())
        linked = db.execute(text("SELECT microsoft_account FROM held_consents")).scalars().all()
    assert held == {"g": True, "m": False} and linked == [None, None]
    downgrade(engine, "0017")
    with engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM held_consents")).scalar() == 2
