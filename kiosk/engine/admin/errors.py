"""The refusals of the operator's operations: one line an operator can act on each."""

from __future__ import annotations

from collections.abc import Sequence


class AdminError(Exception):
    """The operation cannot be done. `problems` holds one line per problem (at least one)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems) or [message]


class NotFound(AdminError):
    """An unknown user, group or file."""


class Invalid(AdminError):
    """Bad input: a malformed value, a duplicate, a cycle, a rejected password."""


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
