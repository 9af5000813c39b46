"""Cadence's settings, read once from the environment when the app or a worker starts.

Nothing else in Cadence reads ``os.environ``: adapters, jobs and the web app receive a
``Settings`` value. Every problem is reported at once, by variable name.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import parse_qs, urlsplit

DEFAULT_DATABASE_URL = "sqlite:///instance/cadence.db"
# smtp: plain (upgraded with ?starttls=1); smtp+starttls: STARTTLS; smtps: TLS from the start.
SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")


class SettingsError(ValueError):
    """One or more environment variables are missing or malformed."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        lines = "\n".join(f"  {name}: {why}" for name, why in sorted(problems.items()))
        super().__init__(f"Cadence cannot start; fix these settings:\n{lines}")


@dataclass(frozen=True)
class GoogleSettings:
    client_id: str = ""
    client_secret: str = ""
    # Where the Calendar API and OAuth endpoints live: overridable for the local emulator.
    api_endpoint: str = "https://www.googleapis.com/"
    auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token_uri: str = "https://oauth2.googleapis.com/token"
    revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    userinfo_uri: str = "https://openidconnect.googleapis.com/v1/userinfo"
    ca_bundle: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass(frozen=True)
class MicrosoftSettings:
    client_id: str = ""
    client_secret: str = ""
    # Sovereign clouds use other hosts, so both are settings (PROVIDERS.md).
    authority: str = "https://login.microsoftonline.com/common"
    graph_url: str = "https://graph.microsoft.com/v1.0"
    ca_bundle: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def public_cloud(self) -> bool:
        return urlsplit(self.authority).hostname == "login.microsoftonline.com"


@dataclass(frozen=True)
class RateRule:
    """How often one action may be tried per account (the email given) and per client
    address, in the ``limits`` notation ("10 per 15 minutes")."""

    action: str
    per_account: str
    per_address: str


# web/rate_limits.py enforces these; CADENCE_RATE_LIMITS overrides any of them.
DEFAULT_RATE_RULES = (
    RateRule("signin", "10 per 15 minutes", "50 per 15 minutes"),
    RateRule("signup", "5 per hour", "20 per hour"),
    RateRule("password_reset", "5 per hour", "20 per hour"),
    RateRule("verification_resend", "3 per hour", "20 per hour"),
)


@dataclass(frozen=True)
class RateLimitSettings:
    rules: tuple[RateRule, ...] = DEFAULT_RATE_RULES
    # Counters live in Redis under this prefix when REDIS_URL is set (in memory otherwise).
    key_prefix: str = "cadence-limits"
    # Proxies in front of Cadence that append the client's address to X-Forwarded-For:
    # only that many hops are believed, so a client cannot name its own address.
    trusted_proxies: int = 0

    def rule(self, action: str) -> RateRule:
        return next(rule for rule in self.rules if rule.action == action)


def rate_rules_from(text: str, problems: dict[str, str]) -> tuple[RateRule, ...]:
    """The default rules with those of ``CADENCE_RATE_LIMITS`` in their place:
    ``signin=10 per 15 minutes|50 per 15 minutes; signup=...`` (per account|per address)."""
    from limits import parse

    rules = {rule.action: rule for rule in DEFAULT_RATE_RULES}
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        action, _, amounts = entry.partition("=")
        per_account, _, per_address = amounts.partition("|")
        try:
            if action.strip() not in rules:
                raise ValueError(action)
            parse(per_account)
            parse(per_address)
        except ValueError:
            problems["CADENCE_RATE_LIMITS"] = (
                "each entry is action=<per account>|<per address>, e.g. "
                "signin=10 per 15 minutes|50 per 15 minutes; actions: " + ", ".join(rules)
            )
            continue
        rules[action.strip()] = RateRule(action.strip(), per_account.strip(), per_address.strip())
    return tuple(rules.values())


@dataclass(frozen=True)
class Settings:
    secret_key: str
    token_keys: tuple[str, ...]
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    base_url: str = "http://127.0.0.1:5000"
    demo: bool = False
    # Where mail goes: an SMTP server (``scheduler.mail.transport``); unset, the local outbox.
    smtp_url: str | None = None
    # The From address of every message; default ``cadence@`` the base URL's host.
    mail_from: str = ""
    # A CA bundle for an SMTP server with a private certificate authority.
    smtp_ca_bundle: str | None = None
    # How long before a 1:1 its invite gets the refreshed agenda (open items carried over).
    agenda_lead_hours: int = 24
    # How often the stored busy time of people no change notification speaks for (reps read
    # through free/busy, calendars without push) is read again, in minutes.
    availability_refresh_minutes: int = 30
    # How far ahead a new conflict in a booked week is defended (mailed or moved), in days;
    # 0 turns defending the slot off.
    defend_days: int = 14
    # How long a password sign-up may leave its address unconfirmed before it is undone
    # (scheduler.usecases.unconfirmed), in days: at least the 2 days a verification link lives.
    unconfirmed_days: int = 7
    # CalDAV servers (origins, as ``origin_of`` spells them) allowed on loopback or private
    # addresses and over http: self-hosted servers, the demo's Radicale. Empty: none.
    caldav_private_origins: frozenset[str] = frozenset()
    google: GoogleSettings = field(default_factory=GoogleSettings)
    microsoft: MicrosoftSettings = field(default_factory=MicrosoftSettings)
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)

    @property
    def availability_refresh(self) -> timedelta:
        return timedelta(minutes=self.availability_refresh_minutes)

    @property
    def unconfirmed_grace(self) -> timedelta:
        return timedelta(days=self.unconfirmed_days)

    @property
    def availability_max_age(self) -> timedelta:
        """How old stored busy time may be before a page reads it again: the refresh
        interval, plus the periodic pass's own 5 minutes and as many again of slack."""
        return self.availability_refresh + timedelta(minutes=10)

    @property
    def inline_jobs(self) -> bool:
        """With no Redis configured, jobs run inline in the web process."""
        return self.redis_url is None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        problems: dict[str, str] = {}

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(name, "").strip()
            return value or default

        secret_key = get("CADENCE_SECRET_KEY")
        if secret_key is None:
            problems["CADENCE_SECRET_KEY"] = "required (a long random string that signs sessions)"
        elif len(secret_key) < 32:
            problems["CADENCE_SECRET_KEY"] = "must be at least 32 characters"

        token_keys = tuple(k.strip() for k in (get("CADENCE_TOKEN_KEYS") or "").split(",") if k)
        if not token_keys:
            problems["CADENCE_TOKEN_KEYS"] = (
                "required: comma-separated Fernet keys, newest first "
                "(make one with: python -m scheduler.crypto new-key)"
            )
        for key in token_keys:
            if not _is_fernet_key(key):
                problems["CADENCE_TOKEN_KEYS"] = "each key must be 32 url-safe base64-encoded bytes"

        database_url = database_url_from(env)
        if urlsplit(database_url).scheme.split("+")[0] not in ("sqlite", "postgresql", "postgres"):
            problems["DATABASE_URL"] = "must be a sqlite:/// or postgresql:// URL"

        redis_url = get("REDIS_URL")
        if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
            problems["REDIS_URL"] = "must be a redis:// or rediss:// URL"

        base_url = (get("CADENCE_BASE_URL", "http://127.0.0.1:5000") or "").rstrip("/")
        if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
            problems["CADENCE_BASE_URL"] = "must be an absolute http(s) URL"

        lead = get("CADENCE_AGENDA_LEAD_HOURS", "24") or "24"
        if not lead.isdigit() or not 1 <= int(lead) <= 24 * 7:
            problems["CADENCE_AGENDA_LEAD_HOURS"] = "must be a whole number of hours, 1 to 168"

        refresh = get("CADENCE_AVAILABILITY_REFRESH_MINUTES", "30") or "30"
        if not refresh.isdigit() or not 5 <= int(refresh) <= 24 * 60:
            problems["CADENCE_AVAILABILITY_REFRESH_MINUTES"] = (
                "must be a whole number of minutes, 5 to 1440"
            )

        defend = get("CADENCE_DEFEND_DAYS", "14") or "14"
        if not defend.isdigit() or not 0 <= int(defend) <= 28:
            problems["CADENCE_DEFEND_DAYS"] = "must be a whole number of days, 0 (off) to 28"

        unconfirmed = get("CADENCE_UNCONFIRMED_DAYS", "7") or "7"
        if not unconfirmed.isdigit() or not 2 <= int(unconfirmed) <= 365:
            problems["CADENCE_UNCONFIRMED_DAYS"] = "must be a whole number of days, 2 to 365"

        smtp_url = get("SMTP_URL")
        if smtp_url and (
            urlsplit(smtp_url).scheme not in SMTP_SCHEMES or not urlsplit(smtp_url).hostname
        ):
            problems["SMTP_URL"] = (
                "must be smtp://host:port (plain, or ?starttls=1), smtp+starttls://host:587 "
                "or smtps://host:465, with user:password@ when the server asks for them"
            )
        mail_from = (
            get("MAIL_FROM")
            or _query_value(smtp_url or "", "from")
            or f"cadence@{_mail_domain(urlsplit(base_url).hostname)}"
        )
        if "@" not in parseaddr(mail_from)[1] or any(c in mail_from for c in "\r\n"):
            problems["MAIL_FROM"] = "must be an email address (cadence@example.com)"

        demo = (get("CADENCE_DEMO", "0") or "0").lower()
        if demo not in ("0", "1", "true", "false", "yes", "no"):
            problems["CADENCE_DEMO"] = "must be 1 or 0"

        caldav_private_origins = set()
        for url in (get("CADENCE_CALDAV_PRIVATE_ORIGINS", "") or "").replace(",", " ").split():
            origin = origin_of(url)
            if origin is None:
                problems["CADENCE_CALDAV_PRIVATE_ORIGINS"] = (
                    "each entry must be a server origin like https://nextcloud.internal "
                    "or http://127.0.0.1:5232"
                )
            else:
                caldav_private_origins.add(origin)

        google = GoogleSettings(
            client_id=get("GOOGLE_CLIENT_ID", "") or "",
            client_secret=get("GOOGLE_CLIENT_SECRET", "") or "",
            api_endpoint=get("GOOGLE_API_ENDPOINT", GoogleSettings.api_endpoint) or "",
            auth_uri=get("GOOGLE_AUTH_URI", GoogleSettings.auth_uri) or "",
            token_uri=get("GOOGLE_TOKEN_URI", GoogleSettings.token_uri) or "",
            revoke_uri=get("GOOGLE_REVOKE_URI", GoogleSettings.revoke_uri) or "",
            userinfo_uri=get("GOOGLE_USERINFO_URI", GoogleSettings.userinfo_uri) or "",
            ca_bundle=get("GOOGLE_CA_BUNDLE"),
        )
        if bool(google.client_id) != bool(google.client_secret):
            problems["GOOGLE_CLIENT_SECRET"] = "set both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET"

        microsoft = MicrosoftSettings(
            client_id=get("MS_CLIENT_ID", "") or "",
            client_secret=get("MS_CLIENT_SECRET", "") or "",
            authority=(get("MS_AUTHORITY", MicrosoftSettings.authority) or "").rstrip("/"),
            graph_url=(get("MS_GRAPH_URL", MicrosoftSettings.graph_url) or "").rstrip("/"),
            ca_bundle=get("MS_CA_BUNDLE"),
        )
        if bool(microsoft.client_id) != bool(microsoft.client_secret):
            problems["MS_CLIENT_SECRET"] = "set both MS_CLIENT_ID and MS_CLIENT_SECRET"
        if urlsplit(microsoft.authority).scheme != "https":
            problems["MS_AUTHORITY"] = "must be an https URL (MSAL refuses anything else)"

        rate_rules = rate_rules_from(get("CADENCE_RATE_LIMITS", "") or "", problems)
        proxies = get("CADENCE_TRUSTED_PROXIES", "0") or "0"
        if not proxies.isdigit() or int(proxies) > 5:
            problems["CADENCE_TRUSTED_PROXIES"] = "must be the number of proxies in front, 0 to 5"

        if problems:
            raise SettingsError(problems)
        assert secret_key is not None
        return cls(
            secret_key=secret_key,
            token_keys=token_keys,
            database_url=database_url,
            redis_url=redis_url,
            base_url=base_url,
            demo=demo in ("1", "true", "yes"),
            smtp_url=smtp_url,
            mail_from=mail_from,
            smtp_ca_bundle=get("SMTP_CA_BUNDLE"),
            agenda_lead_hours=int(lead),
            availability_refresh_minutes=int(refresh),
            defend_days=int(defend),
            unconfirmed_days=int(unconfirmed),
            caldav_private_origins=frozenset(caldav_private_origins),
            google=google,
            microsoft=microsoft,
            rate_limits=RateLimitSettings(rules=rate_rules, trusted_proxies=int(proxies)),
        )


def database_url_from(env: Mapping[str, str]) -> str:
    """The database URL alone (migrations need it without the app's secrets)."""
    return env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of an http(s) URL, lower-cased with the default port filled
    in (``https://Cal.Example/dav`` -> ``https://cal.example:443``); None for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or (443 if scheme == 'https' else 80)}"


def _mail_domain(host: str | None) -> str:
    """The base URL's host as a mail domain; an address (127.0.0.1, ::1) is no domain."""
    try:
        ipaddress.ip_address(host or "")
    except ValueError:
        return host or "localhost"
    return "localhost"


def _query_value(url: str, name: str) -> str | None:
    """One query parameter of ``url`` (``SMTP_URL``'s older ``?from=``), or None."""
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0].strip() if values else None


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False
