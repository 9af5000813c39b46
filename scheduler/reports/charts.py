"""Small server-side SVG charts, readable without colour: every mark carries a label or a
pattern, and each chart has a title and description for screen readers. Pages put the
same figures in a table beside them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup

from scheduler.outcomes import SessionOutcome
from scheduler.reports.overview import WeekPoint
from scheduler.reports.rep import StripWeek
from scheduler.reports.scope import percent

_DEFS = Markup(
    "<defs>"
    '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse"'
    ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#333" stroke-width="3"/></pattern>'
    '<pattern id="dots" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#fff"/><circle cx="3" cy="3" r="1.4" fill="#333"/>'
    "</pattern></defs>"
)
# Per outcome: a letter drawn in the cell and a fill (solid, hatched, dotted or white).
OUTCOME_MARKS: dict[SessionOutcome, tuple[str, str]] = {
    SessionOutcome.HELD: ("H", "#1f6f3f"),
    SessionOutcome.MOVED: ("M", "url(#dots)"),
    SessionOutcome.EXCUSED: ("E", "#fff"),
    SessionOutcome.UPCOMING: ("·", "#fff"),
    SessionOutcome.UNDOCUMENTED: ("U", "url(#hatch)"),
    SessionOutcome.RESCHEDULED: ("R", "url(#hatch)"),
    SessionOutcome.CANCELLED: ("C", "url(#hatch)"),
    SessionOutcome.DECLINED: ("D", "url(#hatch)"),
    SessionOutcome.STOPPED: ("S", "url(#hatch)"),
}


def _svg(width: int, height: int, title: str, desc: str, body: Markup) -> Markup:
    # Named by its title, described by its figures. The ids come from the title: with fixed
    # ids, every chart on a page took the first chart's name.
    key = "chart-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "untitled")
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}"'
        ' height="{h}" role="img" aria-labelledby="{key}-t" aria-describedby="{key}-d"'
        ' font-family="sans-serif" font-size="12"><title id="{key}-t">{title}</title>'
        '<desc id="{key}-d">{desc}</desc>{defs}{body}</svg>'
    ).format(w=width, h=height, key=key, title=title, desc=desc, defs=_DEFS, body=body)


def score_bars(
    rows: Sequence[tuple[str, float | None]], *, median: float | None, title: str
) -> Markup:
    """Horizontal bars, one per (name, score), each labelled with its percentage.

    Bars below the median are hatched (the legend says so); a dashed line marks the median.
    """
    left, bar_width, row_height = 160, 300, 22
    height = row_height * len(rows) + 40
    marks = []
    for n, (name, score) in enumerate(rows):
        y = 10 + n * row_height
        width = round((score or 0) * bar_width)
        below = median is not None and score is not None and score < median
        marks.append(
            Markup(
                '<text x="{lx}" y="{ty}" text-anchor="end">{name}</text>'
                '<rect x="{left}" y="{y}" width="{width}" height="16" fill="{fill}"'
                ' stroke="#333"/><text x="{vx}" y="{ty}">{value}</text>'
            ).format(
                lx=left - 6,
                ty=y + 12,
                name=name[:24],
                left=left,
                y=y,
                width=width,
                fill="url(#hatch)" if below else "#1f6f3f",
                vx=left + width + 6,
                value=percent(score),
            )
        )
    if median is not None:
        x = left + round(median * bar_width)
        marks.append(
            Markup(
                '<line x1="{x}" y1="4" x2="{x}" y2="{y2}" stroke="#000" stroke-dasharray="4 3"/>'
                '<text x="{x}" y="{ty}" text-anchor="middle">median {value}</text>'
            ).format(x=x, y2=height - 24, ty=height - 10, value=percent(median))
        )
    marks.append(
        Markup('<text x="{}" y="{}">Hatched: below the median</text>').format(4, height - 10)
    )
    desc = "; ".join(f"{name}: {percent(score)}" for name, score in rows)
    return _svg(left + bar_width + 60, height, title, desc, Markup("").join(marks))


def trend_line(points: Sequence[WeekPoint], *, title: str) -> Markup:
    """Score per week as a line with a labelled marker on every week that had a score.

    Weeks with nothing expected break the line rather than read as 0%.
    """
    left, top, plot_w, plot_h = 40, 10, 520, 160
    step = plot_w / max(1, len(points) - 1)
    marks = [
        Markup(
            '<line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="#ccc"/>'
            '<text x="{tx}" y="{ty}" text-anchor="end">{label}%</text>'
        ).format(
            l=left,
            r=left + plot_w,
            y=top + plot_h - p * plot_h / 100,
            tx=left - 4,
            ty=top + plot_h - p * plot_h / 100 + 4,
            label=p,
        )
        for p in (0, 50, 100)
    ]
    segments: list[list[str]] = [[]]
    label_every = max(1, len(points) // 8)
    for n, point in enumerate(points):
        x = left + n * step
        if n % label_every == 0:
            marks.append(
                Markup('<text x="{}" y="{}" text-anchor="middle">{}</text>').format(
                    round(x, 1), top + plot_h + 16, f"{point.week_start:%d %b}"
                )
            )
        if point.score is None:
            segments.append([])
            continue
        y = top + plot_h - point.score * plot_h
        segments[-1].append(f"{x:.1f},{y:.1f}")
        marks.append(
            Markup(
                '<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#fff" stroke="#000">'
                "<title>{week}: {value} ({held} of {expected})</title></circle>"
            ).format(
                x=x,
                y=y,
                week=point.week_start.isoformat(),
                value=percent(point.score),
                held=point.held,
                expected=point.expected,
            )
        )
    lines = [
        Markup('<polyline points="{}" fill="none" stroke="#000" stroke-width="2"/>').format(
            " ".join(segment)
        )
        for segment in segments
        if len(segment) > 1
    ]
    desc = "; ".join(f"{p.week_start}: {percent(p.score)}" for p in points)
    return _svg(left + plot_w + 20, top + plot_h + 30, title, desc, Markup("").join(lines + marks))


def outcome_strip(weeks: Sequence[StripWeek], *, title: str) -> Markup:
    """One square per week with the outcome's letter in it; not held weeks are hatched."""
    size, gap = 22, 3
    marks = []
    for n, week in enumerate(weeks):
        x = n * (size + gap)
        letter, fill = OUTCOME_MARKS[week.outcome] if week.outcome else ("", "#eee")
        name = week.outcome.value if week.outcome else "nothing scheduled"
        marks.append(
            Markup(
                '<g><title>{week}: {name}</title><rect x="{x}" y="0" width="{s}" height="{s}"'
                ' fill="{fill}" stroke="#333"/><text x="{tx}" y="15" text-anchor="middle"'
                ' font-weight="bold" fill="{ink}" paint-order="stroke" stroke="#fff"'
                ' stroke-width="{halo}">{letter}</text></g>'
            ).format(
                week=week.week_start.isoformat(),
                name=name,
                x=x,
                s=size,
                fill=fill,
                tx=x + size / 2,
                ink="#fff" if fill == "#1f6f3f" else "#000",
                halo=0 if fill == "#1f6f3f" else 3,
                letter=letter,
            )
        )
    legend = " ".join(f"{mark[0]} {outcome.value}" for outcome, mark in OUTCOME_MARKS.items())
    marks.append(Markup('<text x="0" y="{}">{}</text>').format(size + 16, legend))
    desc = "; ".join(
        f"{w.week_start}: {w.outcome.value if w.outcome else 'nothing scheduled'}" for w in weeks
    )
    width = max(len(weeks) * (size + gap), 700)  # room for the legend line
    return _svg(width, size + 24, title, desc, Markup("").join(marks))


__all__ = ["OUTCOME_MARKS", "outcome_strip", "score_bars", "trend_line"]
