"""The signed-in person's zone at each Google or Microsoft consent: read from the provider with
the fresh grant, kept current, and said in a message (nobody is silently in UTC)."""

from __future__ import annotations

from integrations.factory import read_account_zone
from integrations.retry import RetryPolicy
from scheduler.models import Person, Provider
from scheduler.usecases.person_time import ZoneKept, ZoneReading, keep_zone_current, read_zone
from scheduler.working_time import describe_hours
from web.services import cadence

_LABELS = {Provider.GOOGLE: "Google", Provider.MICROSOFT: "Microsoft"}
# A person is waiting on the callback, and a missing zone only costs a message: one quick
# retry, and no request longer than a few seconds.
_RETRY = RetryPolicy(attempts=2, base_delay=0.2, max_delay=1.0)
_TIMEOUT_SECONDS = 5.0


def read_consent_zone(provider: Provider, grant: bytes) -> ZoneReading:
    """What the provider of a just-finished consent says about its owner's zone."""
    settings = cadence().settings
    return read_zone(
        _LABELS.get(provider, provider.value.title()),
        lambda: read_account_zone(
            provider, settings, grant, retry=_RETRY, timeout=_TIMEOUT_SECONDS
        ),
    )


def keep_consent_zone(person: Person, reading: ZoneReading) -> tuple[str, str]:
    """Store the reading as the person's zone (and working hours); what to tell them, as
    (message, flash category): flash it once the session is the person's."""
    services = cadence()
    kept = keep_zone_current(
        services.database,
        org_id=person.organization_id,
        person_id=person.id,
        reading=reading,
        now=services.now(),
    )
    person.zone = kept.zone  # the signed-in copy shows it on this request's page
    return zone_message(reading, kept)


def zone_message(reading: ZoneReading, kept: ZoneKept) -> tuple[str, str]:
    """(message, flash category) saying where the person's zone came from."""
    if not kept.from_provider:
        return (
            f"{reading.problem}: your time zone stays {kept.zone}. "
            "Check it, and your working hours, on your account page.",
            "warn",
        )
    message = f"Your time zone is {kept.zone}, from your {reading.source} calendar"
    if kept.hours is not None:
        message += f", and your working hours ({describe_hours(kept.hours)}) from Outlook"
    message += "."
    if kept.hours_elsewhere:
        message += (
            f" Outlook keeps your working hours in another zone ({kept.hours_elsewhere}): "
            "set them on your account page."
        )
    return message, "ok"
