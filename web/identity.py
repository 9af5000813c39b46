"""Who is signed in: the person in the session cookie, role checks, and password hashing."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any, Literal, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, g, redirect, request, session, url_for

from scheduler.models import Person
from scheduler.usecases.login_sessions import end_session, session_person, start_session
from web.services import cadence

Role = Literal["admin", "manager", "rep"]
View = TypeVar("View", bound=Callable[..., Any])

_hasher = PasswordHasher()
MIN_PASSWORD_CHARS = 10
# The session cookie's key for the server-side session's token.
_TOKEN = "sid"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _no_account_hash() -> str:
    """Verified against when no account has the email, so both answers take as long."""
    return _hasher.hash("no account has this email")


def password_matches(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` is the one hashed in ``stored_hash`` (never for no hash).

    Takes one argon2 verification either way: timing does not tell who has a password.
    """
    if not stored_hash:
        _verify(_no_account_hash(), password)
        return False
    return _verify(stored_hash, password)


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sign_in(person: Person) -> None:
    """Start a fresh session for ``person``: a new cookie (no session fixation) naming a new
    server-side session that sign-out can end."""
    services = cadence()
    with services.database.session() as db:
        token = start_session(db, person, now=services.now())
    session.clear()
    session.permanent = True
    session["person_id"] = person.id
    session["org_id"] = person.organization_id
    session[_TOKEN] = token


def sign_out() -> None:
    """End this browser's session on the server (a copied cookie stops working) and here."""
    token = session.get(_TOKEN)
    if token:
        services = cadence()
        with services.database.session() as db:
            end_session(db, str(token), now=services.now())
    session.clear()


def session_token() -> str | None:
    """The signed-in browser's session token (to keep it when ending the others)."""
    token = session.get(_TOKEN)
    return str(token) if token else None


def load_signed_in_person() -> None:
    """``g.person``: the signed-in, still active person of a live session, or ``None``.

    One query by primary key reads the person with their session: a session ended by
    sign-out, "sign out everywhere" or a password change is refused on the next request.
    """
    g.person = None
    if request.endpoint in ("static", "health"):
        return  # stylesheets and probes must work even while the database does not
    token, org_id = session.get(_TOKEN), session.get("org_id")
    if not token or not org_id:
        if session.get("person_id"):
            session.clear()  # a cookie from before sessions were revocable
        return
    services = cadence()
    with services.database.session() as db:
        person = session_person(db, str(token), org_id=str(org_id), now=services.now())
    if person is None or person.id != session.get("person_id"):
        session.clear()
        return
    g.person = person


def has_role(person: Person | None, role: Role) -> bool:
    if person is None:
        return False
    return bool(
        {"admin": person.is_admin, "manager": person.is_manager, "rep": person.is_rep}[role]
    )


def signed_in(role: Role | None = None) -> Callable[[View], View]:
    """Pages for signed-in people (with ``role``, when given): others go to sign in, or 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if g.person is None:
                return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
            if role is not None and not has_role(g.person, role):
                abort(403)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def home_for(person: Person) -> str:
    """Where a person lands after signing in: their most useful page."""
    if person.is_manager:
        return url_for("manager.team")
    if person.is_admin:
        return url_for("admin.people")
    return url_for("rep.my_sessions")
