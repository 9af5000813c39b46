"""The Flask application factory."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, Response, g, jsonify, request

from integrations.factory import connection_calendars
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.settings import Settings
from web import (
    admin,
    api,
    auth,
    conflict_policy,
    errors,
    forms,
    joining,
    mail_links,
    mail_settings,
    manager,
    own_time,
    passwords,
    rep,
    reports,
    security,
    slot_links,
    timefmt,
    unsubscribe,
    verification,
    webhooks,
    zone_picker,
)
from web.agenda_links import agenda_link_builder
from web.identity import load_signed_in_person
from web.input_guard import nul_fields
from web.providers import reconnect_needed
from web.rate_limits import init_rate_limits
from web.services import Clock, ProviderFactory, Services


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    providers: ProviderFactory | None = None,
    clock: Clock | None = None,
) -> Flask:
    """Cadence's web app for ``settings``; tests pass their own database, calendars and clock."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    database = database or Database(settings.database_url)
    cipher = TokenCipher(settings.token_keys)
    app.extensions["cadence"] = Services(
        settings=settings,
        database=database,
        cipher=cipher,
        providers=providers or connection_calendars(settings, database, cipher),
        clock=clock or utc_now,
        agenda_link=agenda_link_builder(settings.secret_key, settings.base_url),
    )
    security.init_security(app, https=settings.base_url.startswith("https://"))
    init_rate_limits(app, settings)
    errors.init_errors(app)
    timefmt.register(app)
    forms.register(app)
    zone_picker.register(app)
    own_time.register(app)
    conflict_policy.register(app)
    mail_settings.register(app)
    app.before_request(load_signed_in_person)

    @app.before_request
    def refuse_nul_characters() -> Response | None:
        if request.blueprint == "api":  # the API answers with its own field list
            return None
        fields = nul_fields()
        if fields:
            return errors.error_answer(400, f"Remove the NUL character from: {', '.join(fields)}.")
        return None

    @app.context_processor
    def page_context() -> dict[str, object]:
        person = g.get("person")
        return {"person": person, "reconnect": reconnect_needed(person) if person else None}

    for blueprint in (
        auth.bp,
        joining.bp,
        verification.bp,
        passwords.bp,
        own_time.bp,
        conflict_policy.bp,
        mail_settings.bp,
        manager.bp,
        rep.bp,
        mail_links.bp,
        admin.bp,
        api.bp,
        webhooks.bp,
        unsubscribe.bp,
        slot_links.bp,
        *reports.blueprints,
    ):
        app.register_blueprint(blueprint)
    security.csrf.exempt(api.bp)  # the API checks CSRF itself unless a bearer token is used
    security.csrf.exempt(webhooks.bp)  # providers authenticate notifications with channel secrets
    # RFC 8058 one-click posts carry no CSRF token; the view checks it on every other post.
    security.csrf.exempt(unsubscribe.stop)

    @app.get("/healthz")
    def health() -> tuple[Response, int]:
        ok = database.ping()
        return jsonify(status="ok" if ok else "degraded", database=ok), 200 if ok else 503

    return app
