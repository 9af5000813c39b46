"""Cadence's core: scheduling rules, use cases, persistence and jobs."""
