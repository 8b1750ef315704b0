"""Proving identity: codes by email / text / call, security questions, the authenticator app.

Every proof runs in three steps (`attempt`): reserve an attempt with the throttle in a short
transaction, check the proof outside any transaction (argon2, an LDAP bind), then settle in a
second transaction that looks at the flow afresh. See kiosk.engine.throttle for why.
"""

from __future__ import annotations

import base64
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar

from sqlalchemy import Connection, insert, select, update

from kiosk.backend import (
    Channel,
    CodeExpired,
    FlowState,
    InvalidInput,
    KioskError,
    MethodKind,
    Purpose,
    ResendTooSoon,
    Step,
    StepOutOfOrder,
    WrongAnswers,
    WrongCode,
)
from kiosk.engine import registry, totp
from kiosk.engine.audit import Result
from kiosk.engine.crypto import keyed_hash, new_code, new_token, same
from kiosk.engine.delivery_base import Message
from kiosk.engine.flow import CHANNELS_OF, VERIFY_STEPS, Flow, load_flow, save_flow
from kiosk.engine.messages import code_message
from kiosk.engine.questions import question_text
from kiosk.engine.schema import challenges
from kiosk.engine.service import CommitThenRaise, EngineCore, text_arg
from kiosk.engine.text import normalize_answer
from kiosk.engine.throttle import ActiveBlock, Busy, Reservation, terminal_subject

_random = secrets.SystemRandom()
PURPOSE_LABELS = {
    Purpose.RESET: "password reset", Purpose.UNLOCK: "account unlock",
    Purpose.CHANGE: "password change", Purpose.REGISTER: "security info registration",
}
M = TypeVar("M")  # what a check needs, read in the reserving transaction
R = TypeVar("R")  # the check's outcome


def clean_code(code: object, length: int) -> str:
    """Digits only; spaces and dashes a person types or pastes are dropped."""
    if not isinstance(code, str) or len(code) > 64:
        raise InvalidInput("the code must be text", field="code")
    digits = "".join(ch for ch in code if ch not in " -\u00a0\t")
    if len(digits) != length or not digits.isascii() or not digits.isdigit():
        raise InvalidInput(f"the code has {length} digits", field="code", length=length)
    return digits


@dataclass(frozen=True)
class CodeToCheck:
    challenge_id: str
    method: str
    code_hash: str


def once(kind: str) -> str:
    """A failure key that never repeats: only codes are deduplicated ("the same wrong code
    again counts once"); a wrong answer or password leaves no record that could be guessed
    back from a copy of the database."""
    return f"{kind}:{new_token(12)}"


class Verification(EngineCore):
    # ------------------------------------------------------------ shared
    def open_for_verification(self, conn: Connection, flow: Flow, method: str) -> None:
        """The flow is at a verification step and the method is offered (blocks are checked
        by `self.flow`)."""
        flow.expect(*VERIFY_STEPS)
        _, usable = self.masks_and_usable(conn, flow)
        if method not in self.offered(flow, usable):
            raise InvalidInput("this method is not available now", field="method")

    def attempt(self, flow_id: object, terminal: str, method: str,
                load: Callable[[Connection, Flow], M], check: Callable[[M], R],
                settle: Callable[[Connection, list[Message], Flow, M, R, Reservation], Any]
                ) -> Any:
        """Reserve → check → settle (see the module doc). `load` runs every refusal that
        needs no proof checked (wrong step, method not offered, stale code); `settle` gets the
        flow as it is now, which other requests may have moved on."""

        subjects: list[str] = []

        def reserve(conn: Connection, notices: list[Message]) -> tuple[M, Reservation]:
            flow = self.flow(conn, flow_id, terminal, notices)
            subjects.extend((flow.subject, terminal_subject(flow.terminal)))
            material = load(conn, flow)
            got = self.throttle.reserve(conn, self.clock.now(), flow.subject, flow.terminal,
                                        method, flow.support_code)
            if isinstance(got, ActiveBlock):
                self.progress(conn, flow, Result.BLOCKED, f"attempt refused: {got.reason}",
                              method)
                raise CommitThenRaise(self.blocked_error(got))
            if isinstance(got, Busy):
                self.progress(conn, flow, Result.FAILED, "attempt refused: others in flight",
                              method)
                raise CommitThenRaise(StepOutOfOrder(
                    "another attempt is being checked; please try again in a moment",
                    support_code=flow.support_code, step=flow.step.value))
            flow.attempted = True
            save_flow(conn, flow)
            return material, got

        material, reservation = self.tx(reserve)
        try:
            outcome = check(material)
        except BaseException:
            self.tx(lambda conn, _: self.throttle.release(conn, reservation))
            raise

        def finish(conn: Connection, notices: list[Message]) -> Any:
            # throttle locks before any other write, in every transaction: two transactions
            # that took them in another order than the flow's row could deadlock
            self.throttle.lock(conn, *subjects)
            # the flow afresh: a block set meanwhile (by a parallel failure) refuses even a
            # right proof, and the reserved attempt stays counted
            flow = self.flow(conn, flow_id, terminal, notices)
            try:
                return settle(conn, notices, flow, material, outcome, reservation)
            except CommitThenRaise:
                # a refusal that is not a wrong proof (a right code that lost a race to
                # another request) does not count; a counted failure is no longer pending
                self.throttle.release(conn, reservation)
                raise
            except KioskError as exc:
                self.throttle.release(conn, reservation)
                raise CommitThenRaise(exc) from None

        return self.tx(finish)

    def passed(self, conn: Connection, flow: Flow, method: str,
               reservation: Reservation) -> FlowState:
        self.throttle.release(conn, reservation)
        return self.gate_passed(conn, flow, method)

    def gate_passed(self, conn: Connection, flow: Flow, method: str) -> FlowState:
        flow.gates_passed.append(method)
        flow.data.pop("challenge", None)
        flow.data.pop("questions", None)
        self.progress(conn, flow, Result.SUCCEEDED, "verified", method)
        if not flow.proven:
            flow.step = Step.CHOOSE_METHOD
        elif flow.purpose == Purpose.RESET:
            flow.step = Step.NEW_PASSWORD
        elif flow.purpose == Purpose.UNLOCK:
            flow.step = Step.UNLOCK
        else:  # change / register: the step-up before changing security info is done
            flow.step = Step.REGISTER
        save_flow(conn, flow)
        return self.state(conn, flow)

    def failed(self, conn: Connection, notices: list[Message], flow: Flow, method: str,
               entry: str, detail: str, error: KioskError,
               reservation: Reservation) -> NoReturn:
        """Count the reserved attempt as failed (an identical wrong code counts once) and
        raise."""
        now = self.clock.now()
        self.throttle.lock(conn, flow.subject, terminal_subject(flow.terminal))
        flow.attempted = True
        save_flow(conn, flow)
        self.progress(conn, flow, Result.FAILED, detail, method)
        block = self.throttle.settle_failure(
            conn, now, flow.subject, flow.terminal, reservation,
            keyed_hash(self.key, "entry", method, entry), flow.support_code)
        if block is not None:
            self.on_block(conn, flow, block, notices)
            raise CommitThenRaise(self.blocked_error(block))
        raise CommitThenRaise(error)

    def refuse_send(self, conn: Connection, notices: list[Message], flow: Flow,
                    method: str) -> None:
        """Count one code about to be sent; the one over the limit blocks."""
        block = self.throttle.reserve_send(conn, self.clock.now(), flow.subject, flow.terminal,
                                           method, flow.support_code)
        if block is not None:
            self.on_block(conn, flow, block, notices)
            raise CommitThenRaise(self.blocked_error(block))

    # ------------------------------------------------------------ codes
    def send_code(self, flow_id: object, terminal: str, method: object,
                  channel: object) -> FlowState:
        try:
            kind, chan = MethodKind(method), Channel(channel)
        except ValueError:
            raise InvalidInput("unknown method or channel", field="method") from None
        if chan not in CHANNELS_OF[kind.value] or kind.value not in ("email", "mobile", "office"):
            raise InvalidInput("this method cannot send a code that way", field="channel")
        sent: dict[str, object] = {}

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = self.flow(conn, flow_id, terminal, notices)
            self.open_for_verification(conn, flow, kind.value)
            now = self.clock.now()
            self.resend_guard(flow, kind.value)
            self.refuse_send(conn, notices, flow, kind.value)
            destination = self.destination(conn, flow, kind.value)
            masks, _ = self.masks_and_usable(conn, flow)
            challenge_id, code = self.new_challenge(conn, flow, kind.value, chan.value,
                                                    destination)
            flow.data.update(challenge=challenge_id, challenge_method=kind.value,
                             challenge_masked=masks.get(kind.value, ""),
                             resend_at=(now + timedelta(
                                 seconds=self.policy.codes.resend_after_seconds)).isoformat(),
                             code_length=self.policy.codes.length)
            flow.step = Step.VERIFY_CODE
            flow.attempted = True
            save_flow(conn, flow)
            self.progress(conn, flow, Result.SUCCEEDED, f"code sent by {chan.value}", kind.value)
            if destination:  # a decoy has none: nothing is ever sent for it
                sent.update(challenge=challenge_id, message=code_message(
                    chan.value, destination, code, self.policy.organization,
                    PURPOSE_LABELS[flow.purpose], self.policy.codes.lifetime_minutes))
            return self.state(conn, flow)

        state = self.tx(work)
        if "message" in sent:
            self.deliver_code(state, sent["message"], str(sent["challenge"]), terminal)  # type: ignore[arg-type]
        return state

    def resend_guard(self, flow: Flow, method: str) -> None:
        """A new code for the same method only after the cooldown (another method at once)."""
        resend_at = flow.data.get("resend_at")
        if not (flow.data.get("challenge") and flow.data.get("challenge_method") == method
                and resend_at):
            return
        wait = (datetime.fromisoformat(resend_at) - self.clock.now()).total_seconds()
        if wait > 0:
            raise ResendTooSoon("a new code can be sent shortly", support_code=flow.support_code,
                                retry_after=math.ceil(wait))

    def destination(self, conn: Connection, flow: Flow, kind: str) -> str:
        if flow.decoy:
            return ""
        return registry.load(conn, flow.user_id).contacts[kind]  # type: ignore[arg-type]

    def new_challenge(self, conn: Connection, flow: Flow, method: str, channel: str,
                      destination: str) -> tuple[str, str]:
        now = self.clock.now()
        conn.execute(update(challenges).where(
            challenges.c.flow_id == flow.id, challenges.c.used_at.is_(None)
        ).values(superseded=True))  # a resend makes the earlier code worthless
        challenge_id = new_token(12)
        code = new_code(self.policy.codes.length)
        conn.execute(insert(challenges).values(
            id=challenge_id, flow_id=flow.id, method=method, channel=channel,
            destination=destination, code_hash=keyed_hash(self.key, "code", challenge_id, code),
            created_at=now, expires_at=now + timedelta(minutes=self.policy.codes.lifetime_minutes),
            superseded=False))
        return challenge_id, code

    def deliver_code(self, state: FlowState, message: Message, challenge_id: str,
                     terminal: str) -> None:
        """Hand the code to the delivery and return: never wait for the relay, never fail here.

        Real deliveries are queued (QueuedDelivery), so a real account answers in the time and
        the way a decoy (which sends nothing) does, also when the relay is slow or down. The
        outcome is audited later under the flow's correlation id ("code delivered" / "code not
        delivered: why"); a person whose code does not come sends it again, chooses another
        method or asks the helpdesk, as the code screen says."""
        try:
            with self.db.connect() as conn:
                flow = load_flow(conn, state.flow_id, terminal)
        except KioskError:  # the flow ended meanwhile (another request): its code is void
            return
        method = str(flow.data.get("challenge_method") or "")
        self.delivery.send(replace(message, context=flow.audit, method=method))

    def load_challenge(self, conn: Connection, flow: Flow, challenge_id: object) -> CodeToCheck:
        """The challenge a code answers; CodeExpired for a stale, used or superseded one."""
        if not isinstance(challenge_id, str) or len(challenge_id) > 64:
            raise InvalidInput("unknown challenge", field="challenge")
        row = conn.execute(select(challenges).where(
            challenges.c.id == challenge_id, challenges.c.flow_id == flow.id)).first()
        if row is None:
            raise InvalidInput("unknown challenge", field="challenge")
        if row.superseded:
            raise CodeExpired("a newer code was sent; use the newest one",
                              support_code=flow.support_code, reason="superseded")
        if row.used_at is not None:
            raise CodeExpired("this code was used already", support_code=flow.support_code,
                              reason="used")
        if self.clock.now() >= row.expires_at:
            raise CodeExpired("this code has expired; send a new one",
                              support_code=flow.support_code, reason="expired")
        return CodeToCheck(row.id, row.method, row.code_hash)

    def code_is_right(self, challenge: CodeToCheck, code: str) -> bool:
        return same(keyed_hash(self.key, "code", challenge.challenge_id, code),
                    challenge.code_hash)

    def claim_challenge(self, conn: Connection, flow: Flow, challenge: CodeToCheck) -> None:
        """Single use, even when two requests race with the same right code; a code that
        was superseded while it was checked is refused too."""
        claimed = conn.execute(update(challenges).where(
            challenges.c.id == challenge.challenge_id, challenges.c.used_at.is_(None),
            challenges.c.superseded.is_(False)
        ).values(used_at=self.clock.now())).rowcount
        if claimed != 1:
            raise CommitThenRaise(CodeExpired(
                "this code was used already", support_code=flow.support_code, reason="used"))

    def verify_code(self, flow_id: object, terminal: str, challenge_id: object,
                    code: object) -> FlowState:
        digits = clean_code(code, self.policy.codes.length)

        def load(conn: Connection, flow: Flow) -> CodeToCheck:
            flow.expect(Step.VERIFY_CODE)
            self.open_for_verification(conn, flow, flow.data.get("challenge_method", ""))
            return self.load_challenge(conn, flow, challenge_id)

        def settle(conn: Connection, notices: list[Message], flow: Flow, challenge: CodeToCheck,
                   right: bool, reservation: Reservation) -> FlowState:
            if not right:
                self.failed(conn, notices, flow, challenge.method,
                            f"{challenge.challenge_id}:{digits}", "wrong code",
                            WrongCode("that code is not right", support_code=flow.support_code),
                            reservation)
            flow.expect(Step.VERIFY_CODE)
            self.claim_challenge(conn, flow, challenge)
            return self.passed(conn, flow, challenge.method, reservation)

        return self.attempt(flow_id, terminal, "code", load,
                            lambda challenge: self.code_is_right(challenge, digits), settle)

    # ------------------------------------------------------------ security questions
    def draw(self, conn: Connection, flow: Flow, avoid: frozenset[str] = frozenset()) -> None:
        before_proof = not flow.gates_passed
        if flow.decoy:
            pool = [(qid, None) for qid in self.decoy(conn, flow.username).question_ids]
        else:
            # a custom question's text is the user's own: shown only after another proof
            pool = [(a.question_id, a.custom_text)
                    for a in registry.load(conn, flow.user_id).answers  # type: ignore[arg-type]
                    if not (before_proof and a.custom_text is not None)]
        count = min(self.policy.questions.to_reset, len(pool))
        # prefer a set that differs from the one just failed, when the pool allows it
        for _ in range(8):
            chosen = _random.sample(pool, count)
            if {q for q, _ in chosen} != avoid:
                break
        flow.data["questions"] = [
            {"id": qid, "text": question_text(qid, custom), "custom": custom is not None}
            for qid, custom in chosen]

    def questions(self, flow_id: object, terminal: str) -> FlowState:
        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = self.flow(conn, flow_id, terminal, notices)
            self.open_for_verification(conn, flow, "questions")
            if flow.step != Step.ANSWER_QUESTIONS or not flow.data.get("questions"):
                self.draw(conn, flow)
                flow.step = Step.ANSWER_QUESTIONS
                save_flow(conn, flow)
                self.progress(conn, flow, Result.SUCCEEDED, "questions drawn", "questions")
            return self.state(conn, flow)

        return self.tx(work)

    def answer(self, flow_id: object, terminal: str, answers: object) -> FlowState:
        if not isinstance(answers, list) or len(answers) > 10:
            raise InvalidInput("answers must be a list", field="answers")
        texts = [text_arg(a, "answer", 200, allow_empty=True) for a in answers]
        normalised = [normalize_answer(t) for t in texts]

        def load(conn: Connection, flow: Flow) -> tuple[list[dict[str, Any]], list[str | None]]:
            flow.expect(Step.ANSWER_QUESTIONS)
            self.open_for_verification(conn, flow, "questions")
            drawn = list(flow.data.get("questions", []))
            if len(texts) != len(drawn):
                raise InvalidInput(f"answer all {len(drawn)} questions", field="answers")
            stored = {} if flow.decoy else {
                a.question_id: a.answer_hash
                for a in registry.load(conn, flow.user_id).answers}  # type: ignore[arg-type]
            return drawn, [stored.get(q["id"]) for q in drawn]

        def check(material: tuple[list[dict[str, Any]], list[str | None]]) -> bool:
            # every answer is checked (no early exit): the time says nothing about which was
            # wrong, and a decoy (no hashes) costs the same argon2 work
            results = [self.hasher.verify(h, n)
                       for h, n in zip(material[1], normalised, strict=True)]
            return all(results) and None not in material[1]

        def settle(conn: Connection, notices: list[Message], flow: Flow,
                   material: tuple[list[dict[str, Any]], list[str | None]], right: bool,
                   reservation: Reservation) -> FlowState:
            drawn = material[0]
            still = flow.step == Step.ANSWER_QUESTIONS and flow.data.get("questions") == drawn
            if right and still:
                return self.passed(conn, flow, "questions", reservation)
            if right:  # right answers to a set another request has replaced meanwhile
                self.throttle.release(conn, reservation)
                raise CommitThenRaise(StepOutOfOrder(
                    "the questions changed; please answer the new ones",
                    support_code=flow.support_code, step=flow.step.value))
            if still:  # any wrong answer draws a new set
                self.draw(conn, flow, avoid=frozenset(q["id"] for q in drawn))
            self.failed(conn, notices, flow, "questions", once("answers"), "wrong answers",
                        WrongAnswers("at least one answer is not right; here are new questions",
                                     support_code=flow.support_code), reservation)

        return self.attempt(flow_id, terminal, "questions", load, check, settle)

    # ------------------------------------------------------------ authenticator app
    def totp_secret(self, conn: Connection, flow: Flow) -> str:
        if flow.decoy:  # a secret nobody knows: the decoy behaves like a real app
            raw = bytes.fromhex(keyed_hash(self.key, "decoy-totp", flow.username))[:20]
            return base64.b32encode(raw).decode()
        return registry.authenticator_secret(conn, self.key, flow.user_id) or ""  # type: ignore[arg-type]

    def totp_entry(self, digits: str) -> str:
        """The repeat key of a wrong authenticator code: the code within its 30 s step, so the
        same wrong code in a new step is a new guess and counts."""
        return f"{totp.current_step(self.clock.now())}:{digits}"

    def verify_totp(self, flow_id: object, terminal: str, code: object) -> FlowState:
        digits = clean_code(code, totp.DIGITS)

        def load(conn: Connection, flow: Flow) -> str:
            self.open_for_verification(conn, flow, "authenticator")
            return self.totp_secret(conn, flow)

        def settle(conn: Connection, notices: list[Message], flow: Flow, _secret: str,
                   step: int | None, reservation: Reservation) -> FlowState:
            flow.step = Step.VERIFY_TOTP
            wrong = WrongCode("that code is not right", support_code=flow.support_code)
            if step is None or flow.decoy:
                self.failed(conn, notices, flow, "authenticator", self.totp_entry(digits),
                            "wrong code", wrong, reservation)
            if not registry.claim_totp_step(conn, flow.user_id, step):  # type: ignore[arg-type]
                self.failed(conn, notices, flow, "authenticator", self.totp_entry(digits),
                            "code used before", wrong, reservation)
            return self.passed(conn, flow, "authenticator", reservation)

        return self.attempt(flow_id, terminal, "authenticator", load,
                            lambda secret: totp.matching_step(secret, digits, self.clock.now()),
                            settle)
