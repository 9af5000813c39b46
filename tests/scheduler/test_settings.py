import pytest
from cryptography.fernet import Fernet

from scheduler.settings import DEFAULT_DATABASE_URL, Settings, SettingsError

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
