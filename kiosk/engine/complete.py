"""Signing in with the current password, and what follows proof: new password or unlock."""

from __future__ import annotations

from sqlalchemy import Connection

from kiosk.backend import (
    FlowState,
    NotEligible,
    PasswordCheck,
    PasswordRejected,
    PasswordViolation,
    Purpose,
    Step,
    WrongPassword,
)
from kiosk.engine import audit
from kiosk.engine.audit import Activity, Result
from kiosk.engine.delivery_base import Message
from kiosk.engine.directory import User
from kiosk.engine.flow import Flow, save_flow
from kiosk.engine.passwords import normalize_password
from kiosk.engine.service import CommitThenRaise, text_arg
from kiosk.engine.throttle import terminal_subject, user_subject
from kiosk.engine.verify import Verification

# far above any policy's maximum: refuses absurd input before any argon2 work
MAX_PASSWORD_INPUT = 4096

ACTIVITY = {Purpose.RESET: Activity.RESET, Purpose.CHANGE: Activity.CHANGE}


class Completion(Verification):
    def user_of(self, conn: Connection, flow: Flow) -> User:
        return self.directory.get(conn, flow.user_id)  # type: ignore[arg-type]

    # ------------------------------------------------------------ sign in (change / register)
    def sign_in(self, flow_id: object, terminal: str, password: object) -> FlowState:
        secret = text_arg(password, "password", MAX_PASSWORD_INPUT, allow_empty=True)

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = self.flow(conn, flow_id, terminal, notices)
            flow.expect(Step.SIGN_IN)
            block = self.throttle.active_block(conn, self.clock.now(),
                                               user_subject(flow.username),
                                               terminal_subject(terminal))
            if block is not None:
                raise CommitThenRaise(self.blocked_error(block))
            user = None if flow.decoy else self.user_of(conn, flow)
            # a decoy verifies against a dummy hash: the same argon2 work, always wrong
            if not self.directory.verify_password(user, normalize_password(secret)):
                self.failed(conn, notices, flow, "password", secret, "wrong password",
                            WrongPassword("the user name or password is not right",
                                          support_code=flow.support_code))
            assert user is not None
            if user.locked:
                self.progress(conn, flow, Result.FAILED, "account locked", "password")
                raise CommitThenRaise(NotEligible(
                    "this account is locked; unlock it first", support_code=flow.support_code,
                    reason="locked"))
            flow.gates_passed = ["password"]
            flow.gates_required = 1
            flow.attempted = True
            self.progress(conn, flow, Result.SUCCEEDED, "signed in", "password")
            if flow.purpose == Purpose.CHANGE and not self.must_register(conn, user):
                flow.step = Step.NEW_PASSWORD
            else:  # registration.require: missing methods are asked for right after sign-in
                flow.step = Step.REGISTER
            save_flow(conn, flow)
            return self.state(conn, flow)

        return self.tx(work)

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
            self.throttle.clear_user(conn, flow.username)

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
