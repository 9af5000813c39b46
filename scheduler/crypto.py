"""Secrets at rest: provider grants and channel secrets, encrypted with Fernet.

Keys come from ``CADENCE_TOKEN_KEYS`` (newest first). Adding a new key in front and running
``python -m scheduler.crypto rotate`` re-encrypts every stored secret with it; the old key can
then be removed.
"""

from __future__ import annotations

import argparse
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretUnreadable(Exception):
    """A stored secret was encrypted with a key that is no longer configured."""


class TokenCipher:
    def __init__(self, keys: tuple[str, ...] | list[str]):
        if not keys:
            raise ValueError("at least one Fernet key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as error:
            raise SecretUnreadable("no configured key decrypts this secret") from error

    def rotate(self, token: bytes) -> bytes:
        """The same secret, encrypted with the newest key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as error:
            raise SecretUnreadable("no configured key decrypts this secret") from error


def rotate_stored_secrets(database, cipher: TokenCipher) -> int:  # type: ignore[no-untyped-def]
    """Re-encrypt every stored secret with the newest key; returns how many were rewritten."""
    from sqlalchemy import select

    from scheduler.models import CalendarConnection, HeldConsent

    rewritten = 0
    with database.session() as session:
        for connection in session.scalars(select(CalendarConnection)):
            for column in ("token_blob", "channel_secret"):
                value = getattr(connection, column)
                if value:
                    setattr(connection, column, cipher.rotate(value))
                    rewritten += 1
        for consent in session.scalars(select(HeldConsent)):  # a grant awaiting its person
            consent.token_blob = cipher.rotate(consent.token_blob)
            rewritten += 1
    return rewritten


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scheduler.crypto")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("new-key", help="print a new Fernet key for CADENCE_TOKEN_KEYS")
    commands.add_parser("rotate", help="re-encrypt stored secrets with the newest key")
    args = parser.parse_args()
    if args.command == "new-key":
        print(Fernet.generate_key().decode())
        return
    from scheduler.db import Database
    from scheduler.settings import Settings

    settings = Settings.from_env(os.environ)
    count = rotate_stored_secrets(Database(settings.database_url), TokenCipher(settings.token_keys))
    print(f"re-encrypted {count} secrets with the newest key")


if __name__ == "__main__":
    main()
