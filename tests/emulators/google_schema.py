"""Request-body validation against the Calendar v3 discovery document the client ships.

google-api-python-client checks query parameters against the discovery document but never
request bodies (PROVIDERS.md), so the emulator does: an unknown field, a wrong JSON type or a
malformed date-time is refused with a 400 in Google's error shape, as the real API does.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient

_DOCUMENT = (
    Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "calendar.v3.json"
)
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class SchemaError(ValueError):
    """A body does not match its schema; ``str()`` is Google's message."""


@cache
def discovery() -> dict[str, Any]:
    """The Calendar v3 discovery document as shipped in google-api-python-client."""
    return json.loads(_DOCUMENT.read_text())


def method(resource: str, name: str) -> dict[str, Any]:
    return discovery()["resources"][resource]["methods"][name]


def query_parameters(resource: str, name: str) -> set[str]:
    """Every query parameter the method accepts (its own plus the global ones)."""
    return set(method(resource, name).get("parameters", {})) | set(discovery()["parameters"])


def validate_body(resource: str, name: str, body: Any) -> None:
    """Raise ``SchemaError`` unless ``body`` fits the method's request schema."""
    request = method(resource, name).get("request")
    if request is None:
        if body not in (None, b"", {}):
            raise SchemaError("This method takes no request body.")
        return
    _check(body, {"$ref": request["$ref"]}, "resource")


def _check(value: Any, schema: dict[str, Any], where: str) -> None:
    if "$ref" in schema:
        schema = discovery()["schemas"][schema["$ref"]]
    kind = schema.get("type")
    if value is None:
        return  # JSON null clears a field in Google's APIs
    if kind == "object" or "properties" in schema or "additionalProperties" in schema:
        if not isinstance(value, dict):
            raise SchemaError(f"Invalid value at '{where}', expected an object.")
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                _check(item, properties[key], f"{where}.{key}")
            elif extra is not None:
                _check(item, extra, f"{where}.{key}")
            else:
                raise SchemaError(
                    f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                    "Cannot find field."
                )
    elif kind == "array":
        if not isinstance(value, list):
            raise SchemaError(f"Invalid value at '{where}', expected a list.")
        for index, item in enumerate(value):
            _check(item, schema["items"], f"{where}[{index}]")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise SchemaError(f"Invalid value at '{where}' (TYPE_BOOL), {json.dumps(value)}")
    elif kind in ("integer", "number"):
        # Proto3 JSON accepts numbers or numeric strings for integer fields.
        ok = (isinstance(value, int | float) and not isinstance(value, bool)) or (
            isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None
        )
        if not ok:
            raise SchemaError(f"Invalid value at '{where}' (TYPE_INT32), {json.dumps(value)}")
    elif kind == "string":
        _check_string(value, schema.get("format"), where)


def _check_string(value: Any, fmt: str | None, where: str) -> None:
    if fmt == "int64" and isinstance(value, int) and not isinstance(value, bool):
        return
    if not isinstance(value, str):
        raise SchemaError(f"Invalid value at '{where}' (TYPE_STRING), {json.dumps(value)}")
    if fmt == "date-time":
        if not _RFC3339.match(value):
            raise SchemaError(f"Invalid value at '{where}': bad date-time {value!r}.")
        datetime.fromisoformat(value)
    elif fmt == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise SchemaError(f"Invalid value at '{where}': bad date {value!r}.") from None
    elif fmt == "int64" and not re.fullmatch(r"-?\d+", value):
        raise SchemaError(f"Invalid value at '{where}' (TYPE_INT64), {json.dumps(value)}")
