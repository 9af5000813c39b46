"""Every shape of input Cadence reads, declared once: its fields, their types and bounds.

The pages' forms, the JSON API and the team CSV import read what people send through these
pydantic models (``read_form``, ``read_json``), so every text field is held to its one
declared maximum (``scheduler/text_limits.py``) and refused with the field named, on every
database, before anything is stored. The API's request schemas in its OpenAPI document are
generated from the same models. Rules that need the database or the clock (a known zone, a
rep on your team) stay in the use cases; shapes check only what input alone can tell.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic.json_schema import models_json_schema
from pydantic_core import ErrorDetails, PydanticCustomError

from scheduler import text_limits
from scheduler.field_errors import FieldError
from scheduler.usecases.directory import InvalidInput

NUL_MESSAGE = "Remove the NUL character (U+0000)."


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul_character", NUL_MESSAGE)
    return value


NO_NUL = AfterValidator(_no_nul)
# Each kind of text: a str of at most its declared maximum, without NUL.
Email = Annotated[str, Field(max_length=text_limits.EMAIL), NO_NUL]
PersonName = Annotated[str, Field(max_length=text_limits.PERSON_NAME), NO_NUL]
OrganizationName = Annotated[str, Field(max_length=text_limits.ORGANIZATION_NAME), NO_NUL]
Zone = Annotated[str, Field(max_length=text_limits.ZONE), NO_NUL]
Domain = Annotated[str, Field(max_length=text_limits.DOMAIN), NO_NUL]
Password = Annotated[str, Field(max_length=text_limits.PASSWORD), NO_NUL]
TokenName = Annotated[str, Field(max_length=text_limits.API_TOKEN_NAME), NO_NUL]
ServerUrl = Annotated[str, Field(max_length=text_limits.SERVER_URL), NO_NUL]
CalDAVUsername = Annotated[str, Field(max_length=text_limits.CALDAV_USERNAME), NO_NUL]
CalendarName = Annotated[str, Field(max_length=text_limits.CALENDAR_NAME), NO_NUL]
TopicTitle = Annotated[str, Field(max_length=text_limits.TOPIC_TITLE), NO_NUL]
NoteText = Annotated[str, Field(max_length=text_limits.NOTE), NO_NUL]
ActionItemText = Annotated[str, Field(max_length=text_limits.ACTION_ITEM), NO_NUL]
TalkingPointText = Annotated[str, Field(max_length=text_limits.TALKING_POINT), NO_NUL]
CancelReason = Annotated[str, Field(max_length=text_limits.CANCEL_REASON), NO_NUL]
HolidaysText = Annotated[str, Field(max_length=text_limits.HOLIDAYS), NO_NUL]
ShortValue = Annotated[str, Field(max_length=text_limits.SHORT_VALUE), NO_NUL]


class Shape(BaseModel):
    """Strict (no "5" for 5, no number for a date) and tolerant of fields it does not name
    (a form's CSRF token, a CSV's extra columns)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


# ---------------------------------------------------------------------------- pages' forms


class SignUpForm(Shape):
    email: Email = ""
    name: PersonName = ""
    zone: Zone = ""
    organization: OrganizationName = ""
    password: Password = ""


class EmailForm(Shape):
    """Asking for a new verification link or a password reset."""

    email: Email = ""


class NewPasswordForm(Shape):
    """A reset link's form, and the account page's password change."""

    password: Password = ""
    current_password: Password = ""


class CalDAVForm(Shape):
    url: ServerUrl = ""
    username: CalDAVUsername = ""
    password: Password = ""
    email: Email = ""
    calendar: CalendarName = ""


class NewApiToken(Shape):
    name: TokenName = ""
    expires: ShortValue = ""


class TalkingPointForm(Shape):
    text: TalkingPointText = ""


class CancelWeekForm(Shape):
    """ "Cancel this week" asks first, with an optional reason (shown where the week is)."""

    reason: CancelReason = ""


class SettingsForm(Shape):
    """The settings page's free-text fields (its numbers and times are parsed as such)."""

    join_domain: Domain = ""
    holidays: HolidaysText = ""


class AccountTimeForm(Shape):
    """The account page's zone (its working hours are parsed as times, web/own_time.py)."""

    zone: Zone = ""


class TeamCsvRow(Shape):
    """One row of the team CSV (``web/csv_import.py``)."""

    manager_email: Email = ""
    rep_email: Email = ""
    rep_name: PersonName = ""
    rep_zone: Zone = ""


# ---------------------------------------------------------------------------- the JSON API


class NewRep(Shape):
    """A rep put on the manager's team (also the team page's and the admin's add forms)."""

    email: Email
    name: PersonName = ""
    zone: Zone = Field(description="IANA time zone, like Europe/London")


class NewSeries(Shape):
    rep_id: ShortValue
    weekday: int = Field(ge=0, le=6, description="A whole number from 0 (Monday) to 6 (Sunday).")
    local_time: str = Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        max_length=5,
        description="A wall-clock time like 09:30.",
    )
    duration_minutes: int = Field(
        default=30, ge=15, le=240, description="A whole number of minutes, 15 to 240."
    )
    zone: Zone | None = Field(default=None, description="Must be the manager's own zone.")
    first_day: date = Field(description="A date like 2026-11-02.")


class DebriefItem(Shape):
    id: ShortValue | None = Field(
        default=None,
        description="The recorded item this edits (keeps its done mark); omit for a new one.",
    )
    text: ActionItemText
    owner: Literal["manager", "rep"] = Field(description="manager or rep.")
    due_date: date = Field(description="A date like 2026-11-02.")


class Debrief(Shape):
    notes: dict[TopicTitle, NoteText] = Field(
        default_factory=dict, description="An object of topic title -> note text."
    )
    action_items: list[DebriefItem] = Field(
        description="A list of {id?, text, owner, due_date}; recorded items left out are deleted."
    )


class ActionItemChange(Shape):
    done: bool = Field(description="true or false.")


API_SHAPES: tuple[type[Shape], ...] = (NewRep, NewSeries, Debrief, ActionItemChange)


def request_schemas() -> dict[str, Any]:
    """The API's request bodies as OpenAPI components, by model name (nested ones too)."""
    _, top = models_json_schema(
        [(shape, "validation") for shape in API_SHAPES],
        ref_template="#/components/schemas/{model}",
    )
    return dict(top["$defs"])


# ---------------------------------------------------------------------------- reading

S = TypeVar("S", bound=Shape)


def read_form(shape: type[S], values: Mapping[str, Any]) -> S:
    """``values`` (a form, a CSV row) as ``shape``; ``InvalidInput`` names each field at fault."""
    try:
        # Item by item: a form's MultiDict gives each field's first value.
        return shape.model_validate({key: values[key] for key in values})
    except ValidationError as error:
        raise InvalidInput(field_errors(shape, error)) from error


def read_json(shape: type[S], body: bytes) -> S:
    """A JSON body as ``shape``; ``InvalidInput`` names each field at fault."""
    try:
        return shape.model_validate_json(body)
    except ValidationError as error:
        raise InvalidInput(field_errors(shape, error)) from error


def field_errors(shape: type[Shape], error: ValidationError) -> list[FieldError]:
    """One ``FieldError`` per problem, in plain words, at paths like ``action_items[2].text``."""
    found = []
    for detail in error.errors():
        path, field = _locate(shape, detail["loc"])
        found.append(FieldError(path, _message(detail, field)))
    return found


def _locate(shape: type[Shape], loc: tuple[int | str, ...]) -> tuple[str, FieldInfo | None]:
    """The path a problem's ``loc`` names, and the declared field it falls in."""
    path, mapping = "", False
    model: type[Shape] | None = shape
    field: FieldInfo | None = None
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int) or mapping:
            path, mapping = f"{path}[{part}]", False
            continue
        path = f"{path}.{part}" if path else str(part)
        field = model.model_fields.get(part) if model is not None else None
        annotation = field.annotation if field is not None else None
        mapping = typing.get_origin(annotation) is dict
        inner = [a for a in (annotation, *typing.get_args(annotation)) if isinstance(a, type)]
        model = next((a for a in inner if issubclass(a, Shape)), None)
    return path or "body", field


def _message(detail: ErrorDetails, field: FieldInfo | None) -> str:
    kind, context = detail["type"], detail.get("ctx") or {}
    if kind == "string_too_long":
        return f"At most {context['max_length']} characters."
    if kind == "nul_character":
        return NUL_MESSAGE
    if kind == "missing":
        return "Required."
    if field is not None and field.description:
        return field.description
    return "A string." if kind.startswith("string") else str(detail["msg"])
