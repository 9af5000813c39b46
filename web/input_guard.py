"""Text Cadence cannot store: a NUL character is refused at the door, naming its field.

PostgreSQL text columns cannot hold U+0000 and SQLite would store it silently, so the same
request must get the same clear 400 on both instead of a 500 from the database.
"""

from __future__ import annotations

from typing import Any

from flask import request


def nul_fields() -> list[str]:
    """The path, query, form and JSON fields of this request whose text contains U+0000."""
    path = request.view_args or {}
    found = [name for name, value in path.items() if isinstance(value, str) and "\x00" in value]
    found += [name for name, value in request.args.items(multi=True) if "\x00" in value + name]
    found += [name for name, value in request.form.items(multi=True) if "\x00" in value + name]
    if request.is_json:
        found += _json_paths(request.get_json(silent=True), "")
    return found


def _json_paths(value: Any, path: str) -> list[str]:
    """Paths (``items[2].text``) of the JSON strings, keys included, that hold U+0000."""
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            found += [here] if "\x00" in str(key) else _json_paths(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _json_paths(item, f"{path}[{index}]")
    return found
