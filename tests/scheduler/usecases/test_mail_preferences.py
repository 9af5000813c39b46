"""Opting out of one kind of email, per person; and resuming it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scheduler.models import AuditEntry, MailOptOut
from scheduler.usecases.mail_preferences import opted_out, opted_out_kinds, set_opt_out
from scheduler.usecases.scope import NotInOrganization
from tests.scheduler.usecases.conftest import NOW


def test_a_person_stops_and_resumes_one_kind(database, team):
    george, lena = team.rep_ids
    with database.session() as db:
        set_opt_out(db, org_id=team.org_id, person_id=george, kind="rep-items", off=True, now=NOW)
        set_opt_out(db, org_id=team.org_id, person_id=george, kind="rep-items", off=True, now=NOW)
        set_opt_out(db, org_id=team.org_id, person_id=george, kind="auto-move", off=True, now=NOW)
    with database.session() as db:
        assert opted_out(db, org_id=team.org_id, person_id=george, kind="rep-items")
        assert not opted_out(db, org_id=team.org_id, person_id=lena, kind="rep-items")
        assert opted_out_kinds(db, org_id=team.org_id, person_id=george) == {
            "rep-items",
            "auto-move",
        }
        assert db.query(MailOptOut).count() == 2  # stopping twice is stopping once
        set_opt_out(db, org_id=team.org_id, person_id=george, kind="rep-items", off=False, now=NOW)
    with database.session() as db:
        assert opted_out_kinds(db, org_id=team.org_id, person_id=george) == {"auto-move"}
        assert not opted_out(db, org_id="another-org", person_id=george, kind="auto-move")
        set_opt_out(db, org_id=team.org_id, person_id=george, kind="digest", off=False, now=NOW)
    with database.session() as db:  # each change in the audit log, the person its actor
        logged = db.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == george).order_by(AuditEntry.id)
        ).all()
    assert sorted(logged) == ["person.mail_resumed"] + ["person.mail_stopped"] * 2


def test_only_known_kinds_of_people_of_the_organisation(database, team):
    with database.session() as db, pytest.raises(ValueError):
        set_opt_out(db, org_id=team.org_id, person_id=team.manager_id, kind="verify-email",
                    off=True, now=NOW)  # fmt: skip
    with database.session() as db, pytest.raises(NotInOrganization):
        set_opt_out(db, org_id="another-org", person_id=team.manager_id, kind="digest",
                    off=True, now=NOW)  # fmt: skip
