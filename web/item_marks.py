"""Marking an action item done or open, for its owner (manager or rep): the question asked
before "mark done", and the answer from the form, flashed back. The manager's and the rep's
pages, and the mark-done link of the rep's Monday email (web/mail_links.py), all ask it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import flash, g, request, url_for

from scheduler.models import ActionItem
from scheduler.usecases.debriefing import complete_action_item
from web import queries
from web.confirm import Confirmation, confirm_page
from web.services import cadence


def item_done_confirmation(
    item: ActionItem, *, action: str, back: str, fields: Mapping[str, str] | None = None
) -> Confirmation:
    """Before an action item is marked done (by its owner, manager or rep); ``fields`` are
    more hidden fields for the action."""
    return Confirmation(
        title="Mark this action item done?",
        details=(
            f"“{item.text}”, due {item.due_date:%a %d %b %Y}.",
            "It leaves the open items carried to the next agendas; you can reopen it later.",
        ),
        action=action,
        button="Yes, mark it done",
        back=back,
        back_label="No, keep it open",
        fields={"done": "1", **(fields or {})},
    )


def mark_from_form(item: ActionItem) -> None:
    """Done (``done=1``) or open again, by the signed-in person; says which."""
    done = request.form.get("done") == "1"
    services = cadence()
    complete_action_item(
        services.database,
        org_id=g.person.organization_id,
        item_id=item.id,
        person_id=g.person.id,
        done=done,
        now=services.now(),
    )
    flash(f"{'Done' if done else 'Reopened'}: {item.text}", "ok")


def confirm_own_item_done(
    item_id: str,
    *,
    mark_endpoint: str,
    back: Callable[[ActionItem], str],
    fields: Mapping[str, str] | None = None,
) -> tuple[str, int]:
    """The confirmation page before the signed-in person marks their own item done; its form
    posts to ``mark_endpoint`` (which takes ``item_id``), its "keep it open" leads ``back``."""
    item = queries.own_action_item(g.person, item_id)
    return confirm_page(
        item_done_confirmation(
            item,
            action=url_for(mark_endpoint, item_id=item.id),
            back=back(item),
            fields=fields,
        )
    )


def mark_own_item(item_id: str) -> ActionItem:
    """Mark the signed-in person's own item done or open, from the confirming form."""
    item = queries.own_action_item(g.person, item_id)
    mark_from_form(item)
    return item
