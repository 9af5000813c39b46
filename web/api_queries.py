"""What the API shows each caller: admins see their organisation, managers their series,
reps their own. Anything else is ``NotInOrganization`` (404) — never another's object."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, or_, select

from scheduler.models import ActionItem, Person, Series, Session
from scheduler.usecases.scope import NotInOrganization
from web.services import cadence

Row = TypeVar("Row", Series, Session, ActionItem, Person)


def _visible(model: type[Row], viewer: Person) -> Select[Row]:
    query = select(model).where(model.organization_id == viewer.organization_id)
    if viewer.is_admin:
        return query
    if issubclass(model, Person):
        return query.where(or_(Person.id == viewer.id, Person.manager_id == viewer.id))
    if issubclass(model, ActionItem):
        mine = select(Series.id).where(Series.manager_id == viewer.id)
        return query.where(or_(ActionItem.owner_id == viewer.id, ActionItem.series_id.in_(mine)))
    return query.where(or_(model.manager_id == viewer.id, model.rep_id == viewer.id))


def listing(model: type[Row], viewer: Person, *filters: Any, order: Any = None) -> list[Row]:
    """Every ``model`` row the viewer may see, narrowed by ``filters``."""
    query = _visible(model, viewer).where(*filters)
    if order is not None:
        query = query.order_by(order)
    with cadence().database.session() as db:
        return list(db.scalars(query))


def one(model: type[Row], viewer: Person, object_id: str) -> Row:
    """One row the viewer may see; ``NotInOrganization`` otherwise."""
    with cadence().database.session() as db:
        row = db.scalar(_visible(model, viewer).where(model.id == object_id))
    if row is None:
        raise NotInOrganization(f"{model.__name__} {object_id} not found")
    return row
