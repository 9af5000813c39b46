"""Single use of signed links: spent once, even by uses racing each other (run on SQLite and,
with DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from scheduler.links import SignedLink
from scheduler.models import SpentLink
from scheduler.usecases.spent_links import LinkSpent, spend, spent
from tests.scheduler.usecases.conftest import NOW


def link(org_id: str, nonce: str = "n-1", purpose: str = "move-week") -> SignedLink:
    return SignedLink(purpose, org_id, {"session": "s-1"}, nonce, NOW + timedelta(days=2))


def test_a_link_is_spent_once_and_says_when_and_what_it_did(database, team):
    with database.session() as db:
        assert spent(db, org_id=team.org_id, nonce="n-1") is None
        spend(db, link(team.org_id), now=NOW, outcome="Moved to Wednesday 10:00")
    later = NOW + timedelta(hours=3)
    with database.session() as db, pytest.raises(LinkSpent) as refused:
        spend(db, link(team.org_id), now=later, outcome="Moved to Thursday 10:00")
    assert refused.value.spent_at == NOW and refused.value.outcome == "Moved to Wednesday 10:00"
    with database.session() as db:
        row = spent(db, org_id=team.org_id, nonce="n-1")
        assert row is not None and row.purpose == "move-week" and row.spent_at == NOW
        assert spent(db, org_id="another-org", nonce="n-1") is None  # scoped


def test_links_sharing_a_nonce_are_spent_by_using_one(database, team):
    with database.session() as db:
        spend(db, link(team.org_id, purpose="move-week"), now=NOW, outcome="Moved")
    with database.session() as db, pytest.raises(LinkSpent):
        spend(db, link(team.org_id, purpose="cancel-week"), now=NOW, outcome="Cancelled")


def test_a_spend_rolled_back_with_its_action_leaves_the_link_usable(database, team):
    with pytest.raises(RuntimeError), database.session() as db:
        spend(db, link(team.org_id), now=NOW, outcome="Moved")
        raise RuntimeError("the move failed at the provider")
    with database.session() as db:
        spend(db, link(team.org_id), now=NOW, outcome="Moved")  # no LinkSpent


def test_concurrent_uses_of_one_link_let_exactly_one_through(database, team):
    uses = 6
    start = threading.Barrier(uses)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def use(number: int) -> None:
        try:
            start.wait()
            with database.session() as db:
                spend(db, link(team.org_id), now=NOW, outcome=f"use {number}")
                time.sleep(0.2)  # the action, holding the transaction open
            outcomes.append(f"done {number}")
        except LinkSpent as refused:
            outcomes.append(f"refused: {refused.outcome}")
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=use, args=(n,)) for n in range(uses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    done = [o for o in outcomes if o.startswith("done")]
    assert len(done) == 1 and len(outcomes) == uses
    winner = done[0].removeprefix("done ")
    assert outcomes.count(f"refused: use {winner}") == uses - 1
    with database.session() as db:
        assert db.query(SpentLink).count() == 1
