from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from scheduler.settings import DEFAULT_DATABASE_URL, RateRule, Settings, SettingsError

KEY = Fernet.generate_key().decode()
GOOD = {"CADENCE_SECRET_KEY": "s" * 40, "CADENCE_TOKEN_KEYS": KEY}


def test_defaults_are_the_embedded_setup():
    settings = Settings.from_env(GOOD)
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.inline_jobs
    assert not settings.google.configured and not settings.microsoft.configured
    assert settings.microsoft.public_cloud


def test_every_problem_is_reported_at_once_by_variable():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {
                "CADENCE_TOKEN_KEYS": "not-a-key",
                "DATABASE_URL": "mysql://x",
                "REDIS_URL": "http://x",
                "MS_AUTHORITY": "http://login.example.test/tenant",
                "GOOGLE_CLIENT_ID": "only-the-id",
            }
        )
    assert set(caught.value.problems) == {
        "CADENCE_SECRET_KEY",
        "CADENCE_TOKEN_KEYS",
        "DATABASE_URL",
        "REDIS_URL",
        "MS_AUTHORITY",
        "GOOGLE_CLIENT_SECRET",
    }
    assert "CADENCE_SECRET_KEY" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        ("REDIS_URL", "redis://127.0.0.1:6379/0", "redis_url", "redis://127.0.0.1:6379/0"),
        (
            "CADENCE_BASE_URL",
            "https://cadence.example.com/",
            "base_url",
            "https://cadence.example.com",
        ),
        ("CADENCE_DEMO", "1", "demo", True),
        ("CADENCE_TOKEN_KEYS", f"{KEY},{KEY}", "token_keys", (KEY, KEY)),
    ],
)
def test_values_are_parsed(name, value, attribute, expected):
    assert getattr(Settings.from_env({**GOOD, name: value}), attribute) == expected


def test_sovereign_cloud_authority_is_not_public():
    settings = Settings.from_env({**GOOD, "MS_AUTHORITY": "https://login.microsoftonline.us/t"})
    assert not settings.microsoft.public_cloud


def test_no_caldav_server_is_allowed_on_private_addresses_by_default():
    assert Settings.from_env(GOOD).caldav_private_origins == frozenset()


def test_private_caldav_origins_are_read_as_origins():
    settings = Settings.from_env(
        {
            **GOOD,
            "CADENCE_CALDAV_PRIVATE_ORIGINS": "https://Nextcloud.Internal/remote.php/dav/, "
            "http://127.0.0.1:5232 http://[::1]:5232/",
        }
    )
    assert settings.caldav_private_origins == {
        "https://nextcloud.internal:443",
        "http://127.0.0.1:5232",
        "http://[::1]:5232",
    }


@pytest.mark.parametrize("value", ["127.0.0.1", "ftp://files.internal", "https://"])
def test_a_private_caldav_origin_must_be_an_http_url(value):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**GOOD, "CADENCE_CALDAV_PRIVATE_ORIGINS": value})
    assert set(caught.value.problems) == {"CADENCE_CALDAV_PRIVATE_ORIGINS"}


def test_rate_limits_default_and_may_be_overridden_per_action():
    default = Settings.from_env(GOOD).rate_limits
    assert default.rule("signin") == RateRule("signin", "10 per 15 minutes", "50 per 15 minutes")
    assert default.trusted_proxies == 0
    changed = Settings.from_env(
        {
            **GOOD,
            "CADENCE_RATE_LIMITS": "signin=5 per 10 minutes|200 per hour; signup=2/hour|9/day",
            "CADENCE_TRUSTED_PROXIES": "1",
        }
    ).rate_limits
    assert changed.rule("signin") == RateRule("signin", "5 per 10 minutes", "200 per hour")
    assert changed.rule("signup") == RateRule("signup", "2/hour", "9/day")
    assert changed.rule("password_reset") == default.rule("password_reset")
    assert changed.trusted_proxies == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CADENCE_RATE_LIMITS", "signin=often|50 per hour"),
        ("CADENCE_RATE_LIMITS", "login=5 per hour|50 per hour"),
        ("CADENCE_RATE_LIMITS", "signin=5 per hour"),
        ("CADENCE_TRUSTED_PROXIES", "many"),
    ],
)
def test_a_malformed_rate_limit_setting_is_named(name, value):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**GOOD, name: value})
    assert set(caught.value.problems) == {name}


def test_conflicts_are_defended_14_days_ahead_unless_set_otherwise_or_off():
    assert Settings.from_env(GOOD).defend_days == 14
    assert Settings.from_env({**GOOD, "CADENCE_DEFEND_DAYS": "0"}).defend_days == 0
    assert Settings.from_env({**GOOD, "CADENCE_DEFEND_DAYS": "7"}).defend_days == 7
    for wrong in ("-1", "29", "two weeks"):
        with pytest.raises(SettingsError) as caught:
            Settings.from_env({**GOOD, "CADENCE_DEFEND_DAYS": wrong})
        assert set(caught.value.problems) == {"CADENCE_DEFEND_DAYS"}


def test_unconfirmed_sign_ups_are_undone_after_7_days_unless_set_otherwise():
    assert Settings.from_env(GOOD).unconfirmed_grace == timedelta(days=7)
    tuned = Settings.from_env({**GOOD, "CADENCE_UNCONFIRMED_DAYS": "30"})
    assert tuned.unconfirmed_grace == timedelta(days=30)
    # Fewer than 2 days would undo a sign-up whose first link (48 hours) still works.
    for wrong in ("0", "1", "366", "a week"):
        with pytest.raises(SettingsError) as caught:
            Settings.from_env({**GOOD, "CADENCE_UNCONFIRMED_DAYS": wrong})
        assert set(caught.value.problems) == {"CADENCE_UNCONFIRMED_DAYS"}


def test_availability_refresh_defaults_to_half_an_hour_and_is_checked():
    assert Settings.from_env(GOOD).availability_refresh_minutes == 30
    tuned = Settings.from_env({**GOOD, "CADENCE_AVAILABILITY_REFRESH_MINUTES": "15"})
    assert tuned.availability_refresh_minutes == 15
    for wrong in ("0", "2", "half an hour", "100000"):
        with pytest.raises(SettingsError) as caught:
            Settings.from_env({**GOOD, "CADENCE_AVAILABILITY_REFRESH_MINUTES": wrong})
        assert set(caught.value.problems) == {"CADENCE_AVAILABILITY_REFRESH_MINUTES"}
