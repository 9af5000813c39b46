"""The weekly digest: last week's skipped 1:1s and the stopped cadences, for one person.

An admin's digest covers the organisation; a manager's covers the 1:1s they run. The
``Digest`` value is what both the digest page and the email render.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from scheduler.defend import ConflictCounts
from scheduler.intervals import utc
from scheduler.mail.kinds import MailKind
from scheduler.models import Organization, OutboxMessage, Person, Session
from scheduler.recurrence import week_start
from scheduler.reports.cadences import StoppedCadence, StopReason, count_stopped, stopped_page
from scheduler.reports.defended import (
    chase_sentence,
    conflict_counts,
    conflicts_dict,
    defended_sentence,
)
from scheduler.reports.nudges import NudgeCounts, debrief_nudge_counts
from scheduler.reports.overview import SessionCounts
from scheduler.reports.rollups import session_counts_columns
from scheduler.reports.scope import ReportScope, percent
from scheduler.reports.skipped import SkippedRow, skipped_sessions
from scheduler.usecases.mail_preferences import resumed_at
from scheduler.usecases.scope import get_in_org

# An email lists this many skipped sessions (and as many stopped pairs) and links to the rest.
DIGEST_ROWS = 100


# The outbox kind and key prefix of a digest: ``digest/<week>/<person>`` is both what makes
# each week's digest go out once and the record of the last week a person was sent.
DIGEST_KIND = MailKind.DIGEST.value


def digest_key(week: date, person_id: str) -> str:
    return f"{DIGEST_KIND}/{week.isoformat()}/{person_id}"


# How far back a recipient's unsent weeks are looked for (an outage longer than a quarter
# loses the oldest): one agenda period.
DIGEST_LOOKBACK_WEEKS = 13


def digest_week(now: datetime, zone: str = "UTC") -> date:
    """The last complete week at ``now`` in ``zone`` (the recipient's own): its Monday."""
    return week_start(utc(now).astimezone(ZoneInfo(zone)).date()) - timedelta(weeks=1)


def digest_weeks_due(
    *,
    now: datetime,
    zone: str,
    last_sent: date | None,
    latest_ends: Mapping[date, datetime | None],
    grace: timedelta,
    not_before: date | None = None,
) -> list[date]:
    """The weeks whose digest is due for one recipient at ``now``, oldest first.

    The candidates run from the week after the last one sent (only the last complete week
    in the recipient's ``zone`` for a first digest) to that last complete week. A week is
    due once every session in it is past its grace period: ``latest_ends[week]`` is the
    latest end (moved or not) of its sessions in the recipient's scope, ``None`` for none.
    The first week not yet due stops the list, so no week is sent after a later one and
    none is ever left out of every digest. ``not_before``: no week before it (a recipient
    who turned the digest back on gets none of the weeks it was off).
    """
    last = digest_week(now, zone)
    first = (
        last
        if last_sent is None
        else max(last_sent + timedelta(weeks=1), last - timedelta(weeks=DIGEST_LOOKBACK_WEEKS - 1))
    )
    if not_before is not None:
        first = max(first, not_before)
    due = []
    week = first
    while week <= last:
        latest = latest_ends.get(week)
        if latest is not None and utc(now) < latest + grace:
            break
        due.append(week)
        week += timedelta(weeks=1)
    return due


def due_digest_weeks(db: DbSession, org_id: str, person_id: str, *, now: datetime) -> list[date]:
    """``digest_weeks_due`` for one person, from what is stored: their zone, their last
    digest (the newest ``digest/<week>/<person>`` key in the outbox: a digest queued there
    is delivered by the outbox, never composed again), and the latest end of each candidate
    week's sessions in their scope."""
    person = get_in_org(db, Person, org_id, person_id)
    org = db.get(Organization, org_id)
    assert org is not None
    # ISO dates sort as text, so the greatest key is the newest week.
    newest_key = db.scalar(
        select(func.max(OutboxMessage.key)).where(
            OutboxMessage.organization_id == org_id,
            OutboxMessage.kind == DIGEST_KIND,
            OutboxMessage.key.like(f"{DIGEST_KIND}/%/{person.id}"),
        )
    )
    last_sent = date.fromisoformat(newest_key.split("/")[1]) if newest_key else None
    last = digest_week(now, person.zone)
    resumed = resumed_at(db, org_id=org_id, person_id=person.id, kind=DIGEST_KIND)
    scope = ReportScope(
        org_id,
        last - timedelta(weeks=DIGEST_LOOKBACK_WEEKS - 1),
        last,
        None if person.is_admin else person.id,
    )
    ends = func.max(func.coalesce(Session.current_end, Session.scheduled_end))
    latest_ends = {
        week: latest
        for week, latest in db.execute(
            select(Session.week_start, ends).where(scope.sessions()).group_by(Session.week_start)
        )
    }
    return digest_weeks_due(
        now=now,
        zone=person.zone,
        last_sent=last_sent,
        latest_ends=latest_ends,
        grace=timedelta(hours=org.grace_hours),
        not_before=digest_week(resumed, person.zone) if resumed else None,
    )


@dataclass(frozen=True)
class Digest:
    org_id: str
    person_id: str
    name: str
    email: str
    zone: str  # the recipient's: every time in the digest is on their clock
    week_start: date
    manager_id: str | None  # ``None``: the whole organisation (an admin's digest)
    counts: SessionCounts
    skipped: list[SkippedRow]
    stopped: list[StoppedCadence]  # the first DIGEST_ROWS, least recently held first
    stopped_total: int
    # The week's conflicts and what came of them; the chase of its 1:1s' debriefs.
    conflicts: ConflictCounts = field(default_factory=ConflictCounts)
    chase: NudgeCounts = field(default_factory=NudgeCounts)

    @property
    def skipped_total(self) -> int:
        c = self.counts
        return c.undocumented + c.rescheduled + c.cancelled + c.declined + c.stopped

    @property
    def subject(self) -> str:
        return (
            f"1:1s, week of {self.week_start:%d %b %Y}: {self.counts.held} held, "
            f"{self.skipped_total} skipped, {self.stopped_total} stopped"
        )

    @property
    def defended(self) -> str:
        return defended_sentence(self.conflicts)

    @property
    def chased(self) -> str:
        return chase_sentence(self.chase)

    def as_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "week_start": self.week_start.isoformat(),
            "scope": "team" if self.manager_id else "organization",
            "counts": {**asdict(self.counts), "cancelled": self.counts.cancelled},
            "score": self.counts.score,
            "skipped_total": self.skipped_total,
            "skipped": [row.as_dict() for row in self.skipped],
            "stopped_total": self.stopped_total,
            "stopped": [row.as_dict() for row in self.stopped],
            "conflicts": conflicts_dict(self.conflicts),
            "debrief_chase": asdict(self.chase),
        }


def weekly_digest(
    db: DbSession, org_id: str, person_id: str, *, now: datetime, week: date | None = None
) -> Digest | None:
    """``person_id``'s digest of ``week`` (default: the last complete week before ``now`` in
    the person's zone).

    ``None`` for someone who is neither an admin nor a manager: they get no digest.
    Raises ``NotInOrganization`` for a person of another organisation.
    """
    person = get_in_org(db, Person, org_id, person_id)
    if not (person.is_admin or person.is_manager):
        return None
    manager_id = None if person.is_admin else person.id
    week = week_start(week) if week else digest_week(now, person.zone)
    scope = ReportScope(org_id, week, week, manager_id)
    counts = db.execute(select(*session_counts_columns()).where(scope.sessions())).one()
    return Digest(
        org_id=org_id,
        person_id=person.id,
        name=person.name,
        email=person.email,
        zone=person.zone,
        week_start=week,
        manager_id=manager_id,
        counts=SessionCounts(**counts._mapping),
        skipped=skipped_sessions(db, scope, limit=DIGEST_ROWS).rows,
        stopped=stopped_page(db, org_id, now=now, manager_id=manager_id, limit=DIGEST_ROWS).rows,
        stopped_total=count_stopped(db, org_id, now=now, manager_id=manager_id),
        conflicts=conflict_counts(db, scope),
        chase=debrief_nudge_counts(db, scope),
    )


def _when(instant: datetime, zone: str) -> str:
    """``Tue 13 Oct 11:00 EDT``: a skipped 1:1 on the recipient's clock, never bare UTC."""
    here = instant.astimezone(ZoneInfo(zone))
    return f"{here:%a %d %b %H:%M} {here.tzname()}"


def _rep_url(base_url: str, rep_id: str, week: date) -> str:
    return f"{base_url}/reports/reps/{rep_id}?to={week.isoformat()}"


def _since(row: StoppedCadence) -> str:
    since = (
        "never held"
        if row.days_since_last_held is None
        else f"last held {row.days_since_last_held} days ago"
    )
    return since if row.reason == StopReason.NOT_HELD else since + ", nothing booked"


def render_text(digest: Digest, base_url: str) -> str:
    """The plain-text email body."""
    c = digest.counts
    lines = [
        f"Hello {digest.name or digest.email},",
        "",
        f"Week of {digest.week_start:%A %d %B %Y}"
        + ("" if digest.manager_id else " — the whole organisation") + ":",
        f"  {c.held} of {c.expected} expected 1:1s held ({percent(c.score)}); "
        f"{digest.skipped_total} skipped, {c.excused} excused, {c.moved} moved.",
        f"  Defend the slot: {digest.defended}",
        f"  Debrief chase: {digest.chased}",
        "",
    ]  # fmt: skip
    if digest.skipped:
        lines.append(f"Skipped (times in {digest.zone}):")
        lines += [
            f"  {_when(row.scheduled_start, digest.zone)}  {row.manager_name} with "
            f"{row.rep_name}: {row.outcome.value}"
            + (f" by {row.cancelled_by}" if row.cancelled_by else "")
            + (f" ({row.cancel_reason})" if row.cancel_reason else "")
            for row in digest.skipped
        ]
        if digest.skipped_total > len(digest.skipped):
            lines.append(f"  ... and {digest.skipped_total - len(digest.skipped)} more.")
        lines.append("")
    if digest.stopped:
        lines.append("Stopped cadences (no 1:1 booked ahead, or none held lately):")
        lines += [
            f"  {row.manager_name} with {row.rep_name}: {_since(row)}" for row in digest.stopped
        ]
        if digest.stopped_total > len(digest.stopped):
            lines.append(f"  ... and {digest.stopped_total - len(digest.stopped)} more.")
        lines.append("")
    lines.append(f"Full report: {base_url}/reports")
    return "\n".join(lines) + "\n"


def render_html(digest: Digest, base_url: str) -> Markup:
    """The HTML email body: the same content as ``render_text``, with links; all escaped."""
    c = digest.counts
    parts = [
        Markup("<p>Week of {week}{whole}: <strong>{held} of {expected}</strong> expected 1:1s "
               "held ({score}); {skipped} skipped, {excused} excused, {moved} moved.</p>").format(
            week=f"{digest.week_start:%A %d %B %Y}",
            whole="" if digest.manager_id else " — the whole organisation",
            held=c.held, expected=c.expected, score=percent(c.score),
            skipped=digest.skipped_total, excused=c.excused, moved=c.moved,
        ),
        Markup("<p>Defend the slot: {}<br>Debrief chase: {}</p>").format(
            digest.defended, digest.chased
        ),
    ]  # fmt: skip
    if digest.skipped:
        rows = Markup("").join(
            Markup('<tr><td>{when}</td><td>{manager}</td><td><a href="{url}">{rep}</a></td>'
                   "<td>{outcome}</td></tr>").format(
                when=_when(row.scheduled_start, digest.zone), manager=row.manager_name,
                url=_rep_url(base_url, row.rep_id, digest.week_start), rep=row.rep_name,
                outcome=row.outcome.value + (f" by {row.cancelled_by}" if row.cancelled_by
                                             else "")
                + (f" ({row.cancel_reason})" if row.cancel_reason else ""),
            )
            for row in digest.skipped
        )  # fmt: skip
        parts.append(
            Markup(
                "<h2>Skipped</h2><table><thead><tr><th>When ({zone})</th><th>Manager</th>"
                "<th>Rep</th><th>Outcome</th></tr></thead><tbody>{}</tbody></table>"
            ).format(rows, zone=digest.zone)
        )
    if digest.stopped:
        items = Markup("").join(
            Markup("<li>{} with {}: {}</li>").format(row.manager_name, row.rep_name, _since(row))
            for row in digest.stopped
        )
        parts.append(Markup("<h2>Stopped cadences</h2><ul>{}</ul>").format(items))
        if digest.stopped_total > len(digest.stopped):
            more = digest.stopped_total - len(digest.stopped)
            parts.append(Markup("<p>… and {} more.</p>").format(more))
    parts.append(Markup('<p><a href="{}/reports">Full report</a></p>').format(base_url))
    return Markup("").join(parts)


def digest_recipients(db: DbSession, org_id: str) -> list[str]:
    """The ids of everyone in the organisation who gets a digest (admins and managers)."""
    return list(
        db.scalars(
            select(Person.id)
            .where(
                Person.organization_id == org_id,
                Person.active.is_(True),
                (Person.is_admin.is_(True)) | (Person.is_manager.is_(True)),
            )
            .order_by(Person.id)
        )
    )


__all__ = [
    "DIGEST_KIND",
    "DIGEST_ROWS",
    "Digest",
    "digest_key",
    "digest_recipients",
    "digest_week",
    "digest_weeks_due",
    "due_digest_weeks",
    "render_html",
    "render_text",
    "weekly_digest",
]
