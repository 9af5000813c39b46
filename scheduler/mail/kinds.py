"""The kinds of email a person can stop, one by one (``mail_opt_outs`` keeps who stopped what).

Account mails (verify an address, reset a password) are not kinds: nobody can leave them.
"""

from __future__ import annotations

from enum import StrEnum


class MailKind(StrEnum):
    CONFLICT = "conflict"
    AUTO_MOVE = "auto-move"
    DEBRIEF_NUDGE = "debrief-nudge"  # the nudge after a 1:1 and its one reminder
    REP_ITEMS = "rep-items"  # Monday's action items due this week
    DIGEST = "digest"  # the weekly digest of held and skipped 1:1s


# (short label, one line for the account page) per kind. The label reads in a sentence once
# lowercased: "Stop conflict emails?".
KIND_LABELS: dict[MailKind, tuple[str, str]] = {
    MailKind.CONFLICT: (
        "Conflict",
        "A booked 1:1 in the next two weeks now clashes with something: alternatives to pick.",
    ),
    MailKind.AUTO_MOVE: (
        "Automatic move",
        "Cadence moved a 1:1 to a free slot of the same week to avoid a conflict.",
    ),
    MailKind.DEBRIEF_NUDGE: (
        "Debrief reminder",
        "After a 1:1: record its action items (and one reminder if nothing is recorded).",
    ),
    MailKind.REP_ITEMS: (
        "Weekly action items",
        "Monday morning: your action items due this week.",
    ),
    MailKind.DIGEST: (
        "Weekly digest",
        "Each week: the 1:1s held and skipped, and cadences that stopped.",
    ),
}


def kinds_for(*, is_admin: bool, is_manager: bool, is_rep: bool) -> list[MailKind]:
    """The kinds a person with these roles can get, in the order of ``MailKind``."""
    kinds: set[MailKind] = set()
    if is_manager:
        kinds |= {MailKind.CONFLICT, MailKind.AUTO_MOVE, MailKind.DEBRIEF_NUDGE, MailKind.DIGEST}
    if is_rep:
        kinds |= {MailKind.REP_ITEMS, MailKind.AUTO_MOVE}
    if is_admin:
        kinds.add(MailKind.DIGEST)
    return [kind for kind in MailKind if kind in kinds]


def is_kind(value: str) -> bool:
    return value in MailKind._value2member_map_


__all__ = ["KIND_LABELS", "MailKind", "is_kind", "kinds_for"]
