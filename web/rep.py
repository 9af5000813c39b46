"""The rep's pages: the agenda behind an invite's signed link, their 1:1s and action items."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from scheduler.models import Person, Session
from scheduler.usecases.agendas import session_agenda
from scheduler.usecases.debriefing import add_talking_point
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import NotInOrganization, get_in_org
from web import queries
from web.agenda_links import (
    LINK_LIFETIME,
    AgendaLinkExpired,
    AgendaLinkInvalid,
    check_not_expired,
    read_agenda_token,
)
from web.forms import by_field
from web.identity import signed_in
from web.input_shapes import TalkingPointForm, read_form
from web.item_marks import confirm_own_item_done, mark_own_item
from web.services import cadence

bp = Blueprint("rep", __name__)


def _linked_session(token: str) -> Session:
    """The one session a link was signed for, while the link is fresh; 410 once it expired,
    404 when forged or foreign (the two look alike)."""
    services = cadence()
    try:
        org_id, session_id = read_agenda_token(services.settings.secret_key, token)
        with services.database.session() as db:
            row = get_in_org(db, Session, org_id, session_id)
        check_not_expired(row.current_start or row.scheduled_start, services.now())
    except AgendaLinkExpired as expired:
        abort(_expired_page(row, expired))
    except (AgendaLinkInvalid, NotInOrganization):
        abort(404)
    return row


def _expired_page(row: Session, expired: AgendaLinkExpired) -> Response:
    """Gone, not missing: the signature proves the reader once had the invite, so the page
    names the 1:1 (on the reader's clock, else the rep's) and where its agenda still is."""
    with cadence().database.session() as db:
        manager, rep = db.get(Person, row.manager_id), db.get(Person, row.rep_id)
    assert manager is not None and rep is not None
    zone = g.person.zone if g.person else rep.zone
    page = render_template(
        "rep/agenda_expired.html",
        start=row.current_start or row.scheduled_start,
        expired_at=expired.expired_at,
        lifetime_days=LINK_LIFETIME.days,
        manager=manager,
        rep=rep,
        zone=zone,
    )
    return make_response(page, 410)


@bp.route("/agenda/<token>", methods=["GET", "POST"])
def agenda(token: str) -> Any:
    """Read the agenda and add talking points: the link is the key, no account needed."""
    row = _linked_session(token)
    services = cadence()
    errors: dict[str, str] = {}
    if request.method == "POST":
        # A signed-in rep or manager of this session is named as the author; a link reader not.
        author = g.person.id if g.person and g.person.id in (row.rep_id, row.manager_id) else None
        try:
            added = read_form(TalkingPointForm, request.form)
            add_talking_point(
                services.database,
                org_id=row.organization_id,
                session_id=row.id,
                author_id=author,
                text=added.text,
                now=services.now(),
            )
            flash("Added to the agenda.", "ok")
            return redirect(url_for("rep.agenda", token=token))
        except InvalidInput as error:
            errors = by_field(error.errors)
    with services.database.session() as db:
        row = get_in_org(db, Session, row.organization_id, row.id)
        shown = session_agenda(db, row, services.agenda_link, today=services.now().date())
        rep = db.get(Person, row.rep_id)
    return render_template(
        "rep/agenda.html", agenda=shown, rep=rep, errors=errors, text=request.form.get("text", "")
    ), (400 if errors else 200)


@bp.get("/me")
@signed_in("rep")
def my_sessions() -> str:
    now = cadence().now()
    rows = queries.rep_sessions(g.person)
    upcoming = [r for r in rows if (r[0].current_end or r[0].scheduled_end) >= now][::-1]
    history = [r for r in rows if (r[0].current_end or r[0].scheduled_end) < now]
    link = cadence().agenda_link
    return render_template(
        "rep/sessions.html",
        upcoming=upcoming,
        history=history,
        link=lambda row: link(row.organization_id, row.id),
    )


@bp.get("/me/action-items")
@signed_in("rep")
def my_items() -> str:
    return render_template(
        "rep/items.html",
        items=queries.rep_items(g.person),
        today=cadence().now().astimezone(ZoneInfo(g.person.zone)).date(),
    )


@bp.get("/me/action-items/<item_id>/done")
@signed_in("rep")
def confirm_item_done(item_id: str) -> Any:
    return confirm_own_item_done(
        item_id, mark_endpoint="rep.mark_item", back=lambda _item: url_for("rep.my_items")
    )


@bp.post("/me/action-items/<item_id>")
@signed_in("rep")
def mark_item(item_id: str) -> Response:
    mark_own_item(item_id)
    return redirect(url_for("rep.my_items"))
