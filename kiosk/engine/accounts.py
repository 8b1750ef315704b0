"""Accounts as a flow sees them: a real one (a directory user and what they registered) or a
decoy (a name that cannot use self-service), behind one interface, so the stages never ask
"is this a decoy?": a decoy simply has no destination, no answer hashes and a secret nobody
knows. Also the policy's rules about accounts: eligibility, usable methods, what is offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from kiosk.backend import (
    KioskError,
    MethodKind,
    MethodOption,
    NotEligible,
    NotRegistered,
    Purpose,
    RegistrationStatus,
)
from kiosk.engine import registry
from kiosk.engine.config import Policy
from kiosk.engine.decoy import DecoyProfile, DecoyShape, decoy_profile
from kiosk.engine.directory import Directory, User
from kiosk.engine.flow import Flow
from kiosk.engine.methods import CHANNELS_OF, METHODS
from kiosk.engine.methods.authenticator import decoy_secret
from kiosk.engine.sealing import method_context, unseal

QuestionRef = tuple[str, str | None]  # (question id, custom text)


class Account:
    """What proving identity needs to know of an account."""

    def usable(self, flow: Flow) -> list[str]:
        """Registered methods the policy allows, in display order (custom questions count
        only once another proof has succeeded: their text is the user's own)."""
        raise NotImplementedError

    def masks(self) -> dict[str, str]:
        raise NotImplementedError

    def destination(self, kind: str) -> str:
        """Where a code goes; "" for a decoy (nothing is ever sent)."""
        raise NotImplementedError

    def question_pool(self, flow: Flow) -> list[QuestionRef]:
        raise NotImplementedError

    def answer_hash(self, question_id: str) -> str | None:
        """None: no hash (a decoy; the same argon2 work is done against a dummy)."""
        raise NotImplementedError

    def totp_secret(self) -> str:
        raise NotImplementedError


@dataclass
class RealAccount(Account):
    user: User
    reg: registry.Registered
    policy: Policy
    key: bytes  # opens the sealed authenticator secret

    def usable(self, flow: Flow) -> list[str]:
        return usable_methods(self.policy, self.user, self.reg,
                              before_proof=not flow.gates_passed)

    def masks(self) -> dict[str, str]:
        return masks_of(self.reg)

    def destination(self, kind: str) -> str:
        return self.reg.contacts[kind]

    def question_pool(self, flow: Flow) -> list[QuestionRef]:
        before_proof = not flow.gates_passed
        return [(a.question_id, a.custom_text) for a in self.reg.answers
                if not (before_proof and a.custom_text is not None)]

    def answer_hash(self, question_id: str) -> str | None:
        return next((a.answer_hash for a in self.reg.answers if a.question_id == question_id),
                    None)

    def totp_secret(self) -> str:
        if not self.reg.totp_secret:
            return ""
        return unseal(self.key, self.reg.totp_secret,
                      method_context(self.user.id, registry.AUTHENTICATOR))


@dataclass
class DecoyAccount(Account):
    username: str
    profile: DecoyProfile
    key: bytes
    policy: Policy

    def usable(self, flow: Flow) -> list[str]:
        have = set(self.profile.contacts)
        if self.profile.question_ids:
            have.add("questions")
        if self.profile.has_authenticator:
            have.add("authenticator")
        return [kind for kind in self.policy.sspr.methods if kind in have]

    def masks(self) -> dict[str, str]:
        return dict(self.profile.contacts)

    def destination(self, kind: str) -> str:
        return ""

    def question_pool(self, flow: Flow) -> list[QuestionRef]:
        return [(qid, None) for qid in self.profile.question_ids]

    def answer_hash(self, question_id: str) -> str | None:
        return None

    def totp_secret(self) -> str:
        return decoy_secret(self.key, self.username)


def load(conn: Connection, flow: Flow, policy: Policy, directory: Directory, key: bytes,
         shape: DecoyShape) -> Account:
    if flow.user_id is None:
        # the same lookups a real account costs, so timing does not tell them apart
        directory.get_or_none(conn, -1)
        registry.load(conn, -1)
        return DecoyAccount(flow.username, decoy_profile(
            key, flow.username, list(policy.sspr.methods), policy.questions.to_register,
            policy.sspr.methods_required, shape), key, policy)
    user = directory.get(conn, flow.user_id)
    return RealAccount(user, registry.load(conn, user.id), policy, key)


# ---------------------------------------------------------------- the policy's account rules


def usable_methods(policy: Policy, user: User | None, reg: registry.Registered, *,
                   before_proof: bool = False) -> list[str]:
    """Registered methods the policy allows for this user, in display order."""
    return [kind for kind in policy.sspr.methods
            if not (kind == "questions" and user is not None and user.is_admin)
            and METHODS[kind].registered(reg, policy, before_proof=before_proof)]


def required_shown(policy: Policy, flow: Flow) -> int:
    """Proofs needed as far as the person may know: until one succeeds, every account shows
    the policy's number (an administrator's second proof shows after the first)."""
    if flow.gates_passed:
        return flow.gates_required
    return min(flow.gates_required, policy.sspr.methods_required)


def offered(policy: Policy, flow: Flow, usable: list[str]) -> list[str]:
    """What the person may choose next: usable methods not yet passed, with the
    authenticator rule applied (it must be one of the gates when registered)."""
    left = [m for m in usable if m not in flow.gates_passed]
    # a helpdesk pass: offered to every account alike (kiosk.engine.methods.access_pass)
    issued = ["pass"] if policy.passes.enabled and "pass" not in flow.gates_passed else []
    must_totp = (policy.authenticator.required_if_registered
                 and "authenticator" in usable and "authenticator" not in flow.gates_passed)
    if must_totp and required_shown(policy, flow) - len(flow.gates_passed) == 1:
        return ["authenticator", *issued]
    return left + issued


def eligibility(policy: Policy, purpose: Purpose, user: User, groups: set[str],
                reg: registry.Registered, code: str) -> KioskError | None:
    """In order: enabled → in scope (group; administrators always) → enough methods."""
    if not user.enabled:
        return NotEligible("this account is disabled", support_code=code, reason="disabled")
    if purpose == Purpose.CHANGE:
        return None  # anyone who knows the password may change it
    sspr = policy.sspr
    in_scope = user.is_admin or sspr.enabled == "all" or (
        sspr.enabled == "selected" and bool(groups & set(sspr.groups)))
    if not in_scope:
        return NotEligible("self-service password reset is not enabled for this account",
                           support_code=code, reason="scope")
    if purpose == Purpose.REGISTER:
        return None
    needed = 2 if user.is_admin else sspr.methods_required
    if len(usable_methods(policy, user, reg)) < needed:
        return NotRegistered("not enough verification methods are registered",
                             support_code=code, needed=needed)
    return None


def registration_status(policy: Policy, now: datetime, user: User,
                        reg: registry.Registered,
                        owned: frozenset[str] = frozenset()) -> RegistrationStatus:
    """`owned`: contact kinds the directory supplies (LDAP/AD mail, phone): registered if the
    entry has them, never offered to register or change here (the helpdesk changes them)."""
    masks = masks_of(reg)
    usable = usable_methods(policy, user, reg)
    needed = 2 if user.is_admin else policy.sspr.methods_required
    days = policy.registration.reconfirm_days
    due = days > 0 and (user.registered_at is None
                        or now - user.registered_at > timedelta(days=days))
    available = [MethodKind(m) for m in policy.sspr.methods
                 if not (m == "questions" and user.is_admin) and m not in owned]
    return RegistrationStatus(
        registered=[MethodOption(kind=MethodKind(k), masked=masks.get(k, ""),
                                 channels=CHANNELS_OF[k]) for k in usable],
        available=available, missing=max(0, needed - len(usable)),
        questions_to_register=policy.questions.to_register,
        custom_questions_allowed=policy.questions.custom_allowed, reconfirm_due=due,
        authenticator_required=policy.authenticator.required_if_registered)


def must_register(policy: Policy, now: datetime, directory: Directory, conn: Connection,
                  user: User) -> bool:
    """registration.require: an in-scope user who lacks methods (or whose reconfirmation is
    due) registers right after signing in, before changing the password."""
    if not policy.registration.require:
        return False
    groups = directory.group_names(conn, user.id)
    if eligibility(policy, Purpose.REGISTER, user, groups, registry.Registered(), "") is not None:
        return False
    status = registration_status(policy, now, user, registry.load(conn, user.id))
    return status.missing > 0 or status.reconfirm_due


def masks_of(reg: registry.Registered) -> dict[str, str]:
    """Masked contacts: 'a•••@c•••.org', '+1 •• •• ••42'."""
    return {kind: METHODS[kind].mask(value) for kind, value in reg.contacts.items()}
