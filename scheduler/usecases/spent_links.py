"""Single use of signed links (``scheduler.links``): a link's nonce is spent once.

``spend`` inserts the nonce's ``spent_links`` row unless it is there
(``scheduler.db.insert_unless_present``): the unique nonce lets exactly one of two
concurrent uses in (the other's insert waits for the first to commit, then inserts
nothing), and that one raises ``LinkSpent`` saying when and with what outcome.
Call it in the same unit of work as the action the link does, before it: the action and the
spending commit or roll back together.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduler.db import insert_unless_present
from scheduler.links import LinkRefused, SignedLink
from scheduler.models import SpentLink, new_id
from scheduler.models.access import LINK_OUTCOME


class LinkSpent(LinkRefused):
    """The link (or one sharing its nonce) was already used."""

    def __init__(self, spent_at: datetime, outcome: str):
        super().__init__(f"already used on {spent_at.isoformat()}: {outcome}")
        self.spent_at = spent_at
        self.outcome = outcome


def spend(db: DbSession, link: SignedLink, *, now: datetime, outcome: str) -> None:
    """Mark ``link``'s nonce used, with what using it did; ``LinkSpent`` if it already was."""
    if insert_unless_present(
        db,
        SpentLink,
        unique=["nonce"],
        id=new_id(),
        organization_id=link.org_id,
        nonce=link.nonce,
        purpose=link.purpose,
        spent_at=now,
        outcome=outcome[:LINK_OUTCOME],
    ):
        return
    earlier = db.scalars(select(SpentLink).where(SpentLink.nonce == link.nonce)).one()
    raise LinkSpent(earlier.spent_at, earlier.outcome)


def spent(db: DbSession, *, org_id: str, nonce: str) -> SpentLink | None:
    """The use of ``nonce`` in the organisation, if any (a GET page shows it instead of the
    action)."""
    return db.scalar(
        select(SpentLink).where(SpentLink.organization_id == org_id, SpentLink.nonce == nonce)
    )


__all__ = ["LinkSpent", "spend", "spent"]
