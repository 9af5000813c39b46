"""The longest text Cadence accepts in each field: one declared maximum per kind of text.

Forms, the JSON API and the CSV import check what people type against these through the
input shapes (``web/input_shapes.py``); the rules that already bounded a text (agenda topics,
action items, talking points, token names) use the same numbers; and the columns that store a
text are declared from them, so whatever passes the check fits on every database.
"""

from __future__ import annotations

EMAIL = 320  # RFC 5321: 64 for the local part, @, 255 for the domain
PERSON_NAME = 200
ORGANIZATION_NAME = 200
ZONE = 64  # the longest IANA zone name is 32
DOMAIN = 200
# Not stored (only its hash), but every character costs hashing time.
PASSWORD = 1024
API_TOKEN_NAME = 100
SERVER_URL = 2048
CALDAV_USERNAME = 320
CALENDAR_NAME = 200
TOPIC_TITLE = 120
TOPIC_PROMPT = 240
NOTE = 5000  # one agenda topic's note in a debrief
ACTION_ITEM = 500
TALKING_POINT = 1000
CANCEL_REASON = 500  # why a manager cancelled one week
HOLIDAYS = 5000  # the settings page's list of days, one per line
# A Microsoft account's "<tid>/<oid>" from its ID token: two GUIDs and a slash (73).
MICROSOFT_ACCOUNT = 100
# Values that are parsed, never stored as typed (a date, a time, an id, a choice).
SHORT_VALUE = 64
