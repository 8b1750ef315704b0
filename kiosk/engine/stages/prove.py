"""Proving identity: codes by email / text / call, security questions, the authenticator app.

Every proof runs in three steps (`attempt`): reserve an attempt with the throttle in a short
transaction, check the proof outside any transaction (argon2, an LDAP bind), then settle in a
second transaction that looks at the flow afresh. See kiosk.engine.throttle for why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar

from sqlalchemy import Connection

from kiosk.backend import (
    CONTACT_KINDS,
    Channel,
    CodeExpired,
    FlowState,
    InvalidInput,
    KioskError,
    Purpose,
    ResendTooSoon,
    SlowDown,
    Step,
    StepOutOfOrder,
    WrongAnswers,
    WrongCode,
)
from kiosk.engine import accounts, registry, totp
from kiosk.engine.audit import Result
from kiosk.engine.core import CommitThenRaise, Core, text_arg
from kiosk.engine.crypto import keyed_hash, new_token
from kiosk.engine.delivery_base import Message
from kiosk.engine.flow import VERIFY_STEPS, Flow, save_flow
from kiosk.engine.messages import code_message, message_language
from kiosk.engine.methods import codes, kind_and_channel, questions
from kiosk.engine.methods.authenticator import repeat_key
from kiosk.engine.methods.codes import CodeToCheck, clean_code
from kiosk.engine.text import normalize_answer
from kiosk.engine.throttle import ActiveBlock, Busy, Delay, Reservation, terminal_subject

M = TypeVar("M")  # what a check needs, read in the reserving transaction
R = TypeVar("R")  # the check's outcome
Settle = Callable[[Connection, list[Message], Flow, M, R, Reservation], Any]


def once(kind: str) -> str:
    """A failure key that never repeats: only codes are deduplicated ("the same wrong code
    again counts once"); a wrong answer or password leaves no record that could be guessed
    back from a copy of the database."""
    return f"{kind}:{new_token(12)}"


class Prove:
    def __init__(self, core: Core) -> None:
        self.core = core

    # ------------------------------------------------------------ the three steps
    def attempt(self, flow_id: object, terminal: str, method: str,
                load: Callable[[Connection, Flow], M], check: Callable[[M], R],
                settle: Settle[M, R]) -> Any:
        """Reserve → check → settle (see the module doc). `load` runs every refusal that needs
        no proof checked (wrong step, method not offered, stale code); `settle` gets the flow
        as it is now, which other requests may have moved on."""
        core = self.core
        subjects: list[str] = []

        def reserve(conn: Connection, notices: list[Message]) -> tuple[M, Reservation]:
            flow = core.flow(conn, flow_id, terminal, notices)
            subjects.extend((flow.subject, terminal_subject(flow.terminal)))
            material = load(conn, flow)
            got = core.throttle.reserve(conn, core.clock.now(), flow.subject, flow.terminal,
                                        method, flow.support_code)
            if isinstance(got, ActiveBlock):
                core.progress(conn, flow, Result.BLOCKED, f"attempt refused: {got.reason}",
                              method)
                raise CommitThenRaise(core.blocked_error(got))
            if isinstance(got, Delay):
                core.progress(conn, flow, Result.FAILED,
                              f"attempt refused: terminal waits {got.seconds} s", method)
                raise CommitThenRaise(SlowDown(
                    "too many wrong entries at this terminal; please wait a moment",
                    support_code=flow.support_code, retry_after=got.seconds))
            if isinstance(got, Busy):
                core.progress(conn, flow, Result.FAILED, "attempt refused: others in flight",
                              method)
                raise CommitThenRaise(StepOutOfOrder(
                    "another attempt is being checked; please try again in a moment",
                    support_code=flow.support_code, step=flow.step.value))
            flow.attempted = True
            save_flow(conn, flow)
            return material, got

        material, reservation = core.tx(reserve)
        try:
            outcome = check(material)
        except BaseException:
            core.tx(lambda conn, _: core.throttle.release(conn, reservation))
            raise

        def finish(conn: Connection, notices: list[Message]) -> Any:
            # throttle locks before any other write, in every transaction: two transactions
            # that took them in another order than the flow's row could deadlock
            core.throttle.lock(conn, *subjects)
            # the flow afresh: a block set meanwhile (by a parallel failure) refuses even a
            # right proof, and the reserved attempt stays counted
            flow = core.flow(conn, flow_id, terminal, notices)
            try:
                return settle(conn, notices, flow, material, outcome, reservation)
            except CommitThenRaise:
                # a refusal that is not a wrong proof (a right code that lost a race to
                # another request) does not count; a counted failure is no longer pending
                core.throttle.release(conn, reservation)
                raise
            except KioskError as exc:
                core.throttle.release(conn, reservation)
                raise CommitThenRaise(exc) from None

        return core.tx(finish)

    def passed(self, conn: Connection, flow: Flow, method: str,
               reservation: Reservation) -> FlowState:
        self.core.throttle.release(conn, reservation)
        flow.gates_passed.append(method)
        flow.data.pop("challenge", None)
        flow.data.pop("questions", None)
        self.core.progress(conn, flow, Result.SUCCEEDED, "verified", method)
        if not flow.proven:
            flow.step = Step.CHOOSE_METHOD
        elif flow.purpose == Purpose.RESET:
            flow.step = Step.NEW_PASSWORD
        elif flow.purpose == Purpose.UNLOCK:
            flow.step = Step.UNLOCK
        else:  # change / register: the step-up before changing security info is done
            flow.step = Step.REGISTER
        save_flow(conn, flow)
        return self.core.state(conn, flow)

    def failed(self, conn: Connection, notices: list[Message], flow: Flow, method: str,
               entry: str, detail: str, error: KioskError,
               reservation: Reservation) -> NoReturn:
        """Count the reserved attempt as failed (an identical wrong code counts once) and
        raise."""
        core = self.core
        now = core.clock.now()
        core.throttle.lock(conn, flow.subject, terminal_subject(flow.terminal))
        flow.attempted = True
        save_flow(conn, flow)
        core.progress(conn, flow, Result.FAILED, detail, method)
        block = core.throttle.settle_failure(
            conn, now, flow.subject, flow.terminal, reservation,
            keyed_hash(core.key, "entry", method, entry), flow.support_code)
        if block is not None:
            core.on_block(conn, flow, block, notices)
            raise CommitThenRaise(core.blocked_error(block))
        # how many tries are left before a block (from the counters: alike for a decoy)
        error.params["remaining"] = core.throttle.remaining(
            conn, now, flow.subject, flow.terminal, reservation.method)
        raise CommitThenRaise(error)

    def open_for(self, conn: Connection, flow: Flow, method: str) -> accounts.Account:
        """The flow is at a verification step and the method is offered (blocks are checked
        by Core.flow); returns the account."""
        flow.expect(*VERIFY_STEPS)
        account = self.core.account(conn, flow)
        if method not in accounts.offered(self.core.policy, flow, account.usable(flow)):
            raise InvalidInput("this method is not available now", field="method")
        return account

    # ------------------------------------------------------------ codes
    def refuse_send(self, conn: Connection, notices: list[Message], flow: Flow,
                    method: str) -> None:
        """Count one code about to be sent; the one over the limit blocks."""
        core = self.core
        block = core.throttle.reserve_send(conn, core.clock.now(), flow.subject, flow.terminal,
                                           method, flow.support_code)
        if block is not None:
            core.on_block(conn, flow, block, notices)
            raise CommitThenRaise(core.blocked_error(block))

    def resend_guard(self, flow: Flow, method: str) -> None:
        """A new code for the same method only after the cooldown (another method at once)."""
        resend_at = flow.data.get("resend_at")
        if not (flow.data.get("challenge") and flow.data.get("challenge_method") == method
                and resend_at):
            return
        wait = (datetime.fromisoformat(resend_at) - self.core.clock.now()).total_seconds()
        if wait > 0:
            raise ResendTooSoon("a new code can be sent shortly", support_code=flow.support_code,
                                retry_after=math.ceil(wait))

    def issue_code(self, conn: Connection, notices: list[Message], flow: Flow, kind: str,
                   channel: Channel, destination: str, masked: str) -> Message | None:
        """Count, make and record a code for `kind`; the message to send (None for a decoy,
        which has no destination: nothing is ever sent for it)."""
        core = self.core
        now = core.clock.now()
        self.resend_guard(flow, kind)
        self.refuse_send(conn, notices, flow, kind)
        challenge_id, code = codes.new_challenge(conn, core.key, core.policy, now, flow.id,
                                                 kind, channel.value, destination)
        flow.data.update(challenge=challenge_id, challenge_method=kind, challenge_masked=masked,
                         resend_at=(now + timedelta(
                             seconds=core.policy.codes.resend_after_seconds)).isoformat(),
                         code_length=core.policy.codes.length)
        flow.attempted = True
        if not destination:
            return None
        org = core.policy.organization
        message = code_message(channel, destination, code, org, flow.purpose.value,
                               core.policy.codes.lifetime_minutes,
                               message_language(org, flow.language))
        # the outcome of a queued delivery is audited under the flow
        return replace(message, context=flow.audit, method=kind)

    def send_code(self, flow_id: object, terminal: str, method: object,
                  channel: object) -> FlowState:
        kind, chan = kind_and_channel(method, channel, CONTACT_KINDS, "method",
                                      "this method cannot send a code that way")
        outgoing: list[Message] = []

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = self.core.flow(conn, flow_id, terminal, notices)
            account = self.open_for(conn, flow, kind)
            message = self.issue_code(conn, notices, flow, kind, chan,
                                      account.destination(kind),
                                      account.masks().get(kind, ""))
            flow.step = Step.VERIFY_CODE
            save_flow(conn, flow)
            self.core.progress(conn, flow, Result.SUCCEEDED, f"code sent by {chan.value}",
                               kind)
            outgoing.extend([message] if message else [])
            return self.core.state(conn, flow)

        state = self.core.tx(work)
        # queued: never waits for the relay, never fails here, so a real account answers in
        # the time and the way a decoy does; the code screen says what to do if none comes
        self.core.notify(outgoing)
        return state

    def verify_code(self, flow_id: object, terminal: str, challenge_id: object,
                    code: object) -> FlowState:
        def precheck(conn: Connection, flow: Flow) -> None:
            flow.expect(Step.VERIFY_CODE)
            self.open_for(conn, flow, flow.data.get("challenge_method", ""))

        def accept(conn: Connection, notices: list[Message], flow: Flow,
                   challenge: CodeToCheck, reservation: Reservation) -> FlowState:
            return self.passed(conn, flow, challenge.method, reservation)

        return self.code_attempt(flow_id, terminal, challenge_id, code, precheck, accept,
                                 "wrong code")

    def code_attempt(self, flow_id: object, terminal: str, challenge_id: object, code: object,
                     precheck: Callable[[Connection, Flow], object],
                     accept: Callable[[Connection, list[Message], Flow, CodeToCheck,
                                       Reservation], FlowState],
                     wrong: str) -> FlowState:
        """A code for the flow's current challenge (a proof, or a new contact's confirmation):
        `precheck` runs before the reservation and again on the flow as it is at settling."""
        digits = clean_code(code, self.core.policy.codes.length)
        core = self.core

        def load(conn: Connection, flow: Flow) -> CodeToCheck:
            precheck(conn, flow)
            return codes.load_challenge(conn, flow.id, flow.support_code, challenge_id,
                                        core.clock.now())

        def settle(conn: Connection, notices: list[Message], flow: Flow, challenge: CodeToCheck,
                   right: bool, reservation: Reservation) -> FlowState:
            precheck(conn, flow)
            if not right:
                self.failed(conn, notices, flow, challenge.method,
                            f"{challenge.challenge_id}:{digits}", wrong,
                            WrongCode("that code is not right", support_code=flow.support_code),
                            reservation)
            self.claim(conn, flow, challenge)
            return accept(conn, notices, flow, challenge, reservation)

        return self.attempt(flow_id, terminal, "code", load,
                            lambda challenge: codes.is_right(core.key, challenge, digits), settle)

    def claim(self, conn: Connection, flow: Flow, challenge: CodeToCheck) -> None:
        if not codes.claim(conn, challenge, self.core.clock.now()):
            raise CommitThenRaise(CodeExpired(
                "this code was used already", support_code=flow.support_code, reason="used"))

    # ------------------------------------------------------------ security questions
    def draw(self, flow: Flow, account: accounts.Account,
             avoid: frozenset[str] = frozenset()) -> None:
        flow.data["questions"] = questions.draw(account.question_pool(flow),
                                                self.core.policy.questions.to_reset, avoid)

    def questions(self, flow_id: object, terminal: str) -> FlowState:
        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = self.core.flow(conn, flow_id, terminal, notices)
            account = self.open_for(conn, flow, "questions")
            if flow.step != Step.ANSWER_QUESTIONS or not flow.data.get("questions"):
                self.draw(flow, account)
                flow.step = Step.ANSWER_QUESTIONS
                save_flow(conn, flow)
                self.core.progress(conn, flow, Result.SUCCEEDED, "questions drawn",
                                   "questions")
            return self.core.state(conn, flow)

        return self.core.tx(work)

    def answer(self, flow_id: object, terminal: str, answers: object) -> FlowState:
        if not isinstance(answers, list) or len(answers) > 10:
            raise InvalidInput("answers must be a list", field="answers")
        texts = [text_arg(a, "answer", 200, allow_empty=True) for a in answers]
        normalised = [normalize_answer(t) for t in texts]
        Drawn = tuple[list[dict[str, Any]], list[str | None]]

        def load(conn: Connection, flow: Flow) -> Drawn:
            flow.expect(Step.ANSWER_QUESTIONS)
            account = self.open_for(conn, flow, "questions")
            drawn = list(flow.data.get("questions", []))
            if len(texts) != len(drawn):
                raise InvalidInput(f"answer all {len(drawn)} questions", field="answers")
            return drawn, [account.answer_hash(q["id"]) for q in drawn]

        def settle(conn: Connection, notices: list[Message], flow: Flow, material: Drawn,
                   right: bool, reservation: Reservation) -> FlowState:
            drawn = material[0]
            still = flow.step == Step.ANSWER_QUESTIONS and flow.data.get("questions") == drawn
            if right and still:
                return self.passed(conn, flow, "questions", reservation)
            if right:  # right answers to a set another request has replaced meanwhile
                raise CommitThenRaise(StepOutOfOrder(
                    "the questions changed; please answer the new ones",
                    support_code=flow.support_code, step=flow.step.value))
            if still:  # any wrong answer draws a new set
                self.draw(flow, self.core.account(conn, flow),
                          avoid=frozenset(q["id"] for q in drawn))
            self.failed(conn, notices, flow, "questions", once("answers"), "wrong answers",
                        WrongAnswers("at least one answer is not right; here are new questions",
                                     support_code=flow.support_code), reservation)

        return self.attempt(
            flow_id, terminal, "questions", load,
            lambda material: questions.all_right(self.core.hasher, material[1], normalised),
            settle)

    # ------------------------------------------------------------ authenticator app
    def verify_totp(self, flow_id: object, terminal: str, code: object) -> FlowState:
        digits = clean_code(code, totp.DIGITS)
        core = self.core

        def load(conn: Connection, flow: Flow) -> str:
            return self.open_for(conn, flow, "authenticator").totp_secret()

        def settle(conn: Connection, notices: list[Message], flow: Flow, _secret: str,
                   step: int | None, reservation: Reservation) -> FlowState:
            flow.step = Step.VERIFY_TOTP
            wrong = WrongCode("that code is not right", support_code=flow.support_code)
            entry = repeat_key(core.clock.now(), digits)
            if step is None or flow.decoy:
                self.failed(conn, notices, flow, "authenticator", entry, "wrong code", wrong,
                            reservation)
            if not registry.claim_totp_step(conn, flow.known_user_id(), step):
                self.failed(conn, notices, flow, "authenticator", entry, "code used before",
                            wrong, reservation)
            return self.passed(conn, flow, "authenticator", reservation)

        return self.attempt(flow_id, terminal, "authenticator", load,
                            lambda secret: totp.matching_step(secret, digits, core.clock.now()),
                            settle)
