"""Push channels (Google watch channels, Graph subscriptions) kept open for each connection.

The channel's secret (Google's channel token, Graph's clientState) is the only proof a
notification is genuine, so it is stored encrypted like the grant itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from integrations.base import Channel, PushChannels
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.models import CalendarConnection, ConnectionStatus, PushMessageClaim
from scheduler.usecases.connections import reporting_lost_grants
from scheduler.usecases.scope import audit, get_in_org


def stored_channel(row: CalendarConnection, cipher: TokenCipher) -> Channel | None:
    """The connection's open channel, secret decrypted; ``None`` if it has none."""
    if not (row.channel_id and row.channel_secret and row.channel_expires_at):
        return None
    return Channel(
        channel_id=row.channel_id,
        resource_id=row.channel_resource_id or "",
        secret=cipher.decrypt(row.channel_secret).decode(),
        expires_at=row.channel_expires_at,
    )


def connection_for_channel(db: DbSession, channel_id: str) -> CalendarConnection | None:
    """The active connection a notification's channel / subscription id belongs to."""
    if not channel_id:
        return None
    return db.scalar(
        select(CalendarConnection).where(
            CalendarConnection.channel_id == channel_id,
            CalendarConnection.status == ConnectionStatus.ACTIVE,
        )
    )


def keep_channel_open(
    database: Database,
    push: PushChannels,
    cipher: TokenCipher,
    *,
    org_id: str,
    connection_id: str,
    callback_url: str,
    now: datetime,
    renew_within: timedelta,
    force: bool = False,
) -> bool:
    """Open the connection's channel, or renew it when less than ``renew_within`` is left
    (or ``force``); returns whether anything was asked of the provider. Safe to repeat."""
    with database.session() as db:
        row = get_in_org(db, CalendarConnection, org_id, connection_id)
        if row.status != ConnectionStatus.ACTIVE:
            return False
        channel = stored_channel(row, cipher)
    if channel is not None and not force and channel.expires_at - now > renew_within:
        return False
    with reporting_lost_grants(database, org_id=org_id, connection_id=connection_id, now=now):
        fresh = (
            push.open_channel(callback_url)
            if channel is None
            else push.renew_channel(channel, callback_url)
        )
    with database.session() as db:
        row = get_in_org(db, CalendarConnection, org_id, connection_id)
        row.channel_id = fresh.channel_id
        row.channel_resource_id = fresh.resource_id
        row.channel_secret = cipher.encrypt(fresh.secret.encode())
        row.channel_expires_at = fresh.expires_at
        # Claims of the channel this one replaces (Google renews by opening a new one).
        db.execute(
            delete(PushMessageClaim).where(
                PushMessageClaim.organization_id == org_id,
                PushMessageClaim.connection_id == connection_id,
                PushMessageClaim.channel_id != fresh.channel_id,
            )
        )
        audit(
            db,
            org_id=org_id,
            actor_id=None,
            action="calendar.channel_opened" if channel is None else "calendar.channel_renewed",
            subject=row,
            now=now,
            expires_at=fresh.expires_at.isoformat(),
        )
    return True
