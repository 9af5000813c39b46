"""A Google or Microsoft consent kept while its person chooses which organisation to join.

The grant is stored for no organisation until the person accepts one, so it waits here,
encrypted with the same keys as a connection's, for at most ``HOLD_FOR``. The browser keeps
only the row's id, in its signed session; the row is deleted when the person chooses, and
expired rows are deleted whenever another consent is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete

from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.models import HeldConsent, Provider
from scheduler.usecases.joining import SignIn
from scheduler.usecases.person_time import ZoneReading

HOLD_FOR = timedelta(minutes=30)


@dataclass(frozen=True)
class Consent:
    """A finished consent: who signed in, the grant, what the provider said of the zone.

    ``address_proven``: the provider vouched for the address (Google's ``email_verified``; a
    Google consent without it signs nobody in, web/auth.py) or Microsoft's ``xms_edov``
    (web/oauth.py). Without it, the address is whatever the Microsoft account's tenant set:
    the consent enters only rows linked to ``microsoft_account`` (``<tid>/<oid>``) and
    founds organisations; anything else waits for the link mailed to the address
    (scheduler/usecases/joining.py).
    """

    provider: Provider
    email: str
    name: str
    grant: bytes
    zone: ZoneReading
    address_proven: bool = False
    microsoft_account: str | None = None

    @property
    def who(self) -> SignIn:
        """What the consent says of who it is, as joining reads it."""
        return SignIn(self.email, self.address_proven, self.microsoft_account)


def hold(database: Database, cipher: TokenCipher, consent: Consent, *, now: datetime) -> str:
    """Keep ``consent`` for ``HOLD_FOR``; returns the id the browser keeps."""
    with database.session() as db:
        db.execute(delete(HeldConsent).where(HeldConsent.expires_at <= now))
        row = HeldConsent(
            provider=consent.provider,
            email=consent.email,
            name=consent.name,
            token_blob=cipher.encrypt(consent.grant),
            zone_reading=consent.zone.to_shape(),
            address_proven=consent.address_proven,
            microsoft_account=consent.microsoft_account,
            created_at=now,
            expires_at=now + HOLD_FOR,
        )
        db.add(row)
        db.flush()
        return row.id


def held(database: Database, cipher: TokenCipher, held_id: str, *, now: datetime) -> Consent | None:
    """The consent kept under ``held_id``, or ``None`` once expired or dropped."""
    with database.session() as db:
        row = db.get(HeldConsent, held_id)
        if row is None or row.expires_at <= now:
            return None
        return Consent(
            provider=row.provider,
            email=row.email,
            name=row.name,
            grant=cipher.decrypt(row.token_blob),
            zone=ZoneReading.from_shape(row.zone_reading),
            address_proven=row.address_proven,
            microsoft_account=row.microsoft_account,
        )


def drop(database: Database, held_id: str) -> None:
    """Forget the consent (the person chose: its grant is stored elsewhere, or nowhere)."""
    with database.session() as db:
        db.execute(delete(HeldConsent).where(HeldConsent.id == held_id))
