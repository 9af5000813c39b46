"""The one page for a mailed link that does nothing: forged, expired, or already used.

Every signed link (``scheduler.links``) that is refused answers with ``refused_link``: 404
for a forged or malformed one (it looks like no page at all), 410 for an expired one ("This
link expired on …") or one already used ("This link was already used on …: <outcome>"),
each saying where to go instead — sign in, or a page the caller names (the series page).
"""

from __future__ import annotations

from flask import g, render_template, url_for

from scheduler.links import LinkExpired, LinkRefused
from scheduler.usecases.spent_links import LinkSpent
from web.timefmt import local_time


def refused_link(error: LinkRefused, *, instead: tuple[str, str] | None = None) -> tuple[str, int]:
    """The page for ``error``; ``instead``: (url, label) of the page to go to instead
    (default: the signed-in person's pages, else signing in)."""
    person = g.get("person")
    zone = person.zone if person is not None else "UTC"
    if isinstance(error, LinkSpent):
        status, title = 410, "This link was already used"
        detail = (
            f"This link was already used on {local_time(error.spent_at, zone)}: {error.outcome}"
        )
    elif isinstance(error, LinkExpired):
        status, title = 410, "This link has expired"
        detail = f"This link expired on {local_time(error.expires_at, zone)}."
    else:
        status, title = 404, "This link is not valid"
        detail = (
            "Cadence did not make this link, or it was cut short: copy the whole link from "
            "the email."
        )
    if instead is None:
        instead = (
            (url_for("auth.home"), "Go to my pages")
            if person is not None
            else (url_for("auth.signin"), "Sign in")
        )
    page = render_template(
        "link_refused.html", title=title, status=status, detail=detail, instead=instead
    )
    return page, status


__all__ = ["refused_link"]
