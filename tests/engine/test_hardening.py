"""Issue 10, item 5: text that is not UTF-8, argon2 work before the flow is checked, and the
admins' misuse alerts (named only when the account is known, cleaned, rate-limited)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from kiosk.backend import (
    Blocked,
    FlowNotFound,
    InvalidInput,
    QuestionAnswer,
    StepOutOfOrder,
    WrongCode,
)
from kiosk.engine import crypto, registry
from kiosk.engine.audit import AuditContext
from kiosk.engine.clock import FrozenClock
from kiosk.engine.config import Security
from kiosk.engine.core import text_arg
from kiosk.engine.delivery_base import Message
from kiosk.engine.engine import Engine
from kiosk.engine.notify import Notifier
from kiosk.engine.schema import audit_events, blocks
from kiosk.engine.throttle import terminal_subject
from tests.support.engine import TERMINAL

ANSWERS = [QuestionAnswer(question_id=q, answer=a)
           for q, a in {"pet": "rex", "city": "springfield", "nickname": "ally"}.items()]
UNKNOWN = "an unknown name (shown in the audit log)"
INJECTION = "urgent - your admin account will be disabled - call 0800 999 321"


def signed_in(engine: Engine, user: str = "erin", password: str = "Erin-demo-pass-1") -> str:
    state = engine.session(TERMINAL).start("register", user)
    return engine.session(TERMINAL).sign_in(state.flow_id, password).flow_id


# ---------------------------------------------------------------- text that is not UTF-8


@pytest.mark.parametrize("text", ["\ud800abc", "abc\udfff", "a\udc80b"])
def test_text_that_utf8_cannot_encode_is_invalid_input(engine: Engine, text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        engine.session(TERMINAL).start("reset", text)
    assert refused.value.params["field"] == "username"
    # also where control characters are allowed (a new password reports those as a rule)
    with pytest.raises(InvalidInput):
        text_arg(text, "password", 100, allow_control=True, allow_empty=True)
    assert text_arg("zoë 😀", "username", 100) == "zoë 😀"


# ---------------------------------------------------------------- argon2 only for a real flow


@pytest.fixture
def hashed(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every secret the engine hashes with argon2 from now on."""
    seen: list[str] = []
    real = engine.hasher.hash

    def spy(secret: str) -> str:
        seen.append(secret)
        return real(secret)

    monkeypatch.setattr(engine.hasher, "hash", spy)
    return seen


def test_questions_for_a_made_up_flow_cost_no_argon2(engine: Engine, hashed: list[str]) -> None:
    for made_up in ("made-up-flow-id-0123456789", "x" * 40):
        with pytest.raises(FlowNotFound):
            engine.session(TERMINAL).set_questions(made_up, ANSWERS)
    assert hashed == []


def test_questions_at_the_wrong_step_or_while_blocked_cost_no_argon2(
        engine: Engine, clock: FrozenClock, hashed: list[str]) -> None:
    reset = engine.session(TERMINAL).start("reset", "alice").flow_id
    with pytest.raises(StepOutOfOrder):
        engine.session(TERMINAL).set_questions(reset, ANSWERS)
    flow = signed_in(engine)
    now = clock.now()
    with engine.db.begin() as conn:
        conn.execute(insert(blocks).values(
            subject=terminal_subject(TERMINAL), reason="test", support_code="TEST-0001",
            created_at=now, until=now + timedelta(hours=1)))
    with pytest.raises(Blocked):
        engine.session(TERMINAL).set_questions(flow, ANSWERS)
    assert hashed == []


def test_questions_are_not_stored_when_the_flow_ends_while_hashing(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    flow = signed_in(engine)
    real = engine.hasher.hash
    cancelled: list[bool] = []

    def hash_while_the_flow_is_cancelled(secret: str) -> str:
        if not cancelled:  # another request ends the flow while argon2 runs
            engine.session(TERMINAL).cancel(flow)
            cancelled.append(True)
        return real(secret)

    monkeypatch.setattr(engine.hasher, "hash", hash_while_the_flow_is_cancelled)
    with pytest.raises(FlowNotFound):
        engine.session(TERMINAL).set_questions(flow, ANSWERS)
    with engine.db.connect() as conn:
        erin = engine.directory.find(conn, "erin")
        assert erin is not None and registry.load(conn, erin.id).answers == []


def test_questions_are_still_set_on_a_real_flow(engine: Engine, hashed: list[str]) -> None:
    state = engine.session(TERMINAL).set_questions(signed_in(engine), ANSWERS)
    assert "questions" in {m.kind.value for m in state.registration.registered}  # type: ignore[union-attr]
    assert sorted(hashed) == ["ally", "rex", "springfield"]  # each answer once, normalised


class SlowArgon2:
    """Stands in for argon2's PasswordHasher; counts how many calls run at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.lock = threading.Lock()

    def _work(self) -> None:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(0.05)
        with self.lock:
            self.inside -= 1

    def hash(self, secret: str) -> str:
        self._work()
        return "$argon2id$fake"

    def verify(self, hashed: str, secret: str) -> bool:
        self._work()
        return True


def test_argon2_work_in_flight_is_bounded_by_the_cores() -> None:
    """A flood of requests cannot hold more than cores × memory_cost of argon2 memory: the
    bound is per process, shared by every Hasher."""
    cores = crypto.ARGON2_CONCURRENCY
    assert 1 <= cores <= (os.cpu_count() or 1)
    fake = SlowArgon2()
    hashers = [crypto.Hasher(Security()), crypto.Hasher(Security())]
    for hasher in hashers:
        hasher._ph = fake  # type: ignore[assignment]

    def call(n: int) -> None:
        hasher = hashers[n % 2]
        if n % 3:
            hasher.hash("secret")
        else:
            hasher.verify(None, "guess")

    threads = [threading.Thread(target=call, args=(n,)) for n in range(4 * cores + 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert fake.most == cores  # reached, never passed


# ---------------------------------------------------------------- misuse alerts


def alert(engine: Engine, name: str, *, known: bool = True) -> list[Message]:
    now = engine.clock.now()
    correlation = str(uuid.uuid4())
    ctx = AuditContext(correlation, crypto.support_code(correlation), TERMINAL, name)
    with engine.db.begin() as conn:
        return engine.notifier.misuse(conn, ctx, ctx.support_code, now,
                                      now + timedelta(hours=24), known=known)


def test_an_alert_names_a_known_account_cleaned_and_cut(engine: Engine) -> None:
    sent = alert(engine, "ali\u202ece\u2066\u2069\u200b\u2028\u2029\x00\x1b" + "x" * 200)
    assert sent and {m.recipient for m in sent} >= {"carol@contoso.org"}
    subject = sent[0].subject
    assert "alice" + "x" * 58 + "…" in subject and "x" * 60 not in subject
    for text in (subject, sent[0].body, sent[0].html or ""):
        assert not any(ch in text for ch in "\u202e\u2066\u2069\u200b\u2028\u2029\x00\x1b")


def test_an_unknown_name_is_never_named(engine: Engine) -> None:
    sent = alert(engine, INJECTION, known=False)
    assert sent
    for message in sent:
        text = "\n".join([message.subject, message.body, message.html or ""])
        assert "urgent" not in text and "disabled" not in text and "999 321" not in text
        assert UNKNOWN in message.body.lower()


def test_one_alert_per_name_an_hour(engine: Engine, clock: FrozenClock) -> None:
    assert alert(engine, "alice")
    clock.advance(minutes=59)
    assert alert(engine, "alice") == []  # the second within the hour is not sent
    assert alert(engine, "bob")  # another name is another alert
    assert alert(engine, "made up", known=False)
    assert alert(engine, "made up", known=False) == []
    clock.advance(minutes=2)
    assert alert(engine, "alice")


def test_at_most_so_many_alerts_an_hour(engine: Engine, clock: FrozenClock) -> None:
    limit = Notifier.ALERTS_PER_HOUR
    sent = [bool(alert(engine, f"name{n}", known=False)) for n in range(limit + 5)]
    assert sent == [True] * limit + [False] * 5
    clock.advance(minutes=61)
    assert alert(engine, "one more", known=False)


def test_a_made_up_name_blocked_is_named_only_in_the_audit_log(engine: Engine) -> None:
    names = [f"{INJECTION}{n:02d}" for n in range(40)]
    # a decoy whose methods include a code by email (its codes never arrive)
    name = next(n for n in names if "email" in {
        m.kind.value for m in engine.session(TERMINAL).start("reset", n).methods})
    state = engine.session(TERMINAL).start("reset", name)
    sent = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    with pytest.raises(Blocked):
        for n in range(10):
            with contextlib.suppress(WrongCode):
                engine.session(TERMINAL).verify_code(state.flow_id, sent.challenge.id, f"{n:08d}")  # type: ignore[union-attr]
    alerts = [m for m in engine.outbox_messages(50) if m.recipient == "carol@contoso.org"]
    assert len(alerts) == 1
    assert "urgent" not in alerts[0].subject + alerts[0].body
    assert UNKNOWN in alerts[0].body.lower()
    with engine.db.connect() as conn:
        logged = set(conn.execute(select(audit_events.c.username).where(
            audit_events.c.support_code == state.support_code)).scalars())
    assert logged == {name}


# ---------------------------------------------------------------- one name however typed


def test_the_directory_finds_one_account_however_its_name_is_typed(engine: Engine) -> None:
    with engine.db.begin() as conn:
        john = engine.directory.add_user(conn, "John  Doe")  # stored in the one form
    with engine.db.connect() as conn:
        for typed in ("john doe", "john  doe", " JOHN doe ", "john\u00a0 doe", "John\tDoe"):
            found = engine.directory.find(conn, typed)
            assert found is not None and found.id == john, repr(typed)
            assert found.username == "john doe"
        alice = engine.directory.find(conn, " ALICE ")
        assert alice is not None and alice.username == "alice"
