"""The manager's own agenda template: it overrides the organisation's for their new periods."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from scheduler.agenda import AgendaTemplate
from scheduler.models import AgendaTemplateRow
from scheduler.usecases.agendas import manager_template
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.organisation import clear_manager_template, save_template
from web.forms import by_field, submitted_template, topic_field_names, topic_rows
from web.identity import signed_in
from web.manager import bp
from web.services import cadence


def _page(template: AgendaTemplate, topic_errors: dict[str, str], status: int) -> tuple[str, int]:
    with cadence().database.session() as db:
        own = db.scalar(
            select(AgendaTemplateRow.id).where(
                AgendaTemplateRow.organization_id == g.person.organization_id,
                AgendaTemplateRow.manager_id == g.person.id,
            )
        )
    return render_template(
        "manager/agenda.html",
        topics=topic_rows(template),
        topic_errors=topic_errors,
        own=own is not None,
    ), status


@bp.get("/agenda")
@signed_in("manager")
def agenda() -> Any:
    with cadence().database.session() as db:
        template = manager_template(db, g.person.organization_id, g.person.id)
    return _page(template, {}, 200)


@bp.post("/agenda")
@signed_in("manager")
def save_agenda() -> Any:
    template = submitted_template()
    try:
        save_template(
            cadence().database,
            org_id=g.person.organization_id,
            actor_id=g.person.id,
            template=template,
            now=cadence().now(),
            manager_id=g.person.id,
        )
    except InvalidInput as error:
        return _page(template, topic_field_names(by_field(error.errors)), 400)
    flash("Your agenda is saved: your series take it at their next agenda period.", "ok")
    return redirect(url_for("manager.agenda"))


@bp.post("/agenda/reset")
@signed_in("manager")
def reset_agenda() -> Response:
    clear_manager_template(
        cadence().database,
        org_id=g.person.organization_id,
        manager_id=g.person.id,
        now=cadence().now(),
    )
    flash("You use the organisation's agenda again from your next agenda periods.", "ok")
    return redirect(url_for("manager.agenda"))
