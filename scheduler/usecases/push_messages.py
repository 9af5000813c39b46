"""Google push messages acted on once: each is claimed in the database before any work.

Google numbers the messages of a channel and delivers one again when an answer is slow,
sometimes while the first delivery is still being handled. Checking a number and recording
it after the sync let three concurrent deliveries run three syncs. Here a delivery first
raises its channel's highest claimed number, in one upsert that only raises it: of
concurrent deliveries of one message exactly one gets a row back (the row lock decides, on
every database and across processes), and a number not above the highest is a replay or
arrived late (a sync since has read its change). This is the embedded default's claim; with
Redis, ``scheduler.jobs.coalesce.claim_message`` keeps the same number in a key.

Each claim is its own statement in its own transaction (autocommit): at hundreds of
notifications a second for one channel, a claim holds the channel's row only while the
database runs it, never while this process gets round to a COMMIT.
"""

from __future__ import annotations

from sqlalchemy import Connection, TextClause, text

from scheduler.db import Database

_RAISE = """
INSERT INTO push_message_claims AS claim
    (channel_id, message_number, organization_id, connection_id)
{values}
ON CONFLICT (channel_id) DO UPDATE SET message_number = excluded.message_number
    WHERE claim.message_number < excluded.message_number
RETURNING message_number
"""
_CLAIM: dict[str, TextClause] = {
    "sqlite": text(_RAISE.format(values="VALUES (:channel_id, :number, :org_id, :connection_id)")),
    # PostgreSQL: the commit does not wait for the WAL flush. A claim lost with a crashed
    # database server costs at most one redundant sync (a later delivery claims again);
    # waiting for the disk costs every webhook milliseconds, tens of them on a busy disk.
    "postgresql": text(
        "WITH unhurried AS (SELECT set_config('synchronous_commit', 'off', true))\n"
        + _RAISE.format(
            values="SELECT :channel_id, :number, :org_id, :connection_id FROM unhurried"
        )
    ),
}
_RELEASE = text(
    "DELETE FROM push_message_claims WHERE organization_id = :org_id"
    " AND channel_id = :channel_id AND message_number = :number"
)


def claim_message(
    database: Database, *, org_id: str, connection_id: str, channel_id: str, number: int
) -> bool:
    """Whether this delivery of message ``number`` is the one to act on."""
    with _autocommit(database) as connection:
        claimed = connection.execute(
            _CLAIM[connection.dialect.name],
            {
                "channel_id": channel_id,
                "number": number,
                "org_id": org_id,
                "connection_id": connection_id,
            },
        ).first()
    return claimed is not None


def release_message(database: Database, *, org_id: str, channel_id: str, number: int) -> None:
    """Give a claim back: the work it was for could not be requested (Google will deliver
    the message again, and it must not then read as a replay)."""
    with _autocommit(database) as connection:
        connection.execute(_RELEASE, {"org_id": org_id, "channel_id": channel_id, "number": number})


def _autocommit(database: Database) -> Connection:
    return database.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
