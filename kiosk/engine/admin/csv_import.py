"""Reading a user import file (CSV with a header): the rows, or the problems by line."""

from __future__ import annotations

import csv
import io

from kiosk.engine.admin.cleaning import GROUP_SEPARATOR, NewUser, parse_flag
from kiosk.engine.admin.errors import Invalid

IMPORT_COLUMNS = ("username", "display_name", "given_name", "family_name", "email", "mobile",
                  "office", "groups", "admin")
MAX_PROBLEMS = 50  # a wholly wrong file should not scroll the first problems away


def _records(data: bytes, source: str) -> list[tuple[int, list[str]]]:
    """The non-blank CSV records, each with the line it starts on."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise Invalid(f"{source} line {line}: not UTF-8 text (save the file as UTF-8 CSV)",
                      ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                rows.append((start, record))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid(f"{source} line {start}: malformed CSV ({exc}), nothing imported") from None
    if not rows:
        raise Invalid(f"{source}: the file is empty (the first line must be the header: "
                      f"{','.join(IMPORT_COLUMNS)})")
    return rows


def _columns(header_line: int, header: list[str], source: str) -> list[str]:
    columns = [c.strip().casefold() for c in header]
    unknown = [c for c in columns if c not in IMPORT_COLUMNS]
    if unknown or "username" not in columns or len(set(columns)) != len(columns):
        hint = " (the file seems to use ';' between fields: use ',')" if ";" in header[0] else ""
        what = (f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown else
                "no 'username' column" if "username" not in columns else "a column repeats")
        raise Invalid(f"{source} line {header_line}: bad header: {what}; expected "
                      f"{','.join(IMPORT_COLUMNS)}{hint}")
    return columns


def parse_import(data: bytes, source: str = "input"
                 ) -> tuple[list[tuple[int, NewUser]], list[tuple[int, str]]]:
    """The rows of an import file, each with the line it starts on, and the rows' structural
    problems (field count, admin flag) by line. A file that cannot be read as CSV with the
    expected header raises Invalid at once."""
    rows = _records(data, source)
    columns = _columns(*rows[0], source)
    problems: list[tuple[int, str]] = []
    result: list[tuple[int, NewUser]] = []
    for line, record in rows[1:]:
        if len(record) != len(columns):
            problems.append((line, f"{len(record)} fields, expected {len(columns)}"))
            continue
        values = dict(zip(columns, record, strict=True))
        try:
            is_admin = parse_flag(values.get("admin", ""))
        except Invalid as exc:
            problems.append((line, exc.message))
            is_admin = False
        result.append((line, NewUser(
            username=values["username"], display_name=values.get("display_name", ""),
            given_name=values.get("given_name", ""), family_name=values.get("family_name", ""),
            email=values.get("email", ""), mobile=values.get("mobile", ""),
            office=values.get("office", ""),
            groups=tuple(g for g in values.get("groups", "").split(GROUP_SEPARATOR)
                         if g.strip()),
            is_admin=is_admin)))
    return result, problems
