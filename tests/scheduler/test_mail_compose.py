"""Composing an email of blocks, and dates on the recipient's clock in their language."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from scheduler.mail.compose import Action, Bullets, Para, compose
from scheduler.mail.dates import DATE_LOCALES, day, when
from scheduler.mail.kinds import KIND_LABELS, MailKind, kinds_for

URL = "https://cadence.test/unsubscribe/TOKEN"


def mail(**more: object):  # type: ignore[no-untyped-def]
    args: dict = {
        "org_id": "org-1",
        "key": "conflict/s-1/p-1",
        "kind": MailKind.CONFLICT,
        "person": ("pat@acme.test", "Pat <Boss>", "p-1"),
        "subject": "A conflict on Tuesday",
        "blocks": [
            Para("George is busy then & can't make it."),
            Action("Move to Wednesday", "https://cadence.test/l/a?x=1&y=2"),
            Bullets(["Pipeline <review>", "Hiring"]),
        ],
        "unsubscribe_url": URL,
    }
    args.update(more)
    return compose(**args)


def test_the_plain_text_has_greeting_blocks_and_footer():
    m = mail()
    assert m.to == "pat@acme.test" and m.person_id == "p-1" and m.kind == "conflict"
    assert m.unsubscribe_url == URL
    assert m.text.startswith("Hello Pat <Boss>,\n\nGeorge is busy then & can't make it.\n")
    assert "Move to Wednesday: https://cadence.test/l/a?x=1&y=2" in m.text
    assert "- Pipeline <review>\n- Hiring" in m.text
    assert f"Why you get this: {KIND_LABELS[MailKind.CONFLICT][1]}" in m.text
    assert m.text.rstrip().endswith(f"Stop these emails (Conflict): {URL}")


def test_the_html_is_escaped_and_has_a_button_and_the_stop_link():
    html = mail().html
    assert "Pat &lt;Boss&gt;" in html and "Pat <Boss>" not in html
    assert "can&#39;t" in html and "Pipeline &lt;review&gt;" in html
    assert '<a href="https://cadence.test/l/a?x=1&amp;y=2" style="display:inline-block' in html
    assert f'<a href="{URL}">Stop these emails</a>' in html


def test_without_an_unsubscribe_link_there_is_no_stop_line():
    m = mail(unsubscribe_url="")
    assert "Stop these emails" not in m.text + m.html and m.unsubscribe_url == ""


def test_a_nameless_person_is_greeted_plainly():
    assert mail(person=("pat@acme.test", "", "p-1")).text.startswith("Hello,\n")


def test_the_kinds_each_role_gets():
    assert kinds_for(is_admin=False, is_manager=True, is_rep=False) == [
        MailKind.CONFLICT, MailKind.AUTO_MOVE, MailKind.DEBRIEF_NUDGE, MailKind.DIGEST,
    ]  # fmt: skip
    assert kinds_for(is_admin=False, is_manager=False, is_rep=True) == [
        MailKind.AUTO_MOVE,
        MailKind.REP_ITEMS,
    ]
    assert kinds_for(is_admin=True, is_manager=False, is_rep=False) == [MailKind.DIGEST]
    assert set(KIND_LABELS) == set(MailKind)


TUESDAY_3PM_UTC = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "locale", "expected"),
    [
        ("America/New_York", "en_US", "Tuesday, December 8 at 10:00 AM (New York)"),
        ("Europe/London", "en_GB", "Tuesday 8 December at 15:00 (London)"),
        ("Europe/Paris", "fr_FR", "mardi 8 décembre à 16:00 (Paris)"),
        ("Europe/Berlin", "de_DE", "Dienstag, 8. Dezember um 16:00 (Berlin)"),
        ("Asia/Tokyo", "en_US", "Wednesday, December 9 at 12:00 AM (Tokyo)"),
        ("America/New_York", "xx_YY", "Tuesday, December 8 at 10:00 AM (New York)"),
    ],
)
def test_when_is_on_the_recipients_clock_in_their_language(zone, locale, expected):
    assert when(TUESDAY_3PM_UTC, zone, locale) == expected


def test_days_in_every_offered_language():
    assert day(date(2026, 12, 8), "en_US") == "Tuesday, December 8"
    assert day(date(2026, 12, 8), "en_US", with_year=True) == "Tuesday, December 8, 2026"
    assert day(date(2026, 12, 8), "es_ES") == "martes, 8 de diciembre"
    for locale in DATE_LOCALES:
        assert "2026" not in day(date(2026, 12, 8), locale)
        assert "8" in when(TUESDAY_3PM_UTC, "UTC", locale)


def test_when_refuses_a_naive_instant():
    with pytest.raises(ValueError):
        when(datetime(2026, 12, 8, 15, 0), "UTC", "en_US")


def test_an_account_mail_is_secret_and_names_no_recipient_to_check_opt_outs_for():
    m = mail(kind="verify-email", key="verify-email/p-1/abc", unsubscribe_url="", secret=True)
    assert m.secret and m.person_id is None and m.kind == "verify-email"
    assert m.text.rstrip().endswith("You get this email from Cadence.")
    assert not mail().secret and mail().person_id == "p-1"
