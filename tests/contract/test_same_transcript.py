"""The strongest form of "one behaviour, two backends": one script, run on an embedded and on
a remote backend side by side, must give the same transcript: every state (all fields) and
every error (class, code, status, message, support code, params), call by call.

Only what is random by nature is renamed before comparing: flow, challenge and support codes
become F1, C1, S1... in order of appearance, and an authenticator secret becomes <secret>.
Both engines run on identical frozen clocks, so times compare as they are.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from kiosk.backend import (
    Channel,
    KioskError,
    MethodKind,
    Purpose,
    QuestionAnswer,
)
from kiosk.engine.demo import BOB_TOTP_SECRET
from kiosk.engine.totp import code_at
from tests.support.worlds import World

ANSWERS = {"pet": "rex", "city": "springfield", "nickname": "ally"}
GOOD = "Violet-harbour-lantern-93"


class Recorder:
    def __init__(self, world: World) -> None:
        self.world = world
        self.b = world.backend
        self.lines: list[Any] = []
        self.names: dict[str, str] = {}

    def _name(self, value: str, kind: str) -> str:
        if value not in self.names:
            count = sum(1 for v in self.names.values() if v.startswith(kind))
            self.names[value] = f"{kind}{count + 1}"
        return self.names[value]

    def _clean(self, data: Any, key: str = "") -> Any:
        if isinstance(data, dict):
            out = {k: self._clean(v, k) for k, v in data.items()}
            if key == "" and isinstance(out.get("questions"), list):
                out["questions"] = sorted(out["questions"], key=lambda q: q["id"])
            return out
        if isinstance(data, list):
            return [self._clean(v, key) for v in data]
        if isinstance(data, str) and data:
            if key in ("flow_id",):
                return self._name(data, "F")
            if key == "id" and len(data) == 16:  # challenge ids
                return self._name(data, "C")
            if key == "support_code":
                return self._name(data, "S")
            if key in ("secret", "uri"):
                return "<secret>"
        return data

    async def __call__(self, label: str, call: Any) -> Any:
        try:
            result = await call
        except KioskError as error:
            self.lines.append((label, "error", type(error).__name__, error.code, error.status,
                               error.message, self._clean(error.support_code, "support_code"),
                               self._clean(error.params)))
            return None
        dump = to_jsonable_python(result)  # a model, a list of them, or Branding (a dataclass)
        if isinstance(dump, dict):
            dump = {**dump, "questions": sorted(dump.get("questions", []),
                                                key=lambda q: q["id"])} \
                if "questions" in dump else dump
        self.lines.append((label, "ok", self._clean(dump)))
        return result


async def face(call: Any) -> list[Any]:
    """A start's shape without the masks a decoy draws from the server key."""
    state = await call
    return [MethodShape(step=state.step.value, gates=state.gates_required,
                        methods=len(state.methods) > 0)]


class MethodShape(BaseModel):
    step: str
    gates: int
    methods: bool


async def script(world: World) -> list[Any]:
    r = Recorder(world)
    b, clock = r.b, world.clock

    await r("branding", b.branding())

    # alice: email code, wrong then right; password rules; done
    s = await r("start alice", b.start(Purpose.RESET, "alice"))
    await r("resend before", b.send_code(s.flow_id, MethodKind.MOBILE, Channel.CALL))
    s = await r("send email", b.send_code(s.flow_id, MethodKind.EMAIL, Channel.EMAIL))
    await r("resend too soon", b.send_code(s.flow_id, MethodKind.EMAIL, Channel.EMAIL))
    code = world.last_code("alice@contoso.org")
    await r("wrong code", b.verify_code(s.flow_id, s.challenge.id, "00000000"
                                        if code != "00000000" else "11111111"))
    await r("bad code", b.verify_code(s.flow_id, s.challenge.id, "12ab"))
    await r("set too early", b.set_password(s.flow_id, GOOD))
    await r("right code", b.verify_code(s.flow_id, s.challenge.id, code))
    await r("check weak", b.check_password(s.flow_id, "password"))
    await r("check long", b.check_password(s.flow_id, "p" * 5000))
    await r("set weak", b.set_password(s.flow_id, "alice2024"))
    await r("set current", b.set_password(s.flow_id, "Alice-demo-pass-1"))
    await r("set good", b.set_password(s.flow_id, GOOD))
    await r("after done", b.check_password(s.flow_id, GOOD))

    # alice again: questions, wrong answers redraw, right answers
    s = await r("start alice 2", b.start(Purpose.RESET, "alice"))
    s = await r("questions", b.questions(s.flow_id))
    await r("wrong answers", b.answer(s.flow_id, ["nope", "nada", "nix"]))
    s = await r("redrawn", b.questions(s.flow_id))
    await r("too few answers", b.answer(s.flow_id, ["rex"]))
    await r("right answers", b.answer(s.flow_id, [ANSWERS[q.id] for q in s.questions]))
    await r("cancel proven", b.cancel(s.flow_id))

    # bob: the authenticator is required; a step is not accepted twice
    s = await r("start bob", b.start(Purpose.RESET, "bob"))
    await r("bob email", b.send_code(s.flow_id, MethodKind.EMAIL, Channel.EMAIL))
    totp = code_at(BOB_TOTP_SECRET, clock.now())
    await r("bob totp", b.verify_totp(s.flow_id, totp))
    s = await r("start bob 2", b.start(Purpose.RESET, "bob"))
    await r("bob replay", b.verify_totp(s.flow_id, totp))

    # carol: two gates, no questions
    s = await r("start carol", b.start(Purpose.RESET, "carol"))
    await r("carol questions", b.questions(s.flow_id))
    s = await r("carol email", b.send_code(s.flow_id, MethodKind.EMAIL, Channel.EMAIL))
    s = await r("carol email ok", b.verify_code(s.flow_id, s.challenge.id,
                                                world.last_code("carol@contoso.org")))
    s = await r("carol text", b.send_code(s.flow_id, MethodKind.MOBILE, Channel.TEXT))
    s = await r("carol text ok", b.verify_code(s.flow_id, s.challenge.id,
                                               world.last_code("+14255550143")))
    await r("carol set", b.set_password(s.flow_id, GOOD))

    # dave: unlock
    s = await r("start dave", b.start(Purpose.UNLOCK, "dave"))
    s = await r("dave email", b.send_code(s.flow_id, MethodKind.EMAIL, Channel.EMAIL))
    s = await r("dave ok", b.verify_code(s.flow_id, s.challenge.id,
                                         world.last_code("dave@contoso.org")))
    await r("dave set", b.set_password(s.flow_id, GOOD))
    await r("dave unlock", b.unlock(s.flow_id))

    # refusals and bad input
    # erin and frank get decoys: their masks come from each world's own key, so only the
    # face is compared (tests/contract/test_refusals.py looks at the decoys themselves)
    await r("erin", face(b.start(Purpose.RESET, "erin")))
    await r("frank", face(b.start(Purpose.RESET, "frank")))
    await r("bogus purpose", b.start("bogus", "alice"))  # type: ignore[arg-type]
    await r("long name", b.start(Purpose.RESET, "x" * 300))
    await r("control char", b.start(Purpose.RESET, "al\x00ice"))
    await r("empty name", b.start(Purpose.RESET, " "))
    await r("unknown flow", b.questions("x" * 32))
    s = await r("start alice 3", b.start(Purpose.RESET, "alice"))
    await r("fax", b.send_code(s.flow_id, "fax", "email"))  # type: ignore[arg-type]
    await r("email by text", b.send_code(s.flow_id, MethodKind.EMAIL, Channel.TEXT))
    await r("unlock early", b.unlock(s.flow_id))
    await r("sign in early", b.sign_in(s.flow_id, "x"))
    await r("cancel", b.cancel(s.flow_id))
    await r("cancel again", b.cancel(s.flow_id))

    # change and registration
    s = await r("start change", b.start(Purpose.CHANGE, "alice"))
    await r("sign in wrong", b.sign_in(s.flow_id, "Alice-demo-pass-1"))
    s = await r("sign in", b.sign_in(s.flow_id, GOOD))
    await r("change set", b.set_password(s.flow_id, "Copper kettle on the 7th hill"))
    s = await r("start register", b.start(Purpose.REGISTER, "erin"))
    s = await r("erin sign in", b.sign_in(s.flow_id, "Erin-demo-pass-1"))
    await r("pool", b.question_pool(s.flow_id))
    await r("bad email", b.add_email(s.flow_id, "not-an-address"))
    s = await r("add email", b.add_email(s.flow_id, "erin@example.org"))
    s = await r("confirm", b.confirm_contact(s.flow_id, s.challenge.id,
                                             world.last_code("erin@example.org")))
    await r("bad questions", b.set_questions(s.flow_id, [
        QuestionAnswer(question_id=q, answer="same") for q in ("pet", "city", "school")]))
    await r("questions set", b.set_questions(s.flow_id, [
        QuestionAnswer(question_id="pet", answer="whiskers"),
        QuestionAnswer(question_id="city", answer="lisbon"),
        QuestionAnswer(custom_text="Which lake did we row on?", answer="windermere")]))
    enrolment = await r("begin app", b.begin_authenticator(s.flow_id))
    clock.advance(seconds=30)
    await r("confirm app", b.confirm_authenticator(s.flow_id,
                                                    code_at(enrolment.secret, clock.now())))
    await r("finish", b.finish_registration(s.flow_id))

    # throttle: five different wrong codes block; the block holds
    s = await r("start carol 2", b.start(Purpose.RESET, "carol"))
    s = await r("carol 2 email", b.send_code(s.flow_id, MethodKind.EMAIL, Channel.EMAIL))
    right = int(world.last_code("carol@contoso.org"))
    for n in range(1, 6):
        await r(f"wrong {n}", b.verify_code(s.flow_id, s.challenge.id,
                                            f"{(right + n) % 10**8:08d}"))
    await r("blocked start", b.start(Purpose.RESET, "carol"))

    # expiry
    s = await r("start alice 4", b.start(Purpose.RESET, "alice"))
    clock.advance(minutes=16)
    await r("expired", b.questions(s.flow_id))
    await r("gone", b.questions(s.flow_id))
    return r.lines


async def test_embedded_and_remote_give_the_same_transcript(
        both_worlds: tuple[World, World]) -> None:
    embedded, remote = both_worlds
    left, right = await script(embedded), await script(remote)
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        assert a == b, f"{a[0]}: embedded and remote differ"
    assert sum(1 for line in left if line[1] == "error") >= 30  # the script does refuse things
