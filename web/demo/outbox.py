"""The demo's outbox pages: the mail Cadence sent, as its recipients see it (loopback only).

With no SMTP server nothing leaves the machine, so these pages are where a demo user reads
the sign-up links, the conflict emails and the debrief nudges: the list, newest first, 50 a
page, narrowed to one recipient if asked; and each message with its headers, its HTML part
as a mail client shows it and its plain text. A nested blueprint of the demo's, so its
loopback-only guard answers for every page here too.

The HTML part is served by its own route under its own Content-Security-Policy (no script,
no request out, sandboxed even when opened on its own) and shown in a sandboxed frame:
Cadence escapes what it puts in an email, but the page must not trust that to stay true.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

from flask import Blueprint, abort, render_template, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from scheduler.mail import outbox as mail_outbox
from scheduler.mail.message import as_email
from scheduler.models import OutboxMessage
from web.services import cadence

bp = Blueprint("outbox", __name__, url_prefix="/outbox")

# The links of a message's plain text (Cadence writes each on its own, ending at a space).
_LINK = re.compile(r"https?://[^\s<>\"']+")

# The headers a recipient's mail client shows (List-Unsubscribe: its "Unsubscribe" button).
SHOWN_HEADERS = ("From", "To", "Subject", "Date", "List-Unsubscribe")
# What the framed HTML part may do, in the frame's sandbox attribute and in its route's
# policy alike. No allow-scripts, no allow-same-origin: the part runs nothing and reads
# nothing of the app. Its links must still open the app, as they do from a mail client:
# a click takes the whole tab there (top navigation, on a click only), and a middle- or
# Ctrl-click opens a new tab (a popup) that escapes the sandbox, so the app works in it.
SANDBOX = "allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
# The HTML part alone: inline styles only, as mail clients take them; nothing fetched; only
# the outbox's message page may frame it.
HTML_PART_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",
        f"sandbox {SANDBOX}",
    ]
)


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


@bp.get("/<message_id>")
def message(message_id: str) -> str:
    """One message as its recipient gets it: the headers, the HTML part, the plain text."""
    row = _message(message_id)
    email = _as_sent(row)
    return render_template(
        "demo/message.html",
        message=row,
        headers=[(name, email[name]) for name in SHOWN_HEADERS if email[name]],
        sandbox=SANDBOX,
    )


@bp.get("/<message_id>/html")
def html_part(message_id: str) -> Response:
    """The message's HTML part, for the message page's frame. Its links target the top:
    followed inside the frame they would open the app where it refuses to be framed."""
    row = _message(message_id)
    document = Markup(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title>'
        '<base target="_top"></head><body>{}</body></html>'
    ).format(row.subject, Markup(row.html_body))
    answer = Response(str(document), mimetype="text/html")
    answer.headers["Content-Security-Policy"] = HTML_PART_POLICY
    answer.headers["X-Frame-Options"] = "SAMEORIGIN"
    return answer


def _message(message_id: str) -> OutboxMessage:
    with cadence().database.session() as db:
        row = db.get(OutboxMessage, message_id)
    if row is None:
        abort(404)
    return row


def _as_sent(row: OutboxMessage) -> EmailMessage:
    """The email ``row`` became (or becomes, when not sent yet: then it has no date), from
    today's sender."""
    email = as_email(row, sender=cadence().settings.mail_from, now=row.sent_at or row.created_at)
    if row.sent_at is None:
        del email["Date"]
    return email


__all__ = ["HTML_PART_POLICY", "SANDBOX", "bp"]
