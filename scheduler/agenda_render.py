"""A session's agenda as it travels with the invite: plain text, HTML, PDF, one document.

All three renderings lay out the same content (``_content``), so they never disagree:
plain text for Google and CalDAV event descriptions, HTML for Outlook bodies (every string
that came from a person is escaped), and a one-to-two-page PDF for the attachment.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from integrations.base import AgendaDocument
from scheduler.agenda import SessionAgenda
from scheduler.debrief import OpenActionItem, Owner

# Invites stay short: longer lists end with a pointer to the agenda page, which has them all.
MAX_LISTED = 5
PDF_MAX_PAGES = 2
# The longest a PDF entry's text may be, tried in turn until the agenda fits PDF_MAX_PAGES.
PDF_ENTRY_CHARS = (280, 140, 70)

# Characters whose decomposition (NFKD) has no Windows-1252 look-alike.
_FOLDS = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "→": "->"}
)

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class _Entry:
    text: str
    detail: str = ""


@dataclass(frozen=True)
class _Section:
    heading: str
    entries: tuple[_Entry, ...]
    numbered: bool = False


@dataclass(frozen=True)
class _Content:
    title: str
    when: tuple[str, ...]
    sections: tuple[_Section, ...]
    link_label: str
    url: str


def render_text(agenda: SessionAgenda) -> str:
    """The agenda as plain text, for event descriptions that show no markup."""
    content = _content(agenda)
    blocks = ["\n".join((content.title, *content.when))]
    for section in content.sections:
        lines = [section.heading]
        for number, entry in enumerate(section.entries, start=1):
            bullet = f"{number}." if section.numbered else "-"
            lines.append(f"{bullet} {entry.text}")
            if entry.detail:
                lines.append(f"{' ' * (len(bullet) + 1)}{entry.detail}")
        blocks.append("\n".join(lines))
    blocks.append(f"{content.link_label}: {content.url}")
    return "\n\n".join(blocks) + "\n"


def render_html(agenda: SessionAgenda) -> str:
    """The agenda as an HTML fragment for Outlook bodies; every text is escaped."""
    content = _content(agenda)
    parts = [f"<h2>{_e(content.title)}</h2>"]
    parts.extend(f"<p>{_e(line)}</p>" for line in content.when)
    for section in content.sections:
        tag = "ol" if section.numbered else "ul"
        items = "".join(
            f"<li><strong>{_e(entry.text)}</strong><br>{_e(entry.detail)}</li>"
            if entry.detail
            else f"<li>{_e(entry.text)}</li>"
            for entry in section.entries
        )
        parts.append(f"<h3>{_e(section.heading)}</h3><{tag}>{items}</{tag}>")
    parts.append(f'<p><a href="{_e(content.url)}">{_e(content.link_label)}</a></p>')
    return "\n".join(parts) + "\n"


def render_pdf(agenda: SessionAgenda) -> bytes:
    """The agenda as an A4 PDF of one or two pages.

    It uses the PDF core fonts, so it needs no font files; characters they cannot show are
    folded to a look-alike (``pdf_safe``) instead of failing the whole invite. Entries too
    long for two pages are cut shorter until it fits; the agenda page has them in full.
    """
    content = _content(agenda)
    for max_chars in PDF_ENTRY_CHARS:
        pdf = _layout_pdf(content, max_chars)
        if pdf.pages_count <= PDF_MAX_PAGES:
            break
    return bytes(pdf.output())


def _layout_pdf(content: _Content, max_chars: int) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "cp1252"  # the core fonts' WinAnsiEncoding: €, curly quotes
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_margins(15, 12, 15)
    pdf.set_title(pdf_safe(content.title))
    pdf.add_page()

    def write(text: str, *, size: float, style: str = "", indent: float = 0) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.set_x(pdf.l_margin + indent)
        # Line height follows the font size (points to millimetres, with leading).
        pdf.multi_cell(0, size * 0.45, pdf_safe(text), align="L", new_x="LMARGIN", new_y="NEXT")

    write(content.title, size=15, style="B")
    for line in content.when:
        write(line, size=10)
    for section in content.sections:
        pdf.ln(2)
        write(section.heading, size=12, style="B")
        for number, entry in enumerate(section.entries, start=1):
            bullet = f"{number}." if section.numbered else "-"
            text = _cut(entry.text, max_chars)
            write(f"{bullet} {text}", size=9.5, style="B" if entry.detail else "")
            if entry.detail:
                write(_cut(entry.detail, max_chars), size=8.5, indent=5)
    pdf.ln(2)
    write(f"{content.link_label}: {content.url}", size=8.5)
    return pdf


def to_document(agenda: SessionAgenda) -> AgendaDocument:
    """The agenda in every form an invite carries: body text, HTML, link and PDF."""
    local_start, _ = agenda.local_span(agenda.organiser_zone)
    return AgendaDocument(
        title=_title(agenda),
        text=render_text(agenda),
        html=render_html(agenda),
        url=agenda.url,
        pdf=render_pdf(agenda),
        filename=f"agenda-{local_start.date().isoformat()}.pdf",
    )


def pdf_safe(text: str) -> str:
    """``text`` using only characters the PDF core fonts show (Windows-1252).

    Others become a look-alike: "Łukasz Nguyễn" -> "Lukasz Nguyen"; a character with no
    look-alike becomes "?". Windows-1252 characters ("Zoë Ñúñez") are kept as they are.
    """
    return "".join(_fold(char) for char in text.translate(_FOLDS))


def _fold(char: str) -> str:
    if _encodable(char):
        return char
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(part for part in decomposed if not unicodedata.combining(part))
    return base if base and _encodable(base) else "?"


def _encodable(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _content(agenda: SessionAgenda) -> _Content:
    sections = [
        _Section(
            "Agenda",
            tuple(_Entry(topic.title, topic.prompt) for topic in agenda.topics),
            numbered=True,
        )
    ]
    if agenda.talking_points:
        points = [_Entry(point) for point in agenda.talking_points]
        sections.append(
            _Section(f"Talking points from {agenda.rep_name}", _capped(points, agenda.url))
        )
    if agenda.open_items:
        items = [_item_entry(item, agenda) for item in agenda.open_items]
        sections.append(_Section("Open action items", _capped(items, agenda.url)))
    return _Content(
        title=_title(agenda),
        when=_when(agenda),
        sections=tuple(sections),
        link_label="Agenda, talking points and action items",
        url=agenda.url,
    )


def _title(agenda: SessionAgenda) -> str:
    # The series title names both people already ("1:1 Matt Keller / Liam Foster").
    return agenda.series_title


def _when(agenda: SessionAgenda) -> tuple[str, ...]:
    if agenda.organiser_zone == agenda.rep_zone:
        return (_span(agenda, agenda.organiser_zone),)
    return (
        f"{agenda.manager_name}: {_span(agenda, agenda.organiser_zone)}",
        f"{agenda.rep_name}: {_span(agenda, agenda.rep_zone)}",
    )


def _span(agenda: SessionAgenda, zone: str) -> str:
    start, end = agenda.local_span(zone)
    return f"{_day(start)}, {start:%H:%M}–{end:%H:%M} ({zone}, {start.tzname()})"


def _day(moment: date) -> str:
    return f"{_DAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _item_entry(item: OpenActionItem, agenda: SessionAgenda) -> _Entry:
    owner = agenda.manager_name if item.owner == Owner.MANAGER else agenda.rep_name
    due = f"{owner}, due {_day(item.due_date)}"
    return _Entry(item.text, f"{due} (overdue)" if item.overdue else due)


def _capped(entries: Sequence[_Entry], url: str) -> tuple[_Entry, ...]:
    if len(entries) <= MAX_LISTED:
        return tuple(entries)
    more = len(entries) - MAX_LISTED
    return (*entries[:MAX_LISTED], _Entry(f"…and {more} more on the agenda page", url))


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[: max_chars - 1].rstrip() + "…"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
