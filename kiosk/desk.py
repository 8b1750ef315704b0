"""The helpdesk's types: what the console (kiosk/console), `kiosk admin case|pass|board` and
the `/v1/admin/desk` endpoints exchange. Pydantic models, so the API serialises them unchanged
(like kiosk/backend/types.py for the kiosk). No secret is ever in them: a pass's text appears once,
in `IssuedPass`, as it is issued.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from kiosk.backend import InvalidInput

AGENT_MAX = 64
REASON_MAX = 200
_SUPPORT_CODE = re.compile(r"^[A-Z2-7]{4}-?[A-Z2-7]{4}$")


def _printable(value: object, most: int, problem: str, field: str) -> str:
    """`value` stripped when it is printable text of 1-`most` characters; else `problem`."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > most or not text.isprintable():
        raise InvalidInput(problem, field=field)
    return text


def clean_agent(value: object) -> str:
    """The agent's name as the audit log keeps it: printable text, 1-64 characters."""
    return _printable(value, AGENT_MAX,
                      f"the agent's name must be 1-{AGENT_MAX} printable characters", "agent")


def clean_reason(value: object) -> str:
    return _printable(value, REASON_MAX,
                      f"give a reason (1-{REASON_MAX} printable characters)", "reason")


def clean_support_code(value: object) -> str:
    """`abcd-efgh`, `ABCDEFGH` and ` ABCD-EFGH ` are the support code ABCD-EFGH."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not _SUPPORT_CODE.match(text):
        raise InvalidInput("a support code looks like ABCD-EFGH", field="support_code")
    text = text.replace("-", "")
    return f"{text[:4]}-{text[4:]}"


class TimelineEntry(BaseModel):
    at: datetime
    activity: str
    result: str
    method: str = ""
    terminal: str
    detail: str = ""  # the audit log's own text: never a secret


class CaseBlock(BaseModel):
    """A block that stops this visit (or this user, or the terminal) now."""

    scope: Literal["user", "terminal"]
    target: str  # the user name or the terminal
    reason: str
    support_code: str  # the visit that set it
    created_at: datetime
    until: datetime


class CaseSummary(BaseModel):
    support_code: str
    purpose: str
    terminal: str
    started_at: datetime
    status: str  # open, done, cancelled, abandoned, blocked (or "refused": never started)
    blocked: bool = False


class PassInfo(BaseModel):
    """A temporary access pass as the desk sees it (never its text or hash)."""

    username: str
    state: Literal["active", "used", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime
    one_time: bool
    proofs: int
    terminal: str = ""  # "": any terminal
    issued_by: str
    approved_by: str = ""
    used_at: datetime | None = None
    uses: int = 0


class Case(BaseModel):
    support_code: str
    username: str
    purpose: str = ""
    terminal: str = ""
    status: str = ""
    step: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)
    blocks: list[CaseBlock] = Field(default_factory=list)
    access_pass: PassInfo | None = None


class PassRequest(BaseModel):
    """What the agent asks for: Entra's limits (8-48 characters, 10 minutes to 30 days)."""

    username: str
    lifetime_minutes: int | None = Field(None, ge=10, le=43200)  # None: the policy's default
    one_time: bool | None = None  # None: the policy's default
    terminal: str = Field("", max_length=200)  # bind the pass to one terminal
    length: int | None = Field(None, ge=8, le=48)
    count_as_two: bool = False
    approved_by: str = Field("", max_length=64)  # a second agent (an administrator's pass)


class IssuedPass(BaseModel):
    info: PassInfo
    access_pass: str  # shown once to the agent, never stored


class Session(BaseModel):
    """A visit going on now, as the board shows it: no name until the agent opens the case."""

    support_code: str
    terminal: str
    purpose: str
    step: str
    started_at: datetime
    last_activity: datetime
    idle_seconds: int


class TerminalLoad(BaseModel):
    terminal: str
    verify_failures: int
    verify_limit: int
    failed_flows: int
    failed_flows_limit: int
    sends: int
    sends_limit: int
    wait_seconds: int = 0
    blocked_until: datetime | None = None
    reason: str = ""

    @property
    def closeness(self) -> float:
        """How close to a block, 0-1: the fullest of its counters (1: blocked)."""
        if self.blocked_until is not None:
            return 1.0
        return max(self.verify_failures / self.verify_limit,
                   self.failed_flows / self.failed_flows_limit, self.sends / self.sends_limit)


class UserBlock(BaseModel):
    username: str
    reason: str
    support_code: str
    until: datetime


class Board(BaseModel):
    at: datetime
    sessions: list[Session] = Field(default_factory=list)
    terminals: list[TerminalLoad] = Field(default_factory=list)
    blocks: list[UserBlock] = Field(default_factory=list)


class Lifted(BaseModel):
    lifted: int  # blocks ended now
