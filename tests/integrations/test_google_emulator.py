"""The emulator is strict where Google is: checked through the real google-api-python-client."""

from __future__ import annotations

import json

import google_auth_httplib2
import httplib2
import pytest
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from tests.emulators.google import ALL_SCOPES, SCOPE, GoogleEmulator

PAT, REP = "pat@acme.test", "rep@acme.test"
START = {"dateTime": "2026-03-02T09:00:00-05:00", "timeZone": "America/New_York"}
END = {"dateTime": "2026-03-02T09:30:00-05:00", "timeZone": "America/New_York"}
WEEKLY = {"start": START, "end": END, "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO"]}


@pytest.fixture
def emulator():
    with GoogleEmulator({PAT: "Pat Manager", REP: "Rita Rep"}) as emu:
        yield emu


def service(emulator: GoogleEmulator, email: str = PAT, scopes=ALL_SCOPES):
    settings = emulator.settings()
    issued = emulator.issue_tokens(email, scopes)
    credentials = Credentials(
        issued["access_token"],
        refresh_token=issued["refresh_token"],
        token_uri=settings.token_uri,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
    )
    http = google_auth_httplib2.AuthorizedHttp(
        credentials, http=httplib2.Http(ca_certs=settings.ca_bundle, timeout=5)
    )
    endpoint = settings.api_endpoint + "calendar/v3/"
    return build("calendar", "v3", http=http, client_options={"api_endpoint": endpoint})


def refusal(request) -> tuple[int, dict]:
    with pytest.raises(HttpError) as caught:
        request.execute()
    return caught.value.resp.status, json.loads(caught.value.content)["error"]


def test_unknown_and_mistyped_fields_get_googles_400(emulator):
    events = service(emulator).events()

    status, error = refusal(events.insert(calendarId="primary", body={**WEEKLY, "agenda": "x"}))
    assert status == 400 and error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert 'Unknown name "agenda"' in error["message"]
    assert error["errors"][0]["reason"] == "invalid"

    mistyped = {**WEEKLY, "attendees": {"email": REP}}
    assert refusal(events.insert(calendarId="primary", body=mistyped))[0] == 400
    bad_private = {**WEEKLY, "extendedProperties": {"private": {"n": 1}}}
    assert refusal(events.insert(calendarId="primary", body=bad_private))[0] == 400
    assert emulator.events(PAT) == []


def test_a_recurring_event_needs_a_time_zone(emulator):
    body = {**WEEKLY, "start": {"dateTime": START["dateTime"]}}

    status, error = refusal(service(emulator).events().insert(calendarId="primary", body=body))

    assert status == 400
    assert error["message"] == "Missing time zone definition for start time."


@pytest.mark.parametrize("bad_id", ["abcd", "ABCDEF", "abcdw1", "abc-def", "a" * 1025])
def test_client_ids_must_be_base32hex_of_5_to_1024_chars(emulator, bad_id):
    body = {**WEEKLY, "id": bad_id}

    status, error = refusal(service(emulator).events().insert(calendarId="primary", body=body))

    assert (status, error["message"]) == (400, "Invalid resource id value.")


def test_a_duplicate_id_is_409(emulator):
    events = service(emulator).events()
    events.insert(calendarId="primary", body={**WEEKLY, "id": "abcde0"}).execute()

    status, error = refusal(events.insert(calendarId="primary", body={**WEEKLY, "id": "abcde0"}))

    assert status == 409 and error["errors"][0]["reason"] == "duplicate"


def test_attachments_need_supports_attachments(emulator):
    events = service(emulator).events()
    attachment = {"fileUrl": "https://cadence.test/a", "title": "Agenda"}
    plain = events.insert(
        calendarId="primary", body={**WEEKLY, "id": "aaaaa1", "attachments": [attachment]}
    ).execute()
    kept = events.insert(
        calendarId="primary",
        body={**WEEKLY, "id": "aaaaa2", "attachments": [attachment]},
        supportsAttachments=True,
    ).execute()

    assert "attachments" not in plain and kept["attachments"] == [attachment]


def test_instances_expand_in_the_events_zone_across_dst(emulator):
    events = service(emulator).events()
    events.insert(calendarId="primary", body={**WEEKLY, "id": "series1"}).execute()

    instances = events.instances(
        calendarId="primary",
        eventId="series1",
        timeMin="2026-03-01T00:00:00Z",
        timeMax="2026-03-20T00:00:00Z",
    ).execute()["items"]

    assert [i["start"]["dateTime"] for i in instances] == [
        "2026-03-02T09:00:00-05:00",
        "2026-03-09T09:00:00-04:00",
        "2026-03-16T09:00:00-04:00",
    ]
    assert [i["id"] for i in instances][1] == "series1_20260309T130000Z"


def test_sync_tokens_exclude_filters_and_expire_with_410(emulator):
    events = service(emulator).events()
    token = events.list(calendarId="primary").execute()["nextSyncToken"]

    status, _ = refusal(
        events.list(calendarId="primary", syncToken=token, timeMin="2026-01-01T00:00:00Z")
    )
    assert status == 400

    emulator.expire_sync_tokens(PAT)
    status, error = refusal(events.list(calendarId="primary", syncToken=token))
    assert status == 410 and error["errors"][0]["reason"] == "fullSyncRequired"
    assert refusal(events.list(calendarId="primary", syncToken="garbage"))[0] == 410


def test_freebusy_limits_and_per_calendar_errors(emulator):
    freebusy = service(emulator).freebusy()
    window = {"timeMin": "2026-03-01T00:00:00Z", "timeMax": "2026-03-08T00:00:00Z"}

    answer = freebusy.query(body={**window, "items": [{"id": REP}, {"id": "x@y.test"}]}).execute()
    assert answer["calendars"]["x@y.test"]["errors"][0]["reason"] == "notFound"
    assert answer["calendars"][REP] == {"busy": []}

    too_many = {**window, "items": [{"id": f"p{n}@acme.test"} for n in range(51)]}
    assert refusal(freebusy.query(body=too_many))[0] == 400
    too_long = {"timeMin": "2026-01-01T00:00:00Z", "timeMax": "2026-04-02T00:00:00Z", "items": []}
    assert refusal(freebusy.query(body=too_long))[0] == 400


def test_scopes_are_enforced(emulator):
    events_only = (SCOPE + "calendar.events",)
    freebusy = service(emulator, scopes=events_only).freebusy()
    body = {"timeMin": "2026-03-01T00:00:00Z", "timeMax": "2026-03-08T00:00:00Z", "items": []}

    status, error = refusal(freebusy.query(body=body))

    assert status == 403 and error["errors"][0]["reason"] == "insufficientPermissions"


def test_webhooks_must_be_https(emulator):
    body = {"id": "c1", "type": "web_hook", "address": "http://127.0.0.1:9/hook"}

    status, error = refusal(service(emulator).events().watch(calendarId="primary", body=body))

    assert status == 400 and "HTTPS" in error["message"]


def test_injected_failures_hit_the_named_method_and_calls_are_counted(emulator):
    events = service(emulator).events()
    emulator.fail_next(1, 503, method="events.insert")

    events.list(calendarId="primary").execute()
    assert refusal(events.insert(calendarId="primary", body=WEEKLY))[0] == 503
    events.insert(calendarId="primary", body=WEEKLY).execute()

    assert emulator.calls == {"events.list": 1, "events.insert": 2}
    assert len(emulator.events(PAT)) == 1  # the failure came before the write


def test_a_revoked_grant_gets_401_then_invalid_grant_on_refresh(emulator):
    events = service(emulator).events()
    emulator.revoke(PAT)

    with pytest.raises(RefreshError, match="invalid_grant"):
        events.list(calendarId="primary").execute()
    assert emulator.calls["oauth.token"] == 1


def test_an_events_list_answers_the_calendars_zone_at_its_top_level(emulator):
    emulator.set_zone(PAT, "America/New_York")

    answer = service(emulator).events().list(calendarId="primary", maxResults=1).execute()

    assert answer["kind"] == "calendar#events"
    assert answer["timeZone"] == "America/New_York"
    # Another user's calendar keeps its own zone.
    rita = service(emulator, REP).events().list(calendarId="primary").execute()
    assert rita["timeZone"] == "UTC"
