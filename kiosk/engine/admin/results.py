"""What the operator's operations return: users and groups as an operator sees them, an
import's outcome. Never a password hash, a TOTP secret or a security answer: methods come
masked, questions as a count, the authenticator as "registered"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.backend import KioskError, NotEligible, NotRegistered

# self-service status of a user (what `users list` shows and the coverage figure counts)
READY = "ready"
NOT_REGISTERED = "not registered"
OUT_OF_SCOPE = "not in scope"
DISABLED = "disabled"


def status_of(refusal: KioskError | None) -> str:
    """The self-service status an eligibility answer (the engine's refusal or None) means."""
    if refusal is None:
        return READY
    if isinstance(refusal, NotRegistered):
        return NOT_REGISTERED
    if isinstance(refusal, NotEligible) and refusal.params.get("reason") == "disabled":
        return DISABLED
    return OUT_OF_SCOPE


@dataclass
class UserInfo:
    """One user as an operator sees it: flags, groups, masked methods, self-service status."""

    username: str
    display_name: str
    given_name: str
    family_name: str
    is_admin: bool
    enabled: bool
    locked: bool
    password_set: bool
    password_changed_at: datetime | None
    registered_at: datetime | None
    groups: list[str]  # direct memberships
    all_groups: list[str]  # direct and through nested groups
    methods: dict[str, str]  # kind -> masked value ("3 answers", "registered")
    usable: list[str]  # registered methods the policy lets this user reset with
    needed: int  # methods a reset needs (2 for administrators)
    sspr: str  # READY, NOT_REGISTERED, OUT_OF_SCOPE or DISABLED
    blocked_until: datetime | None = None
    block_reason: str = ""
    block_support_code: str = ""
    question_ids: list[str] = field(default_factory=list)  # the questions answered, not answers

    @property
    def eligible(self) -> bool:
        """In the self-service scope (enabled, and in a selected group or an administrator)."""
        return self.sspr in (READY, NOT_REGISTERED)

    def to_json(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return value.isoformat(timespec="seconds") if value else None

        return {
            "username": self.username, "display_name": self.display_name,
            "given_name": self.given_name, "family_name": self.family_name,
            "admin": self.is_admin, "enabled": self.enabled, "locked": self.locked,
            "password_set": self.password_set,
            "password_changed_at": when(self.password_changed_at),
            "registered_at": when(self.registered_at),
            "groups": self.groups, "all_groups": self.all_groups,
            "methods": [{"kind": k, "masked": v} for k, v in self.methods.items()],
            "usable_methods": self.usable, "methods_needed": self.needed, "sspr": self.sspr,
            "blocked_until": when(self.blocked_until), "block_reason": self.block_reason,
            "block_support_code": self.block_support_code,
        }


@dataclass(frozen=True)
class GroupInfo:
    name: str
    users: list[str]  # direct user members
    groups: list[str]  # direct nested groups
    all_users: list[str]  # through nested groups too
    in_sspr_scope: bool  # named in sspr.groups (with sspr.enabled = "selected")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "users": self.users, "groups": self.groups,
                "all_users": self.all_users, "sspr_scope": self.in_sspr_scope}


@dataclass(frozen=True)
class ImportResult:
    users: list[str]
    groups_created: list[str] = field(default_factory=list)
    dry_run: bool = False
