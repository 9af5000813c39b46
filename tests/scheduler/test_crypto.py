from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from scheduler.crypto import SecretUnreadable, TokenCipher, rotate_stored_secrets
from scheduler.models import CalendarConnection, Organization, Person, Provider
from scheduler.usecases.held_consents import Consent, held, hold
from scheduler.usecases.person_time import ZoneReading


def test_round_trip_and_ciphertext_hides_the_secret():
    cipher = TokenCipher([Fernet.generate_key().decode()])
    token = cipher.encrypt(b"refresh-token-123")
    assert b"refresh-token-123" not in token
    assert cipher.decrypt(token) == b"refresh-token-123"


def test_a_secret_from_an_unknown_key_is_refused_clearly():
    token = TokenCipher([Fernet.generate_key().decode()]).encrypt(b"x")
    with pytest.raises(SecretUnreadable):
        TokenCipher([Fernet.generate_key().decode()]).decrypt(token)


def test_rotation_rewrites_stored_secrets_so_the_old_key_can_go(database):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    now = datetime(2026, 1, 5, tzinfo=UTC)
    with database.session() as session:
        org = Organization(name="Acme", created_at=now)
        session.add(org)
        session.flush()
        manager = Person(organization_id=org.id, email="m@acme.test", created_at=now)
        session.add(manager)
        session.flush()
        session.add(
            CalendarConnection(
                organization_id=org.id,
                person_id=manager.id,
                provider=Provider.GOOGLE,
                account_email="m@acme.test",
                token_blob=TokenCipher([old]).encrypt(b"grant"),
                channel_secret=TokenCipher([old]).encrypt(b"channel-token"),
                created_at=now,
            )
        )

    assert rotate_stored_secrets(database, TokenCipher([new, old])) == 2

    only_new = TokenCipher([new])
    with database.session() as session:
        connection = session.query(CalendarConnection).one()
        assert only_new.decrypt(connection.token_blob) == b"grant"
        assert only_new.decrypt(connection.channel_secret) == b"channel-token"


def test_rotation_rewrites_a_grant_held_while_its_person_chooses(database):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    now = datetime(2026, 1, 5, tzinfo=UTC)
    consent = Consent(
        Provider.GOOGLE, "vic@acme.test", "Vic", b"grant", ZoneReading("Google", None)
    )
    held_id = hold(database, TokenCipher([old]), consent, now=now)

    assert rotate_stored_secrets(database, TokenCipher([new, old])) == 1

    assert held(database, TokenCipher([new]), held_id, now=now) == consent
