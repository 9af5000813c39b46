"""Signed links: what they name, refused when forged, for another purpose, or expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.links import (
    UNSUBSCRIBE,
    UNSUBSCRIBE_LIFETIME,
    LinkExpired,
    LinkInvalid,
    link_url,
    read_link,
    sign_link,
    unsubscribe_token,
    unsubscribe_url,
)
from scheduler.settings import Settings

KEY = "k" * 40
NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)


def token(**more: object) -> str:
    args: dict = {
        "purpose": "move-week",
        "org_id": "org-1",
        "subject": {"session": "s-1", "start": "2026-12-09T15:00"},
        "expires_at": NOW + timedelta(days=2),
    }
    args.update(more)
    return sign_link(KEY, **args)


def test_a_link_reads_back_what_it_names():
    link = read_link(KEY, token(nonce="n-1"), purpose="move-week", now=NOW)
    assert link.purpose == "move-week" and link.org_id == "org-1" and link.nonce == "n-1"
    assert link.subject == {"session": "s-1", "start": "2026-12-09T15:00"}
    assert link.expires_at == NOW + timedelta(days=2)


def test_each_link_gets_its_own_nonce_unless_given_one():
    first = read_link(KEY, token(), purpose="move-week", now=NOW)
    second = read_link(KEY, token(), purpose="move-week", now=NOW)
    assert first.nonce != second.nonce and len(first.nonce) >= 16
    shared = [read_link(KEY, token(nonce="same"), purpose="move-week", now=NOW) for _ in "ab"]
    assert {link.nonce for link in shared} == {"same"}


def test_a_link_expires_at_its_instant():
    signed = token()
    read_link(KEY, signed, purpose="move-week", now=NOW + timedelta(days=2, seconds=-1))
    with pytest.raises(LinkExpired) as refused:
        read_link(KEY, signed, purpose="move-week", now=NOW + timedelta(days=2))
    assert refused.value.expires_at == NOW + timedelta(days=2)


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature altered
        lambda t: "x" + t,  # payload altered
        lambda t: "not-a-token",
        lambda t: sign_link("other" * 10, purpose="move-week", org_id="o", subject={},
                            expires_at=NOW + timedelta(days=1)),  # another key
    ],
)  # fmt: skip
def test_a_forged_link_is_invalid(change):
    with pytest.raises(LinkInvalid):
        read_link(KEY, change(token()), purpose="move-week", now=NOW)


def test_a_link_for_one_purpose_never_passes_for_another():
    with pytest.raises(LinkInvalid):
        read_link(KEY, token(), purpose="cancel-week", now=NOW)


def test_an_unsubscribe_link_names_the_person_and_kind_for_180_days():
    signed = unsubscribe_token(KEY, org_id="org-1", person_id="p-1", kind="digest", now=NOW)
    link = read_link(KEY, signed, purpose=UNSUBSCRIBE, now=NOW + timedelta(days=179))
    assert link.subject == {"person": "p-1", "kind": "digest"} and link.org_id == "org-1"
    with pytest.raises(LinkExpired):
        read_link(KEY, signed, purpose=UNSUBSCRIBE, now=NOW + UNSUBSCRIBE_LIFETIME)


def test_urls_of_links():
    assert link_url("https://c.test/", "/unsubscribe", "T") == "https://c.test/unsubscribe/T"
    settings = Settings.from_env(
        {"CADENCE_SECRET_KEY": KEY, "CADENCE_TOKEN_KEYS": "A" * 43 + "=",
         "CADENCE_BASE_URL": "https://cadence.acme.test"}
    )  # fmt: skip
    url = unsubscribe_url(settings, org_id="o", person_id="p", kind="conflict", now=NOW)
    prefix = "https://cadence.acme.test/unsubscribe/"
    assert url.startswith(prefix)
    link = read_link(KEY, url.removeprefix(prefix), purpose=UNSUBSCRIBE, now=NOW)
    assert link.subject == {"person": "p", "kind": "conflict"}
