"""The database: one engine per process, sessions per unit of work, schema via Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.reports.derived import keep_derived_rows

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Database:
    def __init__(self, url: str, *, connect_args: dict[str, Any] | None = None):
        self.url = url = sqlalchemy_url(url)
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(
            url, pool_pre_ping=True, connect_args=connect_args or {}, future=True
        )
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Rows the reports read that are derived from others, recomputed after each flush.
        keep_derived_rows(self.sessions)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("select 1"))
            return True
        except OperationalError:
            return False

    def create_schema(self) -> None:
        """Bring the schema to the newest migration."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        command.upgrade(config, "head")


def insert_unless_present(
    db: Session, model: type[Any], *, unique: list[str], **values: Any
) -> bool:
    """Insert one row unless a row with the same ``unique`` columns exists; whether it did.

    One ``INSERT … ON CONFLICT DO NOTHING``: of two concurrent inserts of one key, the second
    waits for the first's outcome (PostgreSQL) or for SQLite's write lock, then inserts
    nothing — without a savepoint (with pysqlite, releasing a savepoint that opened the
    transaction commits it, ahead of the rest of the unit of work).
    """
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    primary_key = model.__table__.primary_key.columns.values()[0]
    inserted = db.scalar(
        insert(model).values(**values).on_conflict_do_nothing(index_elements=unique)
        .returning(primary_key)
    )  # fmt: skip
    return inserted is not None


def sqlalchemy_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` URLs use psycopg 3, the driver Cadence installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
