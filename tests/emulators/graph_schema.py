"""A compact schema of the Graph v1.0 resources Cadence writes, to refuse unknown properties.

Property names are taken from Microsoft's reference pages (learn.microsoft.com/graph/api/
resources/{event,attendee,patternedrecurrence,recurrencepattern,recurrencerange,itembody,
datetimetimezone,fileattachment,subscription,singlevaluelegacyextendedproperty} and
/graph/api/calendar-getschedule, /graph/api/event-cancel). Each entry maps a property to the
schema of its value when that value is an object (or a list of objects), else to ``None``.
Graph answers an unknown property with 400 ``RequestBodyRead``; so does the emulator.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, "str | None"]

_EMAIL_ADDRESS: Schema = {"address": None, "name": None}
_DATE_TIME_ZONE: Schema = {"dateTime": None, "timeZone": None}

SCHEMAS: dict[str, Schema] = {
    "emailAddress": _EMAIL_ADDRESS,
    "dateTimeTimeZone": _DATE_TIME_ZONE,
    "itemBody": {"content": None, "contentType": None},
    "responseStatus": {"response": None, "time": None},
    "recipient": {"emailAddress": "emailAddress"},
    "attendee": {
        "emailAddress": "emailAddress",
        "type": None,
        "status": "responseStatus",
        "proposedNewTime": None,
    },
    "location": {
        "displayName": None,
        "locationEmailAddress": None,
        "address": None,
        "coordinates": None,
        "locationUri": None,
        "locationType": None,
        "uniqueId": None,
        "uniqueIdType": None,
    },
    "recurrencePattern": {
        "dayOfMonth": None,
        "daysOfWeek": None,
        "firstDayOfWeek": None,
        "index": None,
        "interval": None,
        "month": None,
        "type": None,
    },
    "recurrenceRange": {
        "endDate": None,
        "numberOfOccurrences": None,
        "recurrenceTimeZone": None,
        "startDate": None,
        "type": None,
    },
    "patternedRecurrence": {"pattern": "recurrencePattern", "range": "recurrenceRange"},
    "singleValueLegacyExtendedProperty": {"id": None, "value": None},
    "event": {
        "allowNewTimeProposals": None,
        "attendees": "attendee",
        "body": "itemBody",
        "bodyPreview": None,
        "categories": None,
        "changeKey": None,
        "createdDateTime": None,
        "end": "dateTimeTimeZone",
        "hasAttachments": None,
        "hideAttendees": None,
        "iCalUId": None,
        "id": None,
        "importance": None,
        "isAllDay": None,
        "isCancelled": None,
        "isDraft": None,
        "isOnlineMeeting": None,
        "isOrganizer": None,
        "isReminderOn": None,
        "lastModifiedDateTime": None,
        "location": "location",
        "locations": "location",
        "onlineMeeting": None,
        "onlineMeetingProvider": None,
        "onlineMeetingUrl": None,
        "organizer": "recipient",
        "originalEndTimeZone": None,
        "originalStart": None,
        "originalStartTimeZone": None,
        "recurrence": "patternedRecurrence",
        "reminderMinutesBeforeStart": None,
        "responseRequested": None,
        "responseStatus": "responseStatus",
        "sensitivity": None,
        "seriesMasterId": None,
        "showAs": None,
        "start": "dateTimeTimeZone",
        "subject": None,
        "transactionId": None,
        "type": None,
        "webLink": None,
        "attachments": "fileAttachment",
        "singleValueExtendedProperties": "singleValueLegacyExtendedProperty",
        "multiValueExtendedProperties": None,
    },
    "fileAttachment": {
        "contentBytes": None,
        "contentId": None,
        "contentLocation": None,
        "contentType": None,
        "id": None,
        "isInline": None,
        "lastModifiedDateTime": None,
        "name": None,
        "size": None,
    },
    "subscription": {
        "applicationId": None,
        "changeType": None,
        "clientState": None,
        "creatorId": None,
        "encryptionCertificate": None,
        "encryptionCertificateId": None,
        "expirationDateTime": None,
        "id": None,
        "includeResourceData": None,
        "latestSupportedTlsVersion": None,
        "lifecycleNotificationUrl": None,
        "notificationQueryOptions": None,
        "notificationUrl": None,
        "notificationUrlAppId": None,
        "resource": None,
    },
    "getScheduleRequest": {
        "schedules": None,
        "startTime": "dateTimeTimeZone",
        "endTime": "dateTimeTimeZone",
        "availabilityViewInterval": None,
    },
    "cancelRequest": {"Comment": None},
}


class UnknownProperty(ValueError):
    """A request body names a property its Graph type does not have."""

    def __init__(self, type_name: str, prop: str):
        self.type_name = type_name
        self.prop = prop
        super().__init__(
            f"The property '{prop}' does not exist on type 'microsoft.graph.{type_name}'. "
            "Make sure to only use property names that are defined by the type or mark the "
            "type as open type."
        )


def validate(body: Any, type_name: str) -> None:
    """Raise ``UnknownProperty`` for the first property ``body`` has that ``type_name`` lacks."""
    if isinstance(body, list):
        for item in body:
            validate(item, type_name)
        return
    if not isinstance(body, dict):
        return
    schema = SCHEMAS[type_name]
    for prop, value in body.items():
        if prop.startswith("@odata."):
            continue
        if prop not in schema:
            raise UnknownProperty(type_name, prop)
        nested = schema[prop]
        if nested is not None and value is not None:
            validate(value, nested)
