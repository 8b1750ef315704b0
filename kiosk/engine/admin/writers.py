"""Writing listings and exports: CSV a spreadsheet cannot be tricked by, and a JSON array
written item by item."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection): text starting
    with = + - @ (or a tab or carriage return) gets a leading single quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_csv(out: Any, header: Sequence[str], rows: Iterable[Sequence[object]], *,
              line_end: str = "\n") -> int:
    """A header row, then every row with each cell made safe; returns the number of rows."""
    writer = csv.writer(out, lineterminator=line_end)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
        count += 1
    return count


def write_json(out: Any, items: Iterable[dict[str, Any]]) -> int:
    """A JSON array written item by item (an export of a year's audit log stays small)."""
    count = 0
    out.write("[")
    for item in items:
        out.write(",\n  " if count else "\n  ")
        out.write(json.dumps(item, ensure_ascii=False, default=str))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
