"""A hand-built history whose every figure is known (the tests state them as literals).

Six weeks, 14 September to 19 October 2026; today is Wednesday 21 October, so the week of
19 October is still upcoming except for a stopped series. Everyone is in UTC so that
the dates below are the dates the reports see.

Patrick (the article's best manager) runs George and Lena:
    George  Tue 15:00  held, held (moved within its week, debriefed), excused, held,
                       cancelled by the rep, upcoming
    Lena    Wed 10:00  held, cancelled by the manager, held, moved, held, upcoming
Matt (the worst) runs Ryan, Kai and Ann:
    Ryan    Thu 09:00  held, undocumented, declined, rescheduled, cancelled (nobody said
                       by whom), stopped — the series was deleted
    Kai     Mon 14:00  —, —, undocumented, undocumented, excused, upcoming (booked, never held)
    Ann     never booked
Nina runs Omar (Wed 15:00), booked from this week: only an upcoming session.

Action items (due / done):
    George week 1 (created 15 Sep): due 22 Sep — done 22 Sep 23:30 UTC (on time),
        done 25 Sep (late), open (overdue); and one from 8 Sep, before the range, done.
    Lena week 5 (created 13 Oct): due 27 Oct — one done 14 Oct, two open (not yet due).
    Ryan week 1 (created 17 Sep): due 29 Sep — three open (overdue).
Another organisation has a held session in the same weeks; it must never show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from scheduler.db import Database
from scheduler.debrief import Owner
from scheduler.models import (
    ActionItem,
    Organization,
    Person,
    Series,
    SeriesStatus,
    Session,
)

TODAY = date(2026, 10, 21)
NOW = datetime(2026, 10, 21, 12, 0, tzinfo=UTC)
FIRST_WEEK = date(2026, 9, 14)
LAST_WEEK = date(2026, 10, 19)
WEEKS = [FIRST_WEEK + timedelta(weeks=n) for n in range(6)]


@dataclass
class History:
    org_id: str
    other_org_id: str
    admin: str
    patrick: str
    matt: str
    nina: str
    george: str
    lena: str
    ryan: str
    kai: str
    ann: str
    omar: str
    sessions: dict[tuple[str, int], str]  # (rep name, week number 1..6) -> session id


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


class Builder:
    def __init__(self, db, org_id: str):
        self.db = db
        self.org_id = org_id
        self.sessions: dict[tuple[str, int], str] = {}

    def person(self, name: str, **roles) -> Person:
        person = Person(
            organization_id=self.org_id,
            email=f"{name.lower()}@{self.org_id[:8]}.test",
            name=name,
            created_at=NOW,
            **roles,
        )
        self.db.add(person)
        self.db.flush()
        return person

    def series(self, manager: Person, rep: Person, weekday: int, status: SeriesStatus) -> Series:
        series = Series(
            organization_id=self.org_id,
            manager_id=manager.id,
            rep_id=rep.id,
            weekday=weekday,
            local_time="09:00",
            duration_minutes=30,
            zone="UTC",
            first_day=FIRST_WEEK,
            status=status,
            template_topics=[],
            template_locked_on=FIRST_WEEK,
            created_at=NOW,
        )
        self.db.add(series)
        self.db.flush()
        return series

    def session(
        self, series: Series, week: date, weekday: int, hour: int, outcome: str, **facts
    ) -> Session:
        start = at(week + timedelta(days=weekday), hour)
        row = Session(
            organization_id=self.org_id,
            series_id=series.id,
            manager_id=series.manager_id,
            rep_id=series.rep_id,
            week_start=week,
            scheduled_start=start,
            scheduled_end=start + timedelta(minutes=30),
            outcome=outcome,
            **facts,
        )
        self.db.add(row)
        self.db.flush()
        return row

    def weeks(self, series: Series, name: str, weekday: int, hour: int, plan: dict) -> None:
        for number, (outcome, facts) in plan.items():
            row = self.session(series, WEEKS[number - 1], weekday, hour, outcome, **facts)
            self.sessions[(name, number)] = row.id

    def item(self, session_id: str, series: Series, created: datetime, due: date, done=None):
        self.db.add(
            ActionItem(
                organization_id=self.org_id,
                session_id=session_id,
                series_id=series.id,
                text=f"follow up by {due}",
                owner=Owner.REP,
                owner_id=series.rep_id,
                due_date=due,
                done_at=done,
                created_at=created,
            )
        )


def build_history(database: Database) -> History:
    with database.session() as db:
        org = Organization(name="Acme", zone="UTC", created_at=NOW)
        other = Organization(name="Elsewhere", zone="UTC", created_at=NOW)
        db.add_all([org, other])
        db.flush()
        b = Builder(db, org.id)
        admin = b.person("Ada", is_admin=True)
        patrick = b.person("Patrick", is_manager=True)
        matt = b.person("Matt", is_manager=True)
        nina = b.person("Nina", is_manager=True)
        george = b.person("George", is_rep=True, manager_id=patrick.id)
        lena = b.person("Lena", is_rep=True, manager_id=patrick.id)
        ryan = b.person("Ryan", is_rep=True, manager_id=matt.id)
        kai = b.person("Kai", is_rep=True, manager_id=matt.id)
        ann = b.person("Ann", is_rep=True, manager_id=matt.id)
        omar = b.person("Omar", is_rep=True, manager_id=nina.id)

        active, stopped = SeriesStatus.ACTIVE, SeriesStatus.STOPPED
        g = b.series(patrick, george, 1, active)
        b.weeks(g, "George", 1, 15, {
            1: ("held", {}),
            2: ("held", {"current_start": at(WEEKS[1] + timedelta(days=3), 15),
                         "current_end": at(WEEKS[1] + timedelta(days=3), 15, 30)}),
            3: ("excused", {"excused": True}),
            4: ("held", {}),
            5: ("cancelled", {"cancelled": True, "cancelled_by": "rep"}),
            6: ("upcoming", {}),
        })  # fmt: skip
        before = b.session(g, FIRST_WEEK - timedelta(weeks=1), 1, 15, "held")
        lena_series = b.series(patrick, lena, 2, active)
        b.weeks(lena_series, "Lena", 2, 10, {
            1: ("held", {}),
            2: ("cancelled", {"cancelled": True, "cancelled_by": "manager"}),
            3: ("held", {}),
            4: ("moved", {"current_start": at(WEEKS[3] + timedelta(days=4), 10),
                          "current_end": at(WEEKS[3] + timedelta(days=4), 10, 30)}),
            5: ("held", {}),
            6: ("upcoming", {}),
        })  # fmt: skip
        r = b.series(matt, ryan, 3, stopped)
        b.weeks(r, "Ryan", 3, 9, {
            1: ("held", {}),
            2: ("undocumented", {}),
            3: ("declined", {"rep_response": "declined"}),
            4: ("rescheduled", {"current_start": at(WEEKS[4] + timedelta(days=1), 9),
                                "current_end": at(WEEKS[4] + timedelta(days=1), 9, 30)}),
            5: ("cancelled", {"cancelled": True}),
            6: ("stopped", {"series_stopped": True}),
        })  # fmt: skip
        k = b.series(matt, kai, 0, active)
        b.weeks(k, "Kai", 0, 14, {
            3: ("undocumented", {}),
            4: ("undocumented", {}),
            5: ("excused", {"excused": True}),
            6: ("upcoming", {}),
        })  # fmt: skip
        o = b.series(nina, omar, 2, active)
        b.weeks(o, "Omar", 2, 15, {6: ("upcoming", {})})

        george_w1 = b.sessions[("George", 1)]
        b.item(george_w1, g, at(date(2026, 9, 15), 16), date(2026, 9, 22),
               at(date(2026, 9, 22), 23, 30))  # fmt: skip
        b.item(george_w1, g, at(date(2026, 9, 15), 16), date(2026, 9, 22), at(date(2026, 9, 25), 9))
        b.item(george_w1, g, at(date(2026, 9, 15), 16), date(2026, 9, 22))
        b.item(before.id, g, at(date(2026, 9, 8), 16), date(2026, 9, 15), at(date(2026, 9, 14), 9))
        lena_w5 = b.sessions[("Lena", 5)]
        due = date(2026, 10, 27)
        b.item(lena_w5, lena_series, at(date(2026, 10, 13), 11), due, at(date(2026, 10, 14), 9))
        b.item(lena_w5, lena_series, at(date(2026, 10, 13), 11), due)
        b.item(lena_w5, lena_series, at(date(2026, 10, 13), 11), due)
        for _ in range(3):
            b.item(b.sessions[("Ryan", 1)], r, at(date(2026, 9, 17), 10), date(2026, 9, 29))

        elsewhere = Builder(db, other.id)
        boss = elsewhere.person("Boss", is_manager=True, is_admin=True)
        worker = elsewhere.person("Worker", is_rep=True, manager_id=boss.id)
        theirs = elsewhere.series(boss, worker, 1, active)
        elsewhere.weeks(theirs, "Worker", 1, 15, {1: ("held", {}), 2: ("cancelled", {})})
        elsewhere.item(elsewhere.sessions[("Worker", 1)], theirs, at(WEEKS[0], 16), WEEKS[0])

        return History(
            org.id, other.id, admin.id, patrick.id, matt.id, nina.id, george.id, lena.id,
            ryan.id, kai.id, ann.id, omar.id, b.sessions,
        )  # fmt: skip


@pytest.fixture
def history(database: Database) -> History:
    return build_history(database)
