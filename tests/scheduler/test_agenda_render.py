import re
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from integrations.base import AgendaDocument
from scheduler.agenda import DEFAULT_TEMPLATE, MAX_TOPICS, AgendaTopic, SessionAgenda
from scheduler.agenda_render import (
    MAX_LISTED,
    pdf_safe,
    render_html,
    render_pdf,
    render_text,
    to_document,
)
from scheduler.debrief import OpenActionItem, Owner

TITLES = DEFAULT_TEMPLATE.titles
URL = "https://cadence.example/agenda/s1?sig=abc&exp=1"

AGENDA = SessionAgenda(
    series_title="1:1 Patrick / Zoë Ñúñez",
    manager_name="Patrick",
    rep_name="Zoë Ñúñez",
    # Tuesday 10 March 2026: 09:00 in New York (EDT), 14:00 in Madrid (CET).
    start=datetime(2026, 3, 10, 13, 0, tzinfo=UTC),
    duration=timedelta(minutes=30),
    organiser_zone="America/New_York",
    rep_zone="Europe/Madrid",
    topics=DEFAULT_TEMPLATE.topics,
    url=URL,
    talking_points=("Renewal at Acme",),
    open_items=(
        OpenActionItem("a1", "Send the proposal", Owner.REP, date(2026, 3, 6), overdue=True),
        OpenActionItem("a2", "Call their CFO", Owner.MANAGER, date(2026, 3, 12), overdue=False),
    ),
)

HOSTILE = "<script>alert('x')</script>"


def pdf_text(pdf: bytes) -> str:
    """The text drawn on the pages: fpdf2 deflates each page's content stream."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL)
    return "".join(zlib.decompress(stream).decode("cp1252") for stream in streams)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def positions(haystack, needles):
    return [haystack.index(needle) for needle in needles]


@pytest.mark.parametrize("render", [render_text, render_html, lambda a: pdf_text(render_pdf(a))])
def test_the_six_topics_appear_in_order(render):
    rendered = render(AGENDA).replace("&#x27;", "'")
    found = positions(rendered, TITLES)
    assert found == sorted(found)


@pytest.mark.parametrize(
    "expected",
    [
        "Patrick: Tuesday 10 March 2026, 09:00–09:30 (America/New_York, EDT)",
        "Zoë Ñúñez: Tuesday 10 March 2026, 14:00–14:30 (Europe/Madrid, CET)",
        "Renewal at Acme",
        "Send the proposal",
        "Zoë Ñúñez, due Friday 6 March 2026 (overdue)",
        "Patrick, due Thursday 12 March 2026",
        URL,
    ],
)
def test_text_shows_times_talking_points_open_items_and_link(expected):
    assert expected in render_text(AGENDA)


def test_a_due_item_that_is_not_overdue_is_not_flagged():
    assert "Patrick, due Thursday 12 March 2026 (overdue)" not in render_text(AGENDA)


def test_one_zone_is_named_once_for_both_people():
    same_zone = replace(AGENDA, rep_zone="America/New_York")
    heading = render_text(same_zone).split("\n\n")[0]
    assert heading == (
        "1:1 Patrick / Zoë Ñúñez\nTuesday 10 March 2026, 09:00–09:30 (America/New_York, EDT)"
    )


@pytest.mark.parametrize("render", [render_text, render_html])
def test_the_invite_names_the_two_people_once_in_its_title(render):
    heading = render(AGENDA).split("Agenda")[0]
    # once in the title, once beside each one's own time: never "Patrick and Zoë" again
    assert heading.count("Patrick") == 2 and heading.count("Ñúñez") == 2
    assert "Patrick and Zoë" not in render(AGENDA)


def test_the_rep_sees_another_local_date_when_the_zone_says_so():
    tokyo = replace(AGENDA, rep_zone="Asia/Tokyo")
    assert "Zoë Ñúñez: Tuesday 10 March 2026, 22:00–22:30 (Asia/Tokyo, JST)" in render_text(tokyo)
    late = replace(tokyo, start=datetime(2026, 3, 10, 16, 0, tzinfo=UTC))
    assert "Zoë Ñúñez: Wednesday 11 March 2026, 01:00–01:30" in render_text(late)


@pytest.mark.parametrize(
    "field",
    ["series_title", "manager_name", "rep_name", "talking_points", "topics", "open_items"],
)
def test_html_escapes_every_string_a_person_typed(field):
    hostile = {
        "series_title": HOSTILE,
        "manager_name": HOSTILE,
        "rep_name": HOSTILE,
        "talking_points": (HOSTILE,),
        "topics": (AgendaTopic(HOSTILE, HOSTILE),),
        "open_items": (OpenActionItem("x", HOSTILE, Owner.REP, date(2026, 3, 1), True),),
    }[field]
    rendered = render_html(replace(AGENDA, **{field: hostile}))
    assert "<script>" not in rendered
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in rendered


def test_html_escapes_the_link():
    rendered = render_html(replace(AGENDA, url='https://x/"><script>'))
    assert '<a href="https://x/&quot;&gt;&lt;script&gt;">' in rendered


@pytest.mark.parametrize("count", [MAX_LISTED, MAX_LISTED + 3])
def test_long_lists_point_to_the_agenda_page(count):
    points = tuple(f"point {n}" for n in range(count))
    text = render_text(replace(AGENDA, talking_points=points))
    shown = [point for point in points if f"- {point}\n" in text]
    assert shown == list(points[:MAX_LISTED])
    assert ("and 3 more on the agenda page" in text) is (count > MAX_LISTED)


def test_the_pdf_is_a_pdf_with_the_agenda_in_it():
    pdf = render_pdf(AGENDA)
    text = pdf_text(pdf)
    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 1
    assert "Zoë Ñúñez" in text
    assert "Coaching to best practices" in text
    assert "Send the proposal" in text


def test_names_beyond_the_core_fonts_do_not_break_the_pdf():
    pdf = render_pdf(replace(AGENDA, rep_name="Łukasz Nguyễn 王", talking_points=("€ “ok” →",)))
    text = pdf_text(pdf)
    assert "Lukasz Nguyen ?" in text
    assert "€ “ok” ->" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zoë Ñúñez", "Zoë Ñúñez"),
        ("Łukasz Wałęsa", "Lukasz Walesa"),
        ("Nguyễn Đức", "Nguyen Duc"),
        ("Ștefan", "Stefan"),
        ("ﬁnance", "finance"),
        ("王", "?"),
        ("“quoted” – €5", "“quoted” – €5"),
    ],
)
def test_pdf_safe_folds_to_look_alikes(text, expected):
    assert pdf_safe(text) == expected


@pytest.mark.parametrize("letter", ["word ", "W"])  # ordinary text, and the widest letter
def test_the_longest_allowed_agenda_stays_within_two_pages(letter):
    topics = tuple(
        AgendaTopic(f"{n:02d}" + letter * 118, (letter * 240)[:240]) for n in range(MAX_TOPICS)
    )
    long_text = (letter * 500)[:500]
    items = tuple(
        OpenActionItem(str(n), long_text, Owner.REP, date(2026, 3, 1), True) for n in range(20)
    )
    worst = replace(AGENDA, topics=topics, talking_points=(long_text,) * 20, open_items=items)
    assert page_count(render_pdf(worst)) <= 2


@pytest.mark.parametrize(("length", "cut"), [(280, False), (281, True)])
def test_only_entries_longer_than_the_pdf_allows_are_cut(length, cut):
    point = ("word " * 100)[:length]
    text = pdf_text(render_pdf(replace(AGENDA, talking_points=(point,))))
    assert ("…" in text) is cut


def test_to_document_carries_every_rendering():
    document = to_document(AGENDA)
    assert isinstance(document, AgendaDocument)
    assert document.title == "1:1 Patrick / Zoë Ñúñez"
    assert document.text == render_text(AGENDA)
    assert document.html == render_html(AGENDA)
    assert document.url == URL
    assert document.pdf.startswith(b"%PDF")
    assert document.filename == "agenda-2026-03-10.pdf"
