"""Benchmarks, runnable as modules: ``python -m bench.slots``."""

from __future__ import annotations

from datetime import datetime

from flask.testing import FlaskClient

from scheduler.db import Database
from scheduler.models import Person
from scheduler.usecases.login_sessions import start_session


def sign_in_as(client: FlaskClient, database: Database, person_id: str, now: datetime) -> None:
    """Give ``client`` the cookie of a server-side session for ``person_id``, as signing in
    does (sessions are revocable: a cookie naming a person alone is not signed in)."""
    with database.session() as db:
        person = db.get(Person, person_id)
        assert person is not None
        token = start_session(db, person, now=now)
        org_id = person.organization_id
    with client.session_transaction() as session:
        session["person_id"], session["org_id"], session["sid"] = person_id, org_id, token
