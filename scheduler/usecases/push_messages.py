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

from sqlalchemy import delete, or_, select, text
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
    postgresql = db.get_bind().dialect.name == "postgresql"
    if postgresql:
        _without_waiting_for_disk(db)
    insert = postgresql_insert if postgresql else sqlite_insert
    inserted = db.scalar(
        insert(PushMessageClaim)
        .values(
            channel_id=channel_id,
            message_number=number,
            organization_id=org_id,
            connection_id=connection_id,
            claimed_at=now,
        )
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
    db.execute(
        delete(PushMessageClaim).where(
            PushMessageClaim.organization_id == org_id,
            PushMessageClaim.connection_id == connection_id,
            or_(
                PushMessageClaim.channel_id != channel_id,
                PushMessageClaim.message_number < newest,
            ),
        )
    )
    return later is None


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
