"""The agenda of one session, as the invite carries it: template, talking points, open items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from integrations.base import AgendaDocument
from scheduler.agenda import (
    DEFAULT_TEMPLATE,
    AgendaTemplate,
    AgendaTopic,
    SessionAgenda,
    TemplateLock,
    current_template,
    template_for_session,
)
from scheduler.agenda_render import to_document
from scheduler.debrief import ActionItem as ActionItemValue
from scheduler.debrief import carry_over
from scheduler.models import (
    ActionItem,
    AgendaTemplateRow,
    Organization,
    Person,
    Series,
    Session,
    TalkingPoint,
)

# (organisation id, session id) -> the signed link to that session's agenda page.
AgendaLink = Callable[[str, str], str]


def template_from_rows(topics: list[dict[str, str]]) -> AgendaTemplate:
    return AgendaTemplate(tuple(AgendaTopic(t["title"], t.get("prompt", "")) for t in topics))


def template_to_rows(template: AgendaTemplate) -> list[dict[str, str]]:
    return [{"title": topic.title, "prompt": topic.prompt} for topic in template.topics]


def manager_template(db: DbSession, org_id: str, manager_id: str) -> AgendaTemplate:
    """The template a manager's new agenda periods take: theirs, the organisation's, or the
    default six topics."""
    rows = {
        row.manager_id: row
        for row in db.scalars(
            select(AgendaTemplateRow).where(
                AgendaTemplateRow.organization_id == org_id,
                (AgendaTemplateRow.manager_id == manager_id)
                | AgendaTemplateRow.manager_id.is_(None),
            )
        )
    }
    org_row, own_row = rows.get(None), rows.get(manager_id)
    organisation = template_from_rows(org_row.topics) if org_row else DEFAULT_TEMPLATE
    return current_template(organisation, template_from_rows(own_row.topics) if own_row else None)


def locked_topics(db: DbSession, series: Series, session_day: date) -> AgendaTemplate:
    """The template that applies on ``session_day``, renewing the series' lock at a new period."""
    org = db.get(Organization, series.organization_id)
    assert org is not None
    lock = template_for_session(
        TemplateLock(template_from_rows(series.template_topics), series.template_locked_on),
        series_start=series.first_day,
        session_day=max(session_day, series.first_day),
        current=manager_template(db, series.organization_id, series.manager_id),
        period_weeks=org.agenda_period_weeks,
    )
    if lock.period_start != series.template_locked_on:
        series.template_topics = template_to_rows(lock.template)
        series.template_locked_on = lock.period_start
    return lock.template


def session_agenda(db: DbSession, row: Session, link: AgendaLink, *, today: date) -> SessionAgenda:
    series = db.get(Series, row.series_id)
    manager = db.get(Person, row.manager_id)
    rep = db.get(Person, row.rep_id)
    assert series is not None and manager is not None and rep is not None
    start = row.current_start or row.scheduled_start
    # Carried over: what earlier weeks agreed, not what this week's own debrief records.
    items = db.scalars(
        select(ActionItem)
        .join(Session, Session.id == ActionItem.session_id)
        .where(
            ActionItem.series_id == series.id,
            ActionItem.organization_id == row.organization_id,
            Session.scheduled_start < row.scheduled_start,
        )
    )
    points = db.scalars(
        select(TalkingPoint.text)
        .where(TalkingPoint.session_id == row.id)
        .order_by(TalkingPoint.created_at)
    )
    return SessionAgenda(
        series_title=series_title(manager, rep),
        manager_name=manager.name or manager.email,
        rep_name=rep.name or rep.email,
        start=start,
        duration=timedelta(minutes=series.duration_minutes),
        organiser_zone=series.zone,
        rep_zone=rep.zone,
        topics=locked_topics(db, series, start.astimezone(ZoneInfo(series.zone)).date()).topics,
        url=link(row.organization_id, row.id),
        talking_points=tuple(points),
        open_items=carry_over(
            (
                ActionItemValue(
                    item.id, item.text, item.owner, item.due_date, item.done_at is not None
                )
                for item in items
            ),
            today,
        ),
    )


def session_document(
    db: DbSession, row: Session, link: AgendaLink, *, today: date
) -> AgendaDocument:
    return to_document(session_agenda(db, row, link, today=today))


def series_title(manager: Person, rep: Person) -> str:
    return f"1:1 {manager.name or manager.email} / {rep.name or rep.email}"
