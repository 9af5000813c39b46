"""A manager's conflict policy on their account page: ask me, or move automatically."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, flash, g, redirect, request, url_for

from scheduler.defend import POLICY_LABELS, ConflictPolicy, effective_policy
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.slot_conflicts import conflict_policy, set_conflict_policy
from web.identity import signed_in
from web.services import cadence

bp = Blueprint("conflict_policy", __name__)

# The form's value for "follow the organisation's default".
DEFAULT = "default"


@dataclass(frozen=True)
class PolicyForm:
    """The choices, the one selected, and what the organisation's default is."""

    chosen: str
    organisation_default: ConflictPolicy
    labels: dict[ConflictPolicy, str]


def conflict_policy_form() -> PolicyForm:
    with cadence().database.session() as db:
        own, default = conflict_policy(db, org_id=g.person.organization_id, manager_id=g.person.id)
    return PolicyForm(own or DEFAULT, effective_policy(None, default), POLICY_LABELS)


@bp.post("/account/conflict-policy")
@signed_in("manager")
def save() -> Any:
    chosen = request.form.get("conflict_policy", DEFAULT)
    services = cadence()
    try:
        set_conflict_policy(
            services.database,
            org_id=g.person.organization_id,
            person_id=g.person.id,
            policy=None if chosen == DEFAULT else chosen,
            now=services.now(),
        )
    except InvalidInput:
        flash("Choose one of the conflict options.", "error")
        return redirect(url_for("auth.account", _anchor="conflicts"))
    flash("Saved: what Cadence does when a 1:1 gets a conflict.", "ok")
    return redirect(url_for("auth.account", _anchor="conflicts"))


def register(app: Flask) -> None:
    app.add_template_global(conflict_policy_form, "conflict_policy_form")
