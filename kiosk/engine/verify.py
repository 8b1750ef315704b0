"""Proving identity: codes by email / text / call, security questions, the authenticator app."""

from __future__ import annotations

import base64
import math
import secrets
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import Connection, insert, select, update

from kiosk.backend import (
    Channel,
    CodeExpired,
    DeliveryFailed,
    FlowState,
    InvalidInput,
    KioskError,
    MethodKind,
    Purpose,
    ResendTooSoon,
    Step,
    WrongAnswers,
    WrongCode,
)
from kiosk.engine import registry, totp
from kiosk.engine.audit import Result
from kiosk.engine.crypto import keyed_hash, new_code, new_token, same
from kiosk.engine.delivery_base import DeliveryError, Message
from kiosk.engine.flow import CHANNELS_OF, VERIFY_STEPS, Flow, save_flow
from kiosk.engine.messages import code_message
from kiosk.engine.questions import question_text
from kiosk.engine.schema import challenges
from kiosk.engine.service import CommitThenRaise, EngineCore, text_arg
from kiosk.engine.text import normalize_answer
from kiosk.engine.throttle import terminal_subject, user_subject

_random = secrets.SystemRandom()
PURPOSE_LABELS = {
    Purpose.RESET: "password reset", Purpose.UNLOCK: "account unlock",
    Purpose.CHANGE: "password change", Purpose.REGISTER: "security info registration",
}


def clean_code(code: object, length: int) -> str:
    """Digits only; spaces and dashes a person types or pastes are dropped."""
    if not isinstance(code, str) or len(code) > 64:
        raise InvalidInput("the code must be text", field="code")
    digits = "".join(ch for ch in code if ch not in " -\u00a0\t")
    if len(digits) != length or not digits.isascii() or not digits.isdigit():
        raise InvalidInput(f"the code has {length} digits", field="code", length=length)
    return digits


class Verification(EngineCore):
    # ------------------------------------------------------------ shared
    def open_for_verification(self, conn: Connection, flow: Flow, method: str) -> None:
        """The flow is at a verification step, the method is offered, nothing is blocked."""
        flow.expect(*VERIFY_STEPS)
        _, usable = self.masks_and_usable(conn, flow)
        if method not in self.offered(flow, usable):
            raise InvalidInput("this method is not available now", field="method")
        block = self.throttle.active_block(conn, self.clock.now(), user_subject(flow.username),
                                           terminal_subject(flow.terminal))
        if block is not None:
            raise CommitThenRaise(self.blocked_error(block))

    def gate_passed(self, conn: Connection, flow: Flow, method: str) -> FlowState:
        flow.gates_passed.append(method)
        flow.data.pop("challenge", None)
        flow.data.pop("questions", None)
        self.progress(conn, flow, Result.SUCCEEDED, "verified", method)
        if flow.proven:
            flow.step = Step.NEW_PASSWORD if flow.purpose == Purpose.RESET else Step.UNLOCK
        else:
            flow.step = Step.CHOOSE_METHOD
        save_flow(conn, flow)
        return self.state(conn, flow)

    def failed(self, conn: Connection, notices: list[Message], flow: Flow, method: str,
               entry: str, detail: str, error: KioskError) -> NoReturn:
        """Count a failed verification (an identical repeat counts once) and raise."""
        now = self.clock.now()
        flow.attempted = True
        save_flow(conn, flow)
        self.progress(conn, flow, Result.FAILED, detail, method)
        block = self.throttle.record_verify_failure(
            conn, now, flow.username, flow.terminal, method,
            keyed_hash(self.key, "entry", method, entry), flow.support_code)
        if block is not None:
            self.on_block(conn, flow, block, notices)
            raise CommitThenRaise(self.blocked_error(block))
        raise CommitThenRaise(error)

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
            flow.expect(Step.CHOOSE_METHOD, Step.VERIFY_CODE, Step.ANSWER_QUESTIONS,
                        Step.VERIFY_TOTP)
            self.open_for_verification(conn, flow, kind.value)
            now = self.clock.now()
            self.resend_guard(flow, kind.value)
            block = self.throttle.check_send(conn, now, flow.username, flow.terminal,
                                             flow.support_code)
            if block is not None:
                self.on_block(conn, flow, block, notices)
                raise CommitThenRaise(self.blocked_error(block))
            destination = self.destination(conn, flow, kind.value)
            masks, _ = self.masks_and_usable(conn, flow)
            challenge_id, code = self.new_challenge(conn, flow, kind.value, chan.value,
                                                    destination)
            self.throttle.record_send(conn, now, flow.username, flow.terminal, kind.value)
            flow.data.update(challenge=challenge_id, challenge_method=kind.value,
                             challenge_masked=masks.get(kind.value, ""),
                             resend_at=(now + timedelta(
                                 seconds=self.policy.codes.resend_after_seconds)).isoformat(),
                             code_length=self.policy.codes.length)
            flow.step = Step.VERIFY_CODE
            flow.attempted = True
            save_flow(conn, flow)
            self.progress(conn, flow, Result.SUCCEEDED, f"code sent by {chan.value}", kind.value)
            if destination:  # a decoy has none: nothing is ever sent for an unknown name
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
        """Send outside the transaction; a failure is audited and the person may pick another
        method (the flow goes back to choosing)."""
        try:
            self.delivery.send(message)
        except DeliveryError as exc:
            reason = str(exc)

            def undo(conn: Connection, notices: list[Message]) -> None:
                flow = self.flow(conn, state.flow_id, terminal, notices)
                conn.execute(update(challenges).where(challenges.c.id == challenge_id)
                             .values(superseded=True))
                flow.step = Step.CHOOSE_METHOD if flow.purpose in (
                    Purpose.RESET, Purpose.UNLOCK) else flow.step
                flow.data.pop("challenge", None)
                save_flow(conn, flow)
                self.progress(conn, flow, Result.FAILED, f"code not sent: {reason}",
                              message.channel)

            self.tx(undo)
            raise DeliveryFailed("the code could not be sent; please choose another method",
                                 support_code=state.support_code) from None

    def check_challenge(self, conn: Connection, flow: Flow, challenge_id: object,
                        code: str) -> tuple[str, bool]:
        """(method, right?) for a code; raises CodeExpired for a stale, used or superseded one."""
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
        right = same(keyed_hash(self.key, "code", row.id, code), row.code_hash)
        if right:
            # single use, even when two terminals race with the same code
            claimed = conn.execute(update(challenges).where(
                challenges.c.id == row.id, challenges.c.used_at.is_(None)
            ).values(used_at=self.clock.now())).rowcount
            if claimed != 1:
                raise CodeExpired("this code was used already", support_code=flow.support_code,
                                  reason="used")
        return row.method, right

    def verify_code(self, flow_id: object, terminal: str, challenge_id: object,
                    code: object) -> FlowState:
        digits = clean_code(code, self.policy.codes.length)

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = self.flow(conn, flow_id, terminal, notices)
            flow.expect(Step.VERIFY_CODE)
            self.open_for_verification(conn, flow, flow.data.get("challenge_method", ""))
            method, right = self.check_challenge(conn, flow, challenge_id, digits)
            if not right:
                self.failed(conn, notices, flow, method, f"{challenge_id}:{digits}",
                            "wrong code", WrongCode("that code is not right",
                                                    support_code=flow.support_code))
            return self.gate_passed(conn, flow, method)

        return self.tx(work)

    # ------------------------------------------------------------ security questions
    def draw(self, conn: Connection, flow: Flow, avoid: frozenset[str] = frozenset()) -> None:
        if flow.decoy:
            pool = [(qid, None) for qid in self.decoy(flow.username).question_ids]
        else:
            pool = [(a.question_id, a.custom_text)
                    for a in registry.load(conn, flow.user_id).answers]  # type: ignore[arg-type]
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

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = self.flow(conn, flow_id, terminal, notices)
            flow.expect(Step.ANSWER_QUESTIONS)
            self.open_for_verification(conn, flow, "questions")
            drawn = flow.data.get("questions", [])
            if len(texts) != len(drawn):
                raise InvalidInput(f"answer all {len(drawn)} questions", field="answers")
            stored = {} if flow.decoy else {
                a.question_id: a.answer_hash
                for a in registry.load(conn, flow.user_id).answers}  # type: ignore[arg-type]
            normalised = [normalize_answer(t) for t in texts]
            # check every answer (no early exit), so the time says nothing about which was wrong
            results = [self.hasher.verify(stored.get(q["id"]), n)
                       for q, n in zip(drawn, normalised, strict=True)]
            if all(results) and not flow.decoy:
                return self.gate_passed(conn, flow, "questions")
            entry = "|".join(f"{q['id']}={n}" for q, n in zip(drawn, normalised, strict=True))
            self.draw(conn, flow, avoid=frozenset(q["id"] for q in drawn))
            self.failed(conn, notices, flow, "questions", entry, "wrong answers",
                        WrongAnswers("at least one answer is not right; here are new questions",
                                     support_code=flow.support_code))

        return self.tx(work)

    # ------------------------------------------------------------ authenticator app
    def totp_secret(self, conn: Connection, flow: Flow) -> str:
        if flow.decoy:  # a secret nobody knows: the decoy behaves like a real app
            raw = bytes.fromhex(keyed_hash(self.key, "decoy-totp", flow.username))[:20]
            return base64.b32encode(raw).decode()
        return registry.load(conn, flow.user_id).totp_secret or ""  # type: ignore[arg-type]

    def verify_totp(self, flow_id: object, terminal: str, code: object) -> FlowState:
        digits = clean_code(code, totp.DIGITS)

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = self.flow(conn, flow_id, terminal, notices)
            self.open_for_verification(conn, flow, "authenticator")
            flow.step = Step.VERIFY_TOTP
            step = totp.matching_step(self.totp_secret(conn, flow), digits, self.clock.now())
            wrong = WrongCode("that code is not right", support_code=flow.support_code)
            if step is None or flow.decoy:
                self.failed(conn, notices, flow, "authenticator", digits, "wrong code", wrong)
            if not registry.claim_totp_step(conn, flow.user_id, step):  # type: ignore[arg-type]
                self.failed(conn, notices, flow, "authenticator", digits, "code used before",
                            wrong)
            return self.gate_passed(conn, flow, "authenticator")

        return self.tx(work)

