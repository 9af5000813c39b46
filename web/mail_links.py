"""Where the links in Cadence's emails lead: the debrief page of a 1:1 a nudge was about, and
marking one action item done from the rep's Monday email.

A debrief link only leads to the session's page: signing in is still what lets a manager
save (a signed-out reader goes through sign-in and comes back). A mark-done link is the
credential itself, used once: GET shows what it will do (mail scanners follow GETs), the
confirming POST marks the item and spends the link in one transaction, and a second use gets
a page saying when it was used and what it did.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from scheduler.links import LinkExpired, LinkInvalid, SignedLink, read_link
from scheduler.models import ActionItem
from scheduler.usecases.debrief_chase import DEBRIEF_LINK
from scheduler.usecases.debriefing import mark_action_item
from scheduler.usecases.rep_items import ITEM_DONE_LINK
from scheduler.usecases.scope import NotInOrganization, get_in_org
from scheduler.usecases.spent_links import LinkSpent, spend, spent
from web.confirm import confirm_page
from web.item_marks import item_done_confirmation
from web.link_pages import refused_link
from web.services import cadence

bp = Blueprint("mail_links", __name__)


def _read(token: str, purpose: str) -> SignedLink:
    services = cadence()
    return read_link(services.settings.secret_key, token, purpose=purpose, now=services.now())


@bp.get("/debrief/<token>")
def debrief(token: str) -> Any:
    try:
        link = _read(token, DEBRIEF_LINK)
    except (LinkInvalid, LinkExpired) as error:
        return refused_link(error)
    # The session page asks a signed-out reader to sign in, then shows the debrief form.
    return redirect(url_for("manager.session", session_id=link.subject["session"]))


def _linked_item(link: SignedLink) -> ActionItem:
    with cadence().database.session() as db:
        item = get_in_org(db, ActionItem, link.org_id, link.subject["item"])
    if item.owner_id != link.subject["person"]:
        raise NotInOrganization(item.id)  # the item changed hands since the email
    return item


@bp.get("/items/done/<token>")
def confirm_item_done(token: str) -> Any:
    try:
        link = _read(token, ITEM_DONE_LINK)
        with cadence().database.session() as db:
            used = spent(db, org_id=link.org_id, nonce=link.nonce)
        if used is not None:
            raise LinkSpent(used.spent_at, used.outcome)
        item = _linked_item(link)
    except (LinkInvalid, LinkExpired, LinkSpent) as error:
        return refused_link(error)
    if item.done_at is not None:
        return render_template("mail_links/item_done.html", item=item, already=True)
    return confirm_page(
        item_done_confirmation(
            item,
            action=url_for("mail_links.mark_item_done", token=token),
            back=url_for("rep.my_items"),
        )
    )


@bp.post("/items/done/<token>")
def mark_item_done(token: str) -> Response | tuple[str, int] | str:
    services = cadence()
    try:
        link = _read(token, ITEM_DONE_LINK)
        item = _linked_item(link)
        with services.database.session() as db:
            spend(db, link, now=services.now(), outcome=f"“{item.text}” was marked done")
            item = mark_action_item(
                db,
                org_id=link.org_id,
                item_id=item.id,
                person_id=link.subject["person"],
                done=True,
                now=services.now(),
            )
    except (LinkInvalid, LinkExpired, LinkSpent) as error:
        return refused_link(error)
    return render_template("mail_links/item_done.html", item=item, already=False)
