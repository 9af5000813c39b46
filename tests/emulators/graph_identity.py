"""The Microsoft identity platform, as much of it as MSAL uses for a web app's sign-in.

OpenID discovery, the authorize endpoint (the signed-in browser user consents at once and is
sent back with a code), and the token endpoint (authorization code with PKCE, refresh token;
``invalid_grant`` once a user's grant is revoked). Tokens are opaque random strings except
the id_token, an unsigned JWT (MSAL 1.39 does not validate id_tokens; it checks the nonce).

The id_token carries the optional claim ``xms_edov: true`` (the email's domain owner verified
it, as when the app registration asks for that claim and the tenant owns the domain) unless
the address is in ``Identity.unverified``; ``Identity.object_ids`` gives an address to another
account (another ``oid``: someone else's user, in another tenant, set to that address).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tests.emulators.server import Request, Response

RESERVED_SCOPES = {"openid", "profile", "offline_access"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    body = {"error": error, "error_description": description, "error_codes": [50000]}
    return Response.json(status, body)


@dataclass
class _Grant:
    email: str
    scopes: list[str]
    client_id: str
    redirect_uri: str = ""
    nonce: str = ""
    code_challenge: str = ""


@dataclass
class Identity:
    """Users, registered apps and the grants they hold, in one tenant."""

    tenant: str
    base_url: str = ""
    apps: dict[str, tuple[str, set[str]]] = field(default_factory=dict)  # id -> (secret, uris)
    names: dict[str, str] = field(default_factory=dict)  # email -> display name
    signed_in: str | None = None  # the user the emulated browser is signed in as
    # Addresses whose id_tokens carry no ``xms_edov``: a tenant that does not own the
    # address's domain (any tenant's admin can set a user's mail to any address).
    unverified: set[str] = field(default_factory=set)
    # email -> the ``oid`` its id_tokens name instead of the address's own (another account).
    object_ids: dict[str, str] = field(default_factory=dict)
    # access token -> (mailbox, expiry, delegated scopes it carries)
    access_tokens: dict[str, tuple[str, float, frozenset[str]]] = field(default_factory=dict)
    token_requests: int = 0
    metadata_requests: int = 0  # OpenID discovery documents served (MSAL fetches one per app)
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _refresh: dict[str, _Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.tenant}"

    def register_app(self, client_id: str, secret: str, redirect_uris: set[str]) -> None:
        self.apps[client_id] = (secret, redirect_uris)

    def revoke(self, email: str) -> None:
        """Revoke every grant and access token of ``email`` (an admin revoking sessions)."""
        with self._lock:
            for table in (self._refresh, self._codes):
                for key in [k for k, g in table.items() if g.email == email]:
                    del table[key]
            for key in [k for k, (e, _, _) in self.access_tokens.items() if e == email]:
                del self.access_tokens[key]

    def object_id(self, email: str) -> str:
        """The ``oid`` of the account signing in as ``email``: its own, unless another's."""
        return self.object_ids.get(email) or hashlib.sha256(email.encode()).hexdigest()[:32]

    def user_for(self, bearer: str) -> str | None:
        """The mailbox an access token speaks for, or ``None`` if unknown or expired."""
        entry = self.access_tokens.get(bearer)
        if entry is None or entry[1] < time.time():
            return None
        return entry[0]

    def scopes_for(self, bearer: str) -> frozenset[str]:
        """The delegated permissions an access token carries (what the user consented to)."""
        entry = self.access_tokens.get(bearer)
        return entry[2] if entry else frozenset()

    # ------------------------------------------------------------------ endpoints

    def handle(self, request: Request) -> Response | None:
        """Answer identity requests under ``/{tenant}/``; ``None`` for other paths."""
        prefix = f"/{self.tenant}/"
        if not request.path.startswith(prefix):
            return None
        rest = request.path[len(prefix) :]
        if rest == "v2.0/.well-known/openid-configuration":
            with self._lock:
                self.metadata_requests += 1
            return Response.json(200, self._openid_configuration())
        if rest == "oauth2/v2.0/authorize":
            return self._authorize(request)
        if rest == "oauth2/v2.0/token" and request.method == "POST":
            return self._token(request)
        return _oauth_error("invalid_request", f"AADSTS90002: no endpoint {request.path}", 404)

    def _openid_configuration(self) -> dict[str, Any]:
        base = self.authority
        return {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "tenant_region_scope": "EU",
        }

    def _authorize(self, request: Request) -> Response:
        args = {name: values[-1] for name, values in request.query.items()}
        app = self.apps.get(args.get("client_id", ""))
        if app is None:
            return _oauth_error("unauthorized_client", "AADSTS700016: application not found")
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in app[1]:
            return _oauth_error("invalid_request", "AADSTS50011: redirect URI mismatch")
        if args.get("response_type") != "code" or args.get("code_challenge_method") != "S256":
            return _oauth_error("invalid_request", "response_type=code with S256 PKCE expected")
        email = args.get("login_hint") or self.signed_in
        if email not in self.names:
            return _oauth_error("invalid_request", "AADSTS50034: user account does not exist")
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(
            email=email,
            scopes=args.get("scope", "").split(),
            client_id=args["client_id"],
            redirect_uri=redirect_uri,
            nonce=args.get("nonce", ""),
            code_challenge=args.get("code_challenge", ""),
        )
        answer = {"code": code, "state": args.get("state", ""), "session_state": "s"}
        if args.get("response_mode") == "form_post":
            inputs = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                for k, v in answer.items()
            )
            page = f'<form method="post" action="{html.escape(redirect_uri)}">{inputs}</form>'
            return Response(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
        return Response(302, headers={"Location": f"{redirect_uri}?{urlencode(answer)}"})

    def _token(self, request: Request) -> Response:
        form = request.form()
        self.token_requests += 1
        app = self.apps.get(form.get("client_id", ""))
        if app is None or form.get("client_secret") != app[0]:
            return _oauth_error("invalid_client", "AADSTS7000215: invalid client secret", 401)
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                grant = self._codes.pop(form.get("code", ""), None)
                if grant is None:
                    return _oauth_error("invalid_grant", "AADSTS70008: code expired or used")
                verifier = form.get("code_verifier", "")
                if _b64(hashlib.sha256(verifier.encode()).digest()) != grant.code_challenge:
                    return _oauth_error("invalid_grant", "AADSTS501481: code_verifier mismatch")
                if form.get("redirect_uri") != grant.redirect_uri:
                    return _oauth_error("invalid_grant", "AADSTS70000: redirect_uri mismatch")
            elif grant_type == "refresh_token":
                grant = self._refresh.get(form.get("refresh_token", ""))
                if grant is None:
                    return _oauth_error(
                        "invalid_grant",
                        "AADSTS50173: The provided grant has expired due to it being revoked.",
                    )
                # A refresh may not widen the consent: a permission the user never granted
                # needs a new interactive sign-in, as in Entra ID.
                consented = {s.lower() for s in grant.scopes}
                asked = {s.lower() for s in form.get("scope", "").split()} - RESERVED_SCOPES
                if asked - consented:
                    return _oauth_error(
                        "invalid_grant",
                        "AADSTS65001: The user or administrator has not consented to use the "
                        f"application for {sorted(asked - consented)}.",
                    )
                del self._refresh[form.get("refresh_token", "")]
            else:
                return _oauth_error("unsupported_grant_type", f"{grant_type} is not supported")
            return Response.json(200, self._issue(grant))

    def _issue(self, grant: _Grant) -> dict[str, Any]:
        missing = RESERVED_SCOPES - set(grant.scopes)
        if "offline_access" in missing:
            raise AssertionError(f"a web app must ask for offline_access; asked {grant.scopes}")
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32)
        scopes = frozenset(s.lower() for s in grant.scopes if s not in RESERVED_SCOPES)
        self.access_tokens[access] = (grant.email, time.time() + 3600, scopes)
        self._refresh[refresh] = grant
        uid = self.object_id(grant.email)
        now = int(time.time())
        claims = {
            "aud": grant.client_id,
            "iss": f"{self.authority}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": self.names[grant.email],
            "preferred_username": grant.email,
            "email": grant.email,
            "oid": uid,
            "sub": uid,
            "tid": self.tenant,
            "ver": "2.0",
        }
        if grant.email not in self.unverified:
            claims["xms_edov"] = True
        if grant.nonce:
            claims["nonce"] = grant.nonce
        id_token = ".".join(
            _b64(json.dumps(part).encode()) for part in ({"alg": "none", "typ": "JWT"}, claims)
        )
        return {
            "token_type": "Bearer",
            "scope": " ".join(s for s in grant.scopes if s not in RESERVED_SCOPES),
            "expires_in": 3600,
            "ext_expires_in": 3600,
            "access_token": access,
            "refresh_token": refresh,
            "id_token": id_token + ".",
            "client_info": _b64(json.dumps({"uid": uid, "utid": self.tenant}).encode()),
        }
