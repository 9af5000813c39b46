"""Dates in emails, on the recipient's clock and in their language (``people.date_locale``).

``when(instant, zone, locale)``: "Tuesday, December 8 at 10:00 AM (New York)";
``day(date, locale)``: "Tuesday, December 8". The patterns are CLDR's (Babel): the weekday
and month spelled out, the locale's own order and clock. Pure.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time, get_timezone_location

DEFAULT_LOCALE = "en_US"

# The languages of dates one can pick on the account page: locale -> its own name for it.
DATE_LOCALES: dict[str, str] = {
    "en_US": "English (United States)",
    "en_GB": "English (United Kingdom)",
    "de_DE": "Deutsch",
    "es_ES": "Español",
    "fr_FR": "Français",
    "it_IT": "Italiano",
    "nl_NL": "Nederlands",
    "pt_BR": "Português (Brasil)",
}

# CLDR's "date at time" joins (its atTime patterns, which Babel does not expose); other
# languages use the locale's plain date-time join ("{1}, {0}").
_AT_TIME = {"en": "{1} 'at' {0}", "fr": "{1} 'à' {0}", "de": "{1} 'um' {0}"}


def _locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale if locale in DATE_LOCALES else DEFAULT_LOCALE)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def _day_pattern(locale: Locale) -> str:
    """The locale's month-and-day pattern with the weekday spelled out."""
    short = str(locale.datetime_skeletons["MMMMEd"])
    return re.sub(r"E+", "EEEE", short)


def _plain(text: str) -> str:
    """Narrow and no-break spaces (CLDR puts one before "AM") as plain spaces: mail clients
    and plain-text readers then agree."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def day(value: date, locale: str = DEFAULT_LOCALE, *, with_year: bool = False) -> str:
    """ "Tuesday, December 8" ("Tuesday, December 8, 2026" ``with_year``)."""
    parsed = _locale(locale)
    if with_year:
        return _plain(format_date(value, "full", locale=parsed))
    return _plain(format_date(value, _day_pattern(parsed), locale=parsed))


def when(instant: datetime, zone: str, locale: str = DEFAULT_LOCALE) -> str:
    """ "Tuesday, December 8 at 10:00 AM (New York)": ``instant`` on ``zone``'s clock."""
    if instant.tzinfo is None:
        raise ValueError("when() needs an aware instant")
    parsed = _locale(locale)
    tz = ZoneInfo(zone)
    local = instant.astimezone(tz)
    date_part = format_datetime(local, _day_pattern(parsed), tzinfo=tz, locale=parsed)
    time_part = format_time(local, "short", tzinfo=tz, locale=parsed)
    join = _AT_TIME.get(parsed.language) or str(parsed.datetime_formats["long"])
    both = join.replace("'", "").replace("{0}", time_part).replace("{1}", date_part)
    place = get_timezone_location(tz, locale=parsed, return_city=True)
    return _plain(f"{both} ({place})")


__all__ = ["DATE_LOCALES", "DEFAULT_LOCALE", "day", "when"]
