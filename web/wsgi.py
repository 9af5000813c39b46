"""Gunicorn's entry point: ``gunicorn web.wsgi:app``; settings are read here, once."""

import os

from scheduler.settings import Settings
from web.app import create_app

app = create_app(Settings.from_env(os.environ))
