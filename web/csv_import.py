"""The team CSV import: ``manager_email,rep_email,rep_name,rep_zone`` rows, one report line
each. An import stores every row or none (``scheduler.usecases.directory.add_reps``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

COLUMNS = ("manager_email", "rep_email", "rep_name", "rep_zone")
MAX_ROWS = 2000


class CsvUnreadable(ValueError):
    """The file is not a CSV with the expected header."""


@dataclass(frozen=True)
class RowReport:
    line: int
    rep_email: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; ``CsvUnreadable`` for a wrong file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvUnreadable("The file is not UTF-8 text.") from error
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(name.strip().lower() for name in reader.fieldnames or ())
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise CsvUnreadable(
            f"The header must name {', '.join(COLUMNS)}; missing {', '.join(missing)}."
        )
    rows = []
    for row in reader:
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if any(clean.values()):
            rows.append((reader.line_num, clean))
        if len(rows) > MAX_ROWS:
            raise CsvUnreadable(f"Import at most {MAX_ROWS} rows at a time.")
    return rows


def check_rows(
    rows: list[tuple[int, dict[str, str]]], check: Callable[[dict[str, str]], list[str]]
) -> list[RowReport]:
    """Run ``check`` on every row (it returns the row's problems); one report per row, in order."""
    return [RowReport(line, row.get("rep_email", ""), tuple(check(row))) for line, row in rows]
