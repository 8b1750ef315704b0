"""Why a user can or cannot use self-service under a policy, and which rules apply to them.

Every verdict comes from kiosk.engine.accounts (eligibility, usable methods, registration
status): this module only asks it and puts the answers into words, so `kiosk admin policy
explain` can never disagree with what the kiosk does. Also the policy-wide warnings (a policy
that leaves every administrator unable to reset), shared with `kiosk admin policy check`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.backend import CONTACT_KINDS, KioskError, NotEligible, NotRegistered, Purpose
from kiosk.engine import accounts, registry
from kiosk.engine.config import Policy
from kiosk.engine.directory import User
from kiosk.engine.engine import Engine
from kiosk.engine.methods import METHODS
from kiosk.engine.text import normalize_username
from kiosk.engine.throttle import subjects_of

PURPOSES = (Purpose.RESET, Purpose.UNLOCK, Purpose.REGISTER, Purpose.CHANGE)


def _probe_admin() -> tuple[User, registry.Registered]:
    """An enabled administrator with every method kind registered (as many answers as the
    largest draw): what no policy can ask more of."""
    user = User(0, "", "", "", "", True, False, True, None, None)
    reg = registry.Registered(
        contacts={kind: "x" for kind in CONTACT_KINDS}, totp_secret="x",
        answers=[registry.StoredAnswer(str(n), None, "") for n in range(5)])
    return user, reg


def policy_warnings(policy: Policy) -> list[str]:
    """What a valid policy silently gets wrong, one line each, naming the key to change."""
    warnings: list[str] = []
    user, reg = _probe_admin()
    refusal = accounts.eligibility(policy, Purpose.RESET, user, set(), reg, "")
    if isinstance(refusal, NotRegistered):
        usable = accounts.usable_methods(policy, user, reg)
        warnings.append(
            "sspr.methods: no administrator can reset or unlock: administrators need "
            f"{refusal.params.get('needed', 2)} methods and may not use security questions, "
            f"but this policy offers them only {_words(usable) or 'none'} (add email, "
            "mobile, office or authenticator to sspr.methods)")
    return warnings


def _words(items: list[str]) -> str:
    return ", ".join(items)


@dataclass(frozen=True)
class Verdict:
    purpose: str
    allowed: bool
    reason: str  # why not ("" when allowed)


@dataclass(frozen=True)
class Explanation:
    username: str
    found: bool
    display_name: str = ""
    is_admin: bool = False
    enabled: bool = False
    locked: bool = False
    groups: list[str] = field(default_factory=list)  # effective (nested groups counted)
    verdicts: list[Verdict] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)  # what the policy offers this user
    registered: list[str] = field(default_factory=list)  # what the user has registered
    usable: list[str] = field(default_factory=list)  # offered and registered: proofs at reset
    needed: int = 0
    rules: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blocked_until: str = ""  # ISO time of an active block, "" when none

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "verdicts"}
        data["verdicts"] = [v.__dict__ for v in self.verdicts]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Explanation:
        values = dict(data)
        values["verdicts"] = [Verdict(**v) for v in data.get("verdicts", [])]
        return cls(**values)

    def lines(self) -> list[str]:
        """The explanation as plain text lines (the CLI and the console show these)."""
        if not self.found:
            return [f"{self.username}: no such user in the directory (a name nobody has gets "
                    "a decoy flow: codes never arrive)", *self.warnings_lines()]
        role = "administrator" if self.is_admin else "user"
        state = ", ".join(s for s, on in (("disabled", not self.enabled),
                                          ("locked", self.locked)) if on) or "enabled"
        out = [f"{self.username} ({self.display_name}): {role}, {state}",
               f"groups (nested counted): {_words(self.groups) or 'none'}", ""]
        for v in self.verdicts:
            out.append(f"{v.purpose + ':':<10}" + ("yes" if v.allowed else f"no: {v.reason}"))
        out += ["", f"offered to this user: {_words(self.offered) or 'none'}",
                f"registered:           {_words(self.registered) or 'nothing'}",
                f"usable at reset:      {_words(self.usable) or 'none'} "
                f"({len(self.usable)} of {self.needed} needed)"]
        if self.blocked_until:
            out.append(f"blocked from self-service until {self.blocked_until}")
        out += ["", "rules that apply:", *(f"  - {r}" for r in self.rules)]
        return out + self.warnings_lines()

    def warnings_lines(self) -> list[str]:
        return ["", *(f"warning: {w}" for w in self.warnings)] if self.warnings else []


def _reason(policy: Policy, refusal: KioskError, groups: set[str]) -> str:
    if isinstance(refusal, NotEligible) and refusal.params.get("reason") == "disabled":
        return "the account is disabled"
    if isinstance(refusal, NotEligible):
        if policy.sspr.enabled == "none":
            return "self-service is off for everyone but administrators (sspr.enabled = 'none')"
        return (f"not in scope: none of the user's groups is in sspr.groups "
                f"({_words(policy.sspr.groups)})")
    if isinstance(refusal, NotRegistered):
        return (f"not registered enough (needs {refusal.params.get('needed')} usable "
                "method(s))")
    return refusal.message


def _rules(policy: Policy, user: User, usable: list[str], needed: int,
           must_register: bool, status: Any) -> list[str]:
    rules = []
    if user.is_admin:
        rules.append("administrator: always in scope, always needs two methods, never "
                     "security questions")
    else:
        rules.append(f"needs {needed} method(s) to reset or unlock (sspr.methods_required)")
    if policy.sspr.enabled == "selected" and not user.is_admin:
        rules.append(f"in scope through sspr.groups ({_words(policy.sspr.groups)}); "
                     "nested groups count")
    if "authenticator" in usable and policy.authenticator.required_if_registered:
        rules.append("the authenticator app is registered, so it must be one of the proofs "
                     "(authenticator.required_if_registered)")
    if "questions" in usable:
        rules.append(f"security questions: {policy.questions.to_reset} drawn at reset, any "
                     "wrong answer draws a new set")
    if must_register:
        why = (f"{status.missing} method(s) missing" if status.missing
               else "the reconfirmation is due (registration.reconfirm_days = "
                    f"{policy.registration.reconfirm_days})")
        rules.append(f"asked to register after signing in: {why} (registration.require)")
    elif not policy.registration.require:
        rules.append("not asked to register after signing in (registration.require = false)")
    if user.locked:
        rules.append("the account is locked: the unlock flow unlocks it without a new "
                     "password; a reset unlocks it too")
    rules += _directory_rules(policy)
    return rules


def _directory_rules(policy: Policy) -> list[str]:
    """What the directory itself adds: an AD domain's password age and history."""
    if policy.directory.kind != "ldap":
        return ["passwords are kept by the kiosk: its own history (password.history) applies "
                "to resets and changes alike"]
    if policy.ldap.flavour == "ad":
        return ["a reset at the kiosk is an administrative reset: the domain's minimum "
                "password age (minPwdAge) does not hold it back, and another reset right "
                "after works",
                "a change at the kiosk (current password given) is the user's own change: the "
                "domain's or a fine-grained policy's history and minimum age apply, so it is "
                "refused within minPwdAge of the last set, a kiosk reset included",
                "Samba domains ignore the policy-hints control: resets there are not held "
                "to the domain's history"]
    return ["a reset at the kiosk is an administrative reset (RFC 3062 without the old "
            "password); a change sends the current password, so the directory's ppolicy "
            "(history, minimum age) applies as to the user's own change"]


def explain(engine: Engine, username: str) -> Explanation:
    """What the engine would decide for `username` now, in words."""
    policy = engine.policy
    name = normalize_username(username)
    warnings = policy_warnings(policy)
    now = engine.clock.now()
    with engine.db.connect() as conn:
        user = engine.directory.find(conn, name)
        if user is None:
            return Explanation(name, False, warnings=warnings)
        groups = engine.directory.group_names(conn, user.id)
        reg = registry.load(conn, user.id)
        must = accounts.must_register(policy, now, engine.directory, conn, user)
        block = engine.throttle.active_block(conn, now, *subjects_of(user.id, user.username))
    verdicts = []
    for purpose in PURPOSES:
        refusal = accounts.eligibility(policy, purpose, user, groups, reg, "")
        verdicts.append(Verdict(purpose.value, refusal is None,
                                "" if refusal is None else _reason(policy, refusal, groups)))
    status = accounts.registration_status(policy, now, user, reg)
    usable = accounts.usable_methods(policy, user, reg)
    needed = len(usable) + status.missing if status.missing else (
        2 if user.is_admin else policy.sspr.methods_required)
    registered = [kind for kind, method in METHODS.items()
                  if method.registered(reg, policy, before_proof=False)]
    if user.is_admin and len(usable) < needed and not warnings:
        warnings.append(f"{user.username} is an administrator with {len(usable)} usable "
                        f"method(s) of the 2 needed: cannot reset until more are registered")
    return Explanation(
        username=user.username, found=True, display_name=user.display_name,
        is_admin=user.is_admin, enabled=user.enabled, locked=user.locked,
        groups=sorted(groups), verdicts=verdicts,
        offered=[m.value for m in status.available], registered=registered, usable=usable,
        needed=needed, rules=_rules(policy, user, usable, needed, must, status),
        warnings=warnings,
        blocked_until=block.until.isoformat(timespec="minutes") if block else "")
