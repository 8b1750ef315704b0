"""Signing in with the current password, and what follows proof: new password or unlock."""

from __future__ import annotations

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
    WrongPassword,
)
from kiosk.engine import audit, registry
from kiosk.engine.audit import Activity, Result
from kiosk.engine.delivery_base import Message
from kiosk.engine.directory import User
from kiosk.engine.flow import Flow, save_flow
from kiosk.engine.passwords import normalize_password
from kiosk.engine.service import CommitThenRaise, text_arg
from kiosk.engine.throttle import Reservation
from kiosk.engine.verify import Verification, once

# far above any policy's maximum: refuses absurd input before any argon2 work
MAX_PASSWORD_INPUT = 4096

ACTIVITY = {Purpose.RESET: Activity.RESET, Purpose.CHANGE: Activity.CHANGE}


class Completion(Verification):
    def user_of(self, conn: Connection, flow: Flow) -> User:
        return self.directory.get(conn, flow.user_id)  # type: ignore[arg-type]

    # ------------------------------------------------------------ sign in (change / register)
    def sign_in(self, flow_id: object, terminal: str, password: object) -> FlowState:
        secret = text_arg(password, "password", MAX_PASSWORD_INPUT, allow_empty=True)
        normalised = normalize_password(secret)

        def load(conn: Connection, flow: Flow) -> User | None:
            flow.expect(Step.SIGN_IN)
            # behind a decoy may stand a real account that cannot use self-service: its own
            # password is checked, so its owner learns why only after proving it
            account = flow.account_id
            return None if account is None else self.directory.get_or_none(conn, account)

        def settle(conn: Connection, notices: list[Message], flow: Flow, user: User | None,
                   right: bool, reservation: Reservation) -> FlowState:
            if not right or user is None:
                self.failed(conn, notices, flow, "password", once("password"), "wrong password",
                            WrongPassword("the user name or password is not right",
                                          support_code=flow.support_code), reservation)
            assert user is not None
            self.throttle.release(conn, reservation)
            if flow.decoy:
                self.progress(conn, flow, Result.FAILED, "signed in: not eligible", "password")
                refusal = self.sign_in_refusal(conn, flow, user)
                raise CommitThenRaise(refusal)
            if user.locked:
                self.progress(conn, flow, Result.FAILED, "account locked", "password")
                raise CommitThenRaise(NotEligible(
                    "this account is locked; unlock it first", support_code=flow.support_code,
                    reason="locked"))
            return self.signed_in(conn, flow, user)

        # a decoy (or an unknown name) verifies against the dummy hash: the same argon2 work
        return self.attempt(flow_id, terminal, "password", load,
                            lambda user: self.directory.verify_password(user, normalised),
                            settle)

    def sign_in_refusal(self, conn: Connection, flow: Flow, user: User) -> KioskError:
        groups = self.directory.group_names(conn, user.id)
        reg = registry.load(conn, user.id)
        refusal = self.eligibility(flow.purpose, user, groups, reg, flow.support_code)
        return refusal or NotEligible("this account cannot use self-service",
                                      support_code=flow.support_code)

    def signed_in(self, conn: Connection, flow: Flow, user: User) -> FlowState:
        """The password is right. Changing security info needs one more proof with a method
        already registered (two for administrators; the authenticator when it is registered
        and required): the password alone must never replace them."""
        flow.gates_passed = ["password"]
        flow.gates_required = 1
        flow.attempted = True
        self.progress(conn, flow, Result.SUCCEEDED, "signed in", "password")
        to_register = flow.purpose == Purpose.REGISTER or self.must_register(conn, user)
        usable = self.usable_methods(user, registry.load(conn, user.id))
        if not to_register:
            flow.step = Step.NEW_PASSWORD
        elif usable:
            flow.gates_required = 1 + min(2 if user.is_admin else 1, len(usable))
            flow.step = Step.CHOOSE_METHOD
            self.progress(conn, flow, Result.SUCCEEDED, "step-up: prove a registered method "
                          "before changing security info", "password")
        else:  # the first methods of an account that has none: the password (and each new
            flow.step = Step.REGISTER  # method's own confirmation code) is all there is
        save_flow(conn, flow)
        return self.state(conn, flow)

    def must_register(self, conn: Connection, user: User) -> bool:
        """Overridden by Registration: whether sign-in leads to registering first."""
        return False

    # ------------------------------------------------------------ new password
    def check_password(self, flow_id: object, terminal: str, password: object) -> PasswordCheck:
        """Every rule, fast enough for each keystroke (history is checked on submit)."""
        secret = text_arg(password, "password", MAX_PASSWORD_INPUT, allow_empty=True,
                          allow_control=True)

        def work(conn: Connection, notices: list[Message]) -> User:
            flow = self.flow(conn, flow_id, terminal, notices)
            flow.expect(Step.NEW_PASSWORD)
            return self.user_of(conn, flow)

        return self.passwords.check(secret, user_terms=self.terms(self.tx(work)))

    def terms(self, user: User) -> list[str]:
        return [*user.name_terms, *user.display_name.split()]

    def set_password(self, flow_id: object, terminal: str, password: object) -> FlowState:
        secret = text_arg(password, "password", MAX_PASSWORD_INPUT, allow_empty=True,
                          allow_control=True)

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = self.flow(conn, flow_id, terminal, notices)
            flow.expect(Step.NEW_PASSWORD)
            user = self.user_of(conn, flow)
            check = self.passwords.check(secret, user_terms=self.terms(user))
            normalised = normalize_password(secret)
            depth = self.policy.password.history
            recent = self.directory.history_hashes(conn, user.id, depth)
            if user.password_hash and user.password_hash not in recent:
                recent.append(user.password_hash)  # the current one is never allowed again
            # every hash is checked (no short cut), so timing does not tell which one matched
            if any([self.hasher.verify(h, normalised) for h in recent]):
                check.violations.append(PasswordViolation(
                    rule="history", params={"count": max(depth, 1)},
                    message=f"it must differ from your last {max(depth, 1)} passwords"))
                check.ok = False
            if not check.ok:
                self.progress(conn, flow, Result.FAILED, "password refused: " + ", ".join(
                    v.rule for v in check.violations))
                raise CommitThenRaise(PasswordRejected(
                    "the new password does not meet the rules", support_code=flow.support_code,
                    violations=[v.model_dump() for v in check.violations], score=check.score))
            now = self.clock.now()
            # one transaction: the hash, its history entry, the unlock, the audit, the flow
            self.directory.store_password(conn, user, normalised, now, keep_history=depth)
            activity = ACTIVITY[flow.purpose]
            audit.record(conn, flow.audit, now, activity, Result.SUCCEEDED,
                         method="+".join(flow.gates_passed),
                         detail="password set" + (" and account unlocked" if user.locked else ""))
            self.finish(conn, flow, "reset" if flow.purpose == Purpose.RESET else "changed")
            notices.extend(self.notifier.password_reset(conn, user.id, user.username,
                                                        user.is_admin, now, terminal))
            return self.state(conn, flow)

        return self.tx(work)

    def finish(self, conn: Connection, flow: Flow, result: str, *, clear: bool = True) -> None:
        flow.status = "done"
        flow.step = Step.DONE
        flow.data = {"result": result}
        save_flow(conn, flow, ended_at=self.clock.now())
        if clear:  # a successful reset, unlock or change clears the user's counters
            self.throttle.clear_user(conn, flow.subject)

    # ------------------------------------------------------------ unlock
    def unlock(self, flow_id: object, terminal: str) -> FlowState:
        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = self.flow(conn, flow_id, terminal, notices)
            flow.expect(Step.UNLOCK)
            user = self.user_of(conn, flow)
            now = self.clock.now()
            self.directory.set_locked(conn, user.id, False)
            audit.record(conn, flow.audit, now, Activity.UNLOCK, Result.SUCCEEDED,
                         method="+".join(flow.gates_passed),
                         detail="account unlocked" if user.locked else "account was not locked")
            self.finish(conn, flow, "unlocked")
            notices.extend(self.notifier.unlocked(conn, user.id, user.username, now, terminal))
            return self.state(conn, flow)

        return self.tx(work)
