"""The demo's outbox page: the mail Cadence sent (loopback only).

With no SMTP server nothing leaves the machine, so this page is where a demo user reads
the sign-up links, the conflict emails and the debrief nudges: newest first, 50 a page,
narrowed to one recipient if asked. A nested blueprint of the demo's, so its loopback-only
guard answers here too.
"""

from __future__ import annotations

import re

from flask import Blueprint, render_template, request

from scheduler.mail import outbox as mail_outbox
from web.services import cadence

bp = Blueprint("outbox", __name__, url_prefix="/outbox")

# The links of a message's plain text (Cadence writes each on its own, ending at a space).
_LINK = re.compile(r"https?://[^\s<>\"']+")


@bp.get("")
def messages() -> str:
    """One page of the outbox, newest first, maybe one recipient's only."""
    to = request.args.get("to", "").strip()
    with cadence().database.session() as db:
        page = mail_outbox.listed(
            db,
            to=to,
            before=request.args.get("before") or None,
            after=request.args.get("after") or None,
        )
    return render_template(
        "demo/outbox.html",
        page=page,
        links={message.id: _LINK.findall(message.text_body) for message in page.messages},
        to=to,
        paged="before" in request.args or "after" in request.args,
        page_size=mail_outbox.PAGE,
        smtp=cadence().settings.smtp_url is not None,
    )


__all__ = ["bp"]
