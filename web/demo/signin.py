"""The demo's sign-in: a page of the demo people, one click signs in as any of them.

It signs anyone in without a password, so ``enable_demo_signin`` refuses to register it
unless the settings say demo (``CADENCE_DEMO=1``) and the app listens on a loopback address
only; each request must come from loopback too. ``/demo/outbox`` shows the local outbox (the
mail Cadence sent, as its recipients see it: ``web.demo.outbox``). The page also offers
"sync calendars now", which reads every CalDAV calendar's changes at once instead of waiting
for the next poll (CalDAV has no push; the embedded timer polls every 5 minutes).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response

from integrations.base import ProviderError
from scheduler.models import CalendarConnection, ConnectionStatus, Person
from scheduler.usecases.calendar_sync import sync_connection
from web.demo import outbox
from web.identity import home_for, sign_in
from web.services import cadence

bp = Blueprint("demo", __name__, url_prefix="/demo", template_folder="templates")
bp.register_blueprint(outbox.bp)  # under /demo/outbox, behind the same loopback guard

_EXTENSION = "cadence.demo"


class DemoSignInRefused(RuntimeError):
    """The demo sign-in was asked for where it must not run."""


@dataclass(frozen=True)
class DemoInfo:
    """What the demo page tells about the demo: its organisation and its Radicale."""

    org_id: str
    radicale_url: str
    radicale_password: str


def listens_on_loopback(host: str) -> bool:
    """True when ``host`` (a bind address) is only reachable from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or "": could be anything


def enable_demo_signin(app: Flask, *, host: str) -> None:
    """Register the demo sign-in on ``app``, which will listen on ``host``.

    Raises ``DemoSignInRefused`` unless the app's settings say demo and ``host`` is a
    loopback address: a password-less sign-in must never face a network.
    """
    settings = app.extensions["cadence"].settings
    if not settings.demo:
        raise DemoSignInRefused("the demo sign-in needs CADENCE_DEMO=1 (it is off)")
    if not listens_on_loopback(host):
        raise DemoSignInRefused(
            f"the demo sign-in listens on loopback only, not on {host!r} (use 127.0.0.1)"
        )
    app.register_blueprint(bp)


def describe_demo(app: Flask, info: DemoInfo) -> None:
    """Tell the demo pages which organisation and Radicale they show (once seeded)."""
    app.extensions[_EXTENSION] = info


def _info() -> DemoInfo:
    return current_app.extensions[_EXTENSION]  # type: ignore[no-any-return]


@bp.before_request
def only_from_this_machine() -> None:
    remote = request.remote_addr or ""
    if not listens_on_loopback(remote):
        abort(404)


@bp.get("/")
def people() -> str:
    with cadence().database.session() as db:
        everyone = list(
            db.scalars(
                select(Person)
                .where(Person.organization_id == _info().org_id, Person.active.is_(True))
                .order_by(Person.is_admin.desc(), Person.is_manager.desc(), Person.name)
            )
        )
    managers = {person.id: person for person in everyone if person.is_manager}
    return render_template(
        "demo/people.html",
        admins=[person for person in everyone if person.is_admin],
        managers=[person for person in everyone if person.is_manager and not person.is_admin],
        reps=[person for person in everyone if person.is_rep],
        manager_of=lambda rep: managers.get(rep.manager_id),
        info=_info(),
    )


@bp.post("/signin/<person_id>")
def signin(person_id: str) -> Response:
    with cadence().database.session() as db:
        person = db.scalar(
            select(Person).where(
                Person.id == person_id,
                Person.organization_id == _info().org_id,
                Person.active.is_(True),
            )
        )
    if person is None:
        abort(404)
    sign_in(person)
    flash(f"Signed in as {person.name} (demo).", "ok")
    return redirect(home_for(person))


@bp.post("/sync")
def sync_now() -> Response:
    """Read every connected calendar's changes now, not at the next 5-minute poll."""
    services = cadence()
    with services.database.session() as db:
        connections = list(
            db.scalars(
                select(CalendarConnection).where(
                    CalendarConnection.organization_id == _info().org_id,
                    CalendarConnection.status == ConnectionStatus.ACTIVE,
                )
            )
        )
    changes, failures = 0, []
    for connection in connections:
        calendar = services.providers(connection)
        try:
            changes += sync_connection(
                services.database,
                calendar,
                org_id=connection.organization_id,
                connection_id=connection.id,
                now=services.now(),
            )
        except ProviderError as error:
            failures.append(f"{connection.account_email}: {error}")
        finally:
            close = getattr(calendar, "close", None)
            if callable(close):
                close()
    flash(f"Read {len(connections)} calendars: {changes} changes applied.", "ok")
    for failure in failures:
        flash(f"Could not sync {failure}", "error")
    return redirect(url_for("demo.people"))
