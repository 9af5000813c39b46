"""Alembic environment: migrates the engine Cadence hands over, or DATABASE_URL from the CLI."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from scheduler.models import Base
from scheduler.settings import database_url_from

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # `alembic upgrade head` from a shell
        from scheduler.db import sqlalchemy_url

        engine = create_engine(sqlalchemy_url(database_url_from(os.environ)))
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
