"""The time zone picker's list: every IANA zone a person can live in, grouped by region.

The page works without JavaScript (a plain list); ``static/zone-picker.js`` adds a search box
and, where a page asks for it, preselects the browser's own zone.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from flask import Flask

# The tz database's geographic areas; other names (US/Eastern, Etc/GMT+5...) are aliases.
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def zone_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(region, its zones) in alphabetical order, with UTC first on its own."""
    zones = available_timezones()
    regions = tuple(
        (region, tuple(sorted(z for z in zones if z.startswith(region + "/"))))
        for region in REGIONS
    )
    return (("UTC", ("UTC",)), *regions)


@cache
def listed_zones() -> frozenset[str]:
    return frozenset(zone for _, zones in zone_groups() for zone in zones)


def register(app: Flask) -> None:
    app.add_template_global(zone_groups, "zone_groups")
    app.add_template_global(listed_zones, "listed_zones")
