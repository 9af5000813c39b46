"""``bin/demo``: Cadence on its embedded default with a seeded organisation (docs/demo.md).

``python -m web.demo`` starts a local Radicale CalDAV server, seeds the demo organisation
through Cadence's use cases on first start, and serves the app on 127.0.0.1 with a demo-only
sign-in page.
"""
