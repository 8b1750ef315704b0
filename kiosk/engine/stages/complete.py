"""Signing in with the current password, and what follows proof: new password or unlock."""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import Connection

from kiosk.backend import (
    FlowState,
    KioskError,
    NotEligible,
    PasswordCheck,
    PasswordRejected,
    PasswordViolation,
    Purpose,
    Step,
    StepOutOfOrder,
    WrongPassword,
)
from kiosk.engine import accounts, audit, registry
from kiosk.engine.audit import Activity, Result
from kiosk.engine.core import ACTIVITY_OF, CommitThenRaise, Core, text_arg
from kiosk.engine.crypto import keyed_hash
from kiosk.engine.delivery_base import Message
from kiosk.engine.directory import User
from kiosk.engine.flow import Flow, save_flow
from kiosk.engine.passwords import normalize_password
from kiosk.engine.sealing import seal, unseal_or_none
from kiosk.engine.stages.prove import Prove, once
from kiosk.engine.throttle import Reservation

# far above any policy's maximum: refuses absurd input before any argon2 work
MAX_PASSWORD_INPUT = 4096
HISTORY = "history"  # the rule: not one of the last `password.history` passwords
HISTORY_PASSED = "history_passed"  # flow data: the verdict of the live check (a keyed hash)
CURRENT = "current_password"  # flow data: a change's current password, sealed
log = logging.getLogger("kiosk.engine")


class Complete:
    def __init__(self, core: Core, prove: Prove) -> None:
        self.core = core
        self.prove = prove

    # ------------------------------------------------------------ sign in (change / register)
    def sign_in(self, flow_id: object, terminal: str, password: object) -> FlowState:
        secret = text_arg(password, "password", MAX_PASSWORD_INPUT, allow_empty=True)
        normalised = normalize_password(secret)
        core = self.core

        def load(conn: Connection, flow: Flow) -> User | None:
            flow.expect(Step.SIGN_IN)
            # behind a decoy may stand a real account that cannot use self-service: its own
            # password is checked, so its owner learns why only after proving it
            account = flow.account_id
            return None if account is None else core.directory.get_or_none(conn, account)

        def settle(conn: Connection, notices: list[Message], flow: Flow, user: User | None,
                   right: bool, reservation: Reservation) -> FlowState:
            if not right or user is None:
                self.prove.failed(conn, notices, flow, "password", once("password"),
                                  "wrong password",
                                  WrongPassword("the user name or password is not right",
                                                support_code=flow.support_code), reservation)
            assert user is not None
            core.throttle.release(conn, reservation)
            if flow.decoy:
                core.progress(conn, flow, Result.FAILED, "signed in: not eligible", "password")
                raise CommitThenRaise(self.refusal(conn, flow, user))
            if user.locked:
                core.progress(conn, flow, Result.FAILED, "account locked", "password")
                raise CommitThenRaise(NotEligible(
                    "this account is locked; unlock it first", support_code=flow.support_code,
                    reason="locked"))
            if flow.purpose == Purpose.CHANGE and core.directory.changes_with_current:
                # the directory's own change (AD: delete-old / add-new) needs it: sealed in
                # the flow until the new password is set (a flow's end drops its data)
                flow.data[CURRENT] = seal(core.key, normalised, current_context(flow.id))
            return self.signed_in(conn, flow, user)

        # a decoy (or an unknown name) verifies against the dummy hash: the same argon2 work
        return self.prove.attempt(
            flow_id, terminal, "password", load,
            lambda user: core.directory.verify_password(user, normalised), settle)

    def refusal(self, conn: Connection, flow: Flow, user: User) -> KioskError:
        groups = self.core.directory.group_names(conn, user.id)
        reg = registry.load(conn, user.id)
        refusal = accounts.eligibility(self.core.policy, flow.purpose, user, groups, reg,
                                       flow.support_code)
        return refusal or NotEligible("this account cannot use self-service",
                                      support_code=flow.support_code)

    def signed_in(self, conn: Connection, flow: Flow, user: User) -> FlowState:
        """The password is right. Changing security info needs one more proof with a method
        already registered (two for administrators; the authenticator when it is registered
        and required): the password alone must never replace them."""
        core = self.core
        flow.gates_passed = ["password"]
        flow.gates_required = 1
        flow.attempted = True
        core.progress(conn, flow, Result.SUCCEEDED, "signed in", "password")
        to_register = flow.purpose == Purpose.REGISTER or accounts.must_register(
            core.policy, core.clock.now(), core.directory, conn, user)
        usable = accounts.usable_methods(core.policy, user, registry.load(conn, user.id))
        if not to_register:
            flow.step = Step.NEW_PASSWORD
        elif usable:
            flow.gates_required = 1 + min(2 if user.is_admin else 1, len(usable))
            flow.step = Step.CHOOSE_METHOD
            core.progress(conn, flow, Result.SUCCEEDED, "step-up: prove a registered method "
                          "before changing security info", "password")
        else:  # the first methods of an account that has none: the password (and each new
            flow.step = Step.REGISTER  # method's own confirmation code) is all there is
        save_flow(conn, flow)
        return core.state(conn, flow)

    # ------------------------------------------------------------ new password
    def check_password(self, flow_id: object, terminal: str, password: object) -> PasswordCheck:
        """Every rule, for the live checklist. The history rule (argon2 work) is checked only
        once every other rule passes, so a password that cannot be used costs no hashing; the
        UI shows it as not yet checked until then."""
        secret = text_arg(password, "password", MAX_PASSWORD_INPUT, allow_empty=True,
                          allow_control=True)

        core = self.core
        flow, user, recent = self._new_password_flow(flow_id, terminal)
        check = core.passwords.check(secret, user_terms=terms(user))
        if check.ok:  # outside the transaction: no lock held while hashing
            normalised = normalize_password(secret)
            verdict = self._history_verdict(flow, user, normalised)
            if flow.data.get(HISTORY_PASSED) != verdict:
                self._check_history(check, normalised, recent)
                if check.ok:  # set_password need not verify the same password again
                    self._remember(flow_id, terminal, verdict)
        if HISTORY not in check.rules:  # (the current password counts even with history 0)
            check.rules.append(HISTORY)
        return check

    def _history_verdict(self, flow: Flow, user: User, normalised: str) -> str:
        """A keyed hash naming this password for this flow and the user's current password:
        the live check's history verdict is kept under it, so the submit of the same password
        does not repeat the argon2 verifies (it does when the password has changed since)."""
        depth = str(self.core.policy.password.history)  # a reloaded policy may look further back
        return keyed_hash(self.core.key, HISTORY, flow.id, depth, user.password_hash or "",
                          normalised)

    def _remember(self, flow_id: object, terminal: str, verdict: str) -> None:
        """Keep the verdict on the flow, serialised with set_password's write (the same
        locks): a flow that has moved on meanwhile keeps nothing, and the check still answers."""
        def work(conn: Connection, notices: list[Message]) -> None:
            flow = self.core.flow_for_update(conn, flow_id, terminal, notices)
            if flow.step == Step.NEW_PASSWORD:
                flow.data[HISTORY_PASSED] = verdict
                save_flow(conn, flow)

        with contextlib.suppress(KioskError):
            self.core.tx(work)

    def _new_password_flow(self, flow_id: object, terminal: str
                           ) -> tuple[Flow, User, list[str]]:
        """The flow at its new-password step, its user and their recent password hashes."""
        core = self.core

        def read(conn: Connection, notices: list[Message]) -> tuple[Flow, User, list[str]]:
            flow = core.flow(conn, flow_id, terminal, notices)
            flow.expect(Step.NEW_PASSWORD)
            user = core.user_of(conn, flow)
            return flow, user, self._recent_hashes(conn, user)

        return core.tx(read)

    def _recent_hashes(self, conn: Connection, user: User) -> list[str]:
        recent = self.core.directory.history_hashes(conn, user.id,
                                                    self.core.policy.password.history)
        if user.password_hash and user.password_hash not in recent:
            recent.append(user.password_hash)  # the current one is never allowed again
        return recent

    def _check_history(self, check: PasswordCheck, normalised: str, recent: list[str]) -> None:
        """Add the history violation when `normalised` matches one of the `recent` hashes."""
        # every hash is checked (no short cut), so timing does not tell which one matched
        if any([self.core.hasher.verify(h, normalised) for h in recent]):
            depth = max(self.core.policy.password.history, 1)
            check.violations.append(PasswordViolation(
                rule=HISTORY, params={"count": depth},
                message=f"it must differ from your last {depth} passwords"))
            check.ok = False

    def set_password(self, flow_id: object, terminal: str, password: object) -> FlowState:
        """Read, then the argon2 work (history verifies, the new hash) outside any transaction,
        then write in a transaction that looks at the flow afresh. Hashing inside a transaction
        held a database connection for every hash: at 50 kiosks the pool ran dry and light
        calls waited seconds behind it."""
        secret = text_arg(password, "password", MAX_PASSWORD_INPUT, allow_empty=True,
                          allow_control=True)
        core = self.core
        depth = core.policy.password.history
        flow, before, recent = self._new_password_flow(flow_id, terminal)
        check = core.passwords.check(secret, user_terms=terms(before))
        normalised = normalize_password(secret)
        # the live check verified this very password against this history already
        if flow.data.get(HISTORY_PASSED) != self._history_verdict(flow, before, normalised):
            self._check_history(check, normalised, recent)
        new_hash = core.directory.prepare_password(normalised) if check.ok else None

        def write(conn: Connection, notices: list[Message]) -> FlowState:
            flow = core.flow_for_update(conn, flow_id, terminal, notices)
            flow.expect(Step.NEW_PASSWORD)  # a parallel submit that won ends this one here
            user = core.user_of(conn, flow)
            if user.password_hash != before.password_hash:
                # changed meanwhile (another flow): the history checked above is stale
                raise CommitThenRaise(StepOutOfOrder(
                    "the password was changed meanwhile; please try again",
                    support_code=flow.support_code, step=flow.step.value))
            if not check.ok:
                core.progress(conn, flow, Result.FAILED, "password refused: " + ", ".join(
                    v.rule for v in check.violations))
                raise CommitThenRaise(PasswordRejected(
                    "the new password does not meet the rules", support_code=flow.support_code,
                    violations=[v.model_dump() for v in check.violations], score=check.score))
            now = core.clock.now()
            # one transaction: the hash, its history entry, the unlock, the audit, the flow
            core.directory.store_password(conn, user, normalised, now, keep_history=depth,
                                          prepared=new_hash,
                                          current=sealed_current(core.key, flow))
            audit.record(conn, flow.audit, now, ACTIVITY_OF[flow.purpose], Result.SUCCEEDED,
                         method="+".join(flow.gates_passed),
                         detail="password set" + (" and account unlocked" if user.locked else ""))
            result = "reset" if flow.purpose == Purpose.RESET else "changed"
            # a reset that also cleared a lock says so (store_password unlocks)
            core.finish(conn, flow, f"{result}_unlocked" if user.locked else result)
            notices.extend(core.notifier.password_reset(conn, user.id, user.username,
                                                        user.is_admin, now, terminal,
                                                        flow.language))
            return core.state(conn, flow)

        return core.tx(write)

    # ------------------------------------------------------------ unlock
    def unlock(self, flow_id: object, terminal: str) -> FlowState:
        core = self.core

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = core.flow_for_update(conn, flow_id, terminal, notices)
            flow.expect(Step.UNLOCK)
            user = core.user_of(conn, flow)
            now = core.clock.now()
            # also when not locked: a directory may keep failure counts that this clears
            core.directory.set_locked(conn, user.id, False)
            audit.record(conn, flow.audit, now, Activity.UNLOCK, Result.SUCCEEDED,
                         method="+".join(flow.gates_passed),
                         detail="account unlocked" if user.locked else "account was not locked")
            # identity is proven: the person may learn the account was not locked; nothing
            # changed, so nobody is notified
            core.finish(conn, flow, "unlocked" if user.locked else "not_locked")
            if user.locked:
                notices.extend(core.notifier.unlocked(conn, user.id, user.username, now,
                                                      terminal, flow.language))
            return core.state(conn, flow)

        return core.tx(work)


def current_context(flow_id: str) -> bytes:
    return f"current:{flow_id}".encode()


def sealed_current(key: bytes, flow: Flow) -> str | None:
    """A change's current password kept at sign-in; None for a reset, or when it does not open
    (the server key was rotated since: the write is then a reset, as for the built-in one)."""
    value = flow.data.get(CURRENT)
    current = unseal_or_none(key, value, current_context(flow.id))
    if current is None and isinstance(value, str):
        log.warning("flow %s: the current password does not open; setting it as a reset",
                    flow.id)
    return current


def terms(user: User) -> list[str]:
    """The user's own names: a password made of them is weak (the fuzzy banned-list check)."""
    return [*user.name_terms, *user.display_name.split()]
