"""The Flask application factory."""

from __future__ import annotations

import os

from flask import Flask, jsonify

from scheduler.db import Database
from scheduler.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app from ``settings`` (read from the environment when not given)."""
    settings = settings or Settings.from_env(os.environ)
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
    )
    database = Database(settings.database_url)
    app.extensions["cadence.settings"] = settings
    app.extensions["cadence.db"] = database

    @app.get("/healthz")
    def health():  # type: ignore[no-untyped-def]
        ok = database.ping()
        return jsonify(status="ok" if ok else "degraded", database=ok), 200 if ok else 503

    return app
