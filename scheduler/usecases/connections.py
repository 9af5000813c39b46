"""Calendar connections: their encrypted grants, and what happens when a grant dies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select

from integrations.base import ReconnectRequired
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.models import CalendarConnection, ConnectionStatus, Person, Provider
from scheduler.usecases.scope import audit, get_in_org


class ConnectionTokenStore:
    """The ``TokenStore`` of one connection: the grant lives encrypted in its row."""

    def __init__(self, database: Database, cipher: TokenCipher, org_id: str, connection_id: str):
        self._database = database
        self._cipher = cipher
        self._org_id = org_id
        self._connection_id = connection_id

    def load(self) -> bytes | None:
        with self._database.session() as db:
            blob = get_in_org(db, CalendarConnection, self._org_id, self._connection_id).token_blob
        return self._cipher.decrypt(blob) if blob else None

    def save(self, blob: bytes) -> None:
        with self._database.session() as db:
            row = get_in_org(db, CalendarConnection, self._org_id, self._connection_id)
            row.token_blob = self._cipher.encrypt(blob)


def owner_zone(database: Database, connection: CalendarConnection) -> str:
    """The zone of the person a connection belongs to."""
    with database.session() as db:
        return get_in_org(db, Person, connection.organization_id, connection.person_id).zone


def save_connection(
    database: Database,
    cipher: TokenCipher,
    *,
    org_id: str,
    person_id: str,
    provider: Provider,
    account_email: str,
    grant: bytes,
    now: datetime,
) -> str:
    """Store (or refresh, on reconnect) a person's connection; returns its id."""
    with database.session() as db:
        row = db.scalar(
            select(CalendarConnection).where(
                CalendarConnection.organization_id == org_id,
                CalendarConnection.provider == provider,
                CalendarConnection.account_email == account_email.lower(),
            )
        )
        if row is None:
            row = CalendarConnection(
                organization_id=org_id,
                provider=provider,
                account_email=account_email.lower(),
                created_at=now,
            )
            db.add(row)
        row.person_id = person_id
        row.token_blob = cipher.encrypt(grant)
        row.status = ConnectionStatus.ACTIVE
        row.status_reason = ""
        db.flush()
        audit(
            db, org_id=org_id, actor_id=person_id, action="calendar.connected", subject=row, now=now
        )
        return row.id


def mark_reconnect_required(
    database: Database, *, org_id: str, connection_id: str, reason: str, now: datetime
) -> None:
    """The grant is gone: flag the connection so the manager and admins see a reconnect link."""
    with database.session() as db:
        row = get_in_org(db, CalendarConnection, org_id, connection_id)
        if row.status != ConnectionStatus.RECONNECT_REQUIRED:
            row.status = ConnectionStatus.RECONNECT_REQUIRED
            row.status_reason = reason
            audit(
                db,
                org_id=org_id,
                actor_id=None,
                action="calendar.reconnect_required",
                subject=row,
                now=now,
                reason=reason,
            )


@contextmanager
def reporting_lost_grants(
    database: Database, *, org_id: str, connection_id: str, now: datetime
) -> Iterator[None]:
    """Run provider calls; a ``ReconnectRequired`` marks the connection, then propagates."""
    try:
        yield
    except ReconnectRequired as error:
        mark_reconnect_required(
            database, org_id=org_id, connection_id=connection_id, reason=str(error), now=now
        )
        raise


def disconnect(
    database: Database, *, org_id: str, connection_id: str, actor_id: str, now: datetime
) -> None:
    """Forget the grant (the row stays for history); booked series stay in the calendar."""
    with database.session() as db:
        row = get_in_org(db, CalendarConnection, org_id, connection_id)
        row.token_blob = None
        row.status = ConnectionStatus.DISCONNECTED
        row.status_reason = "disconnected in Cadence"
        audit(
            db,
            org_id=org_id,
            actor_id=actor_id,
            action="calendar.disconnected",
            subject=row,
            now=now,
        )
