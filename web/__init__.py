"""Cadence's Flask application: pages, JSON API and webhooks."""
