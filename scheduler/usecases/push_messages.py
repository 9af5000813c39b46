"""Google push messages acted on once: each is claimed in the database before any work.

Google numbers the messages of a channel and delivers one again when an answer is slow,
sometimes while the first delivery is still being handled. Checking a number and recording
it after the sync let three concurrent deliveries run three syncs; inserting the message's
row first lets exactly one of them through (the primary key decides, on every database and
across processes). A number not above one already claimed is a replay or arrived late: a
sync since has read its change. Only the newest claims of a connection's current channel
are kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Delete, delete, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as DbSession

from scheduler.models import PushMessageClaim


def claim_message(
    db: DbSession,
    *,
    org_id: str,
    connection_id: str,
    channel_id: str,
    number: int,
    now: datetime,
) -> bool:
    """Whether this delivery of message ``number`` is the one to act on.

    The insert comes first in its transaction: SQLite then takes its write lock before
    reading (a read that upgraded later could fail instead of waiting), and PostgreSQL makes
    a concurrent insert of the same key wait for this one's outcome.
    """
    row = {
        "channel_id": channel_id,
        "message_number": number,
        "organization_id": org_id,
        "connection_id": connection_id,
        "claimed_at": now,
    }
    if db.get_bind().dialect.name == "postgresql":
        return _claim_in_one_statement(db, row)
    inserted = db.scalar(
        sqlite_insert(PushMessageClaim)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["channel_id", "message_number"])
        .returning(PushMessageClaim.message_number)
    )
    if inserted is None:  # another delivery holds the claim
        return False
    later = db.scalar(
        select(PushMessageClaim.message_number)
        .where(
            PushMessageClaim.channel_id == channel_id,
            PushMessageClaim.message_number > number,
        )
        .limit(1)
    )
    newest = number if later is None else later
    db.execute(_older_claims(org_id, connection_id, channel_id, newest))
    return later is None


def _claim_in_one_statement(db: DbSession, row: dict[str, Any]) -> bool:
    """``claim_message`` on PostgreSQL in one statement (one round trip instead of four,
    which is most of what a webhook costs there), its commit not waiting for the disk.

    The number is inserted only when no later one is claimed (a late or replayed message
    leaves no row), and the connection's older claims are swept when it was. An insert of
    the same key by a concurrent claim still waits for that claim's outcome, as a separate
    INSERT would.
    """
    columns = list(row)
    later = (
        select(PushMessageClaim.message_number)
        .where(
            PushMessageClaim.channel_id == row["channel_id"],
            PushMessageClaim.message_number > row["message_number"],
        )
        .exists()
    )
    values = select(
        *(literal(row[name], getattr(PushMessageClaim, name).type) for name in columns)
    ).where(~later)
    claimed = (
        postgresql_insert(PushMessageClaim)
        .from_select(columns, values)
        .on_conflict_do_nothing(index_elements=["channel_id", "message_number"])
        .returning(PushMessageClaim.message_number)
        .cte("claimed")
    )
    swept = (
        _older_claims(
            row["organization_id"], row["connection_id"], row["channel_id"], row["message_number"]
        )
        .where(select(claimed.c.message_number).exists())
        .returning(PushMessageClaim.message_number)
        .cte("swept")
    )
    unhurried = select(func.set_config("synchronous_commit", "off", True)).cte("unhurried")
    got, _, _ = db.execute(
        select(
            *(
                select(func.count()).select_from(cte).scalar_subquery()
                for cte in (claimed, swept, unhurried)
            )
        )
    ).one()
    return bool(got)


def _older_claims(org_id: str, connection_id: str, channel_id: str, newest: Any) -> Delete:
    """Delete the connection's claims below ``newest`` and those of its earlier channels."""
    return delete(PushMessageClaim).where(
        PushMessageClaim.organization_id == org_id,
        PushMessageClaim.connection_id == connection_id,
        or_(
            PushMessageClaim.channel_id != channel_id,
            PushMessageClaim.message_number < newest,
        ),
    )


def release_message(db: DbSession, *, org_id: str, channel_id: str, number: int) -> None:
    """Give a claim back: the work it was for could not be requested (the provider will
    deliver the message again)."""
    if db.get_bind().dialect.name == "postgresql":
        _without_waiting_for_disk(db)
    db.execute(
        delete(PushMessageClaim).where(
            PushMessageClaim.organization_id == org_id,
            PushMessageClaim.channel_id == channel_id,
            PushMessageClaim.message_number == number,
        )
    )


def _without_waiting_for_disk(db: DbSession) -> None:
    """Commit this transaction without waiting for its WAL flush (PostgreSQL).

    A webhook answers after its claim commits, and a flush costs milliseconds to tens of
    them on a busy disk. A claim lost with a crashed database server costs at most one
    redundant sync (the next delivery of the message claims it again); it is never wrong.
    """
    db.execute(text("SET LOCAL synchronous_commit = off"))
