"""microsoft account links

``people.microsoft_account``: the Microsoft account (``<tid>/<oid>``) that signs in as the
person without proving the address again. A Microsoft ID token's ``email`` is whatever the
account's tenant set, so a returning Microsoft user is known by this link, not by the address.
Nobody is linked yet: a member who signed in with Microsoft before proves the address once
(Microsoft's ``xms_edov``, or the link Cadence mails).

``held_consents.address_proven`` and ``microsoft_account``: what the held consent's provider
said of the address, and its Microsoft account. Google vouched for every consent held so
far (one it did not vouch for was refused); no Microsoft one proved anything.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("microsoft_account", sa.String(length=100), nullable=True))
    with op.batch_alter_table("held_consents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address_proven", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("microsoft_account", sa.String(length=100), nullable=True))
    held = sa.table("held_consents", sa.column("provider"), sa.column("address_proven"))
    op.execute(held.update().where(held.c.provider == "google").values(address_proven=True))


def downgrade() -> None:
    with op.batch_alter_table("held_consents", schema=None) as batch_op:
        batch_op.drop_column("microsoft_account")
        batch_op.drop_column("address_proven")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("microsoft_account")
