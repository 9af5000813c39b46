"""The demo organisation's cast: who works there, in which zone, and how their 1:1s went.

Each rep's ``plan`` says what became of their weekly 1:1 in each of the twelve weeks before
the demo starts (oldest first), one letter a week:

    H held (debriefed, three action items)    U undocumented (time passed, no debrief)
    M cancelled by the manager                R cancelled by the rep
    D declined by the rep                     V moved within its week
    E excused (the rep was on vacation)       S stopped (series deleted in the calendar)

Patrick keeps his cadence, Maria mostly does, Matt meets when someone reminds him — the
article's two managers and one in between. Matt lets Cadence move his weeks around new
conflicts by itself (``conflict_policy`` "auto"); the others are asked.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from datetime import time

ORG_NAME = "Northwind Sales"
DOMAIN = "northwind.example"
# Every demo Radicale account has this password: the demo listens on 127.0.0.1 only.
PASSWORD = "cadence-demo"
CALENDAR_NAME = "Work"
HISTORY_WEEKS = 12

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
LOS_ANGELES = "America/Los_Angeles"


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    REP = "rep"


# What each plan letter becomes once sessions are classified.
PLAN_OUTCOMES = {
    "H": "held",
    "U": "undocumented",
    "M": "cancelled",
    "R": "cancelled",
    "D": "declined",
    "V": "moved",
    "E": "excused",
    "S": "stopped",
}


@dataclass(frozen=True)
class DemoPerson:
    """One person of the demo. ``key`` is also their Radicale user name.

    Reps have a ``manager`` (a key), a weekly ``slot`` (weekday, time on the manager's wall
    clock), a twelve-week ``plan``, and weeks off ahead (``vacations``, weeks from now:
    1 = next week). Past vacations come from the plan's E weeks. ``hours`` are working hours
    of their own (Monday to Friday, their zone), set as on the account page; others follow
    the organisation's. A manager's ``conflict_policy`` is what they chose for new conflicts.
    """

    key: str
    name: str
    zone: str
    role: Role
    manager: str | None = None
    slot: tuple[int, time] | None = None
    plan: str = ""
    vacations: tuple[int, ...] = field(default=())
    hours: tuple[time, time] | None = None
    conflict_policy: str | None = None  # a manager's choice on the account page (None: ask)

    @property
    def email(self) -> str:
        return f"{self.key}@{DOMAIN}"


def _rep(
    key: str,
    name: str,
    zone: str,
    manager: str,
    weekday: int,
    at: str,
    plan: str,
    vacations: tuple[int, ...] = (),
    hours: tuple[time, time] | None = None,
) -> DemoPerson:
    assert len(plan) == HISTORY_WEEKS and set(plan) <= set(PLAN_OUTCOMES), key
    assert "S" not in plan or set(plan[plan.index("S") :]) == {"S"}, "stopped weeks are last"
    return DemoPerson(
        key,
        name,
        zone,
        Role.REP,
        manager,
        (weekday, time.fromisoformat(at)),
        plan,
        vacations,
        hours,
    )


MON, TUE, WED, THU = range(4)

PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("jordan", "Jordan Reyes", NEW_YORK, Role.ADMIN),
    DemoPerson("patrick", "Patrick Owens", NEW_YORK, Role.MANAGER, vacations=()),
    DemoPerson("maria", "Maria Lindqvist", LONDON, Role.MANAGER, vacations=(3,)),
    # Matt meets when reminded: Cadence defends his slots by itself.
    DemoPerson("matt", "Matt Keller", LOS_ANGELES, Role.MANAGER, conflict_policy="auto"),
    # Patrick's team (slots on New York time).
    _rep("alice", "Alice Nguyen", NEW_YORK, "patrick", MON, "10:00", "HHHHHHVHHHHH"),
    _rep("ben", "Ben Carter", NEW_YORK, "patrick", TUE, "10:00", "HHMHHHHEHHHH"),
    _rep("chloe", "Chloe Adams", LONDON, "patrick", WED, "10:00", "HHHDHHHHRHHH"),
    # Diego starts early to overlap with New York (his account page shows his own hours).
    _rep(
        "diego",
        "Diego Ramos",
        LOS_ANGELES,
        "patrick",
        THU,
        "13:00",
        "HHHHHUHHHHVH",
        hours=(time(7), time(15)),
    ),
    # Maria's team (slots on London time).
    _rep("emma", "Emma Clarke", LONDON, "maria", MON, "10:00", "HUHHMHHHEHDH"),
    _rep("finn", "Finn Walsh", LONDON, "maria", TUE, "11:00", "HHRHHUHHHMHH", (5,)),
    _rep("grace", "Grace Okafor", LONDON, "maria", WED, "10:00", "UHHVHHHEEHHH"),
    _rep("henry", "Henry Brooks", NEW_YORK, "maria", THU, "15:00", "HHHHUHDHHHHM"),
    # Matt's team (slots on Los Angeles time).
    _rep("isla", "Isla Moreno", LOS_ANGELES, "matt", MON, "10:00", "UUHMURUDUUMM"),
    _rep("jack", "Jack Kim", LOS_ANGELES, "matt", TUE, "10:00", "MUUHUURUEUUM"),
    _rep("kate", "Kate Lewis", NEW_YORK, "matt", WED, "10:00", "UHUUDUMUUVUR"),
    _rep("liam", "Liam Foster", LOS_ANGELES, "matt", THU, "11:00", "HUUMUUUUSSSS"),
)

BY_KEY = {person.key: person for person in PEOPLE}
REPS = tuple(person for person in PEOPLE if person.role == Role.REP)
MANAGERS = tuple(person for person in PEOPLE if person.role == Role.MANAGER)
ADMIN = next(person for person in PEOPLE if person.role == Role.ADMIN)


def planned_outcomes() -> Counter[str]:
    """How many of the history's sessions end in each outcome, by the plans."""
    return Counter(PLAN_OUTCOMES[letter] for rep in REPS for letter in rep.plan)


def radicale_users() -> dict[str, str]:
    """Every demo person's Radicale account: user name -> password."""
    return {person.key: PASSWORD for person in PEOPLE}
