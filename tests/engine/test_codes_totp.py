"""One-time codes (8 digits, 10 minutes, single use, resend after 60 s) and TOTP (RFC 6238)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.backend import CodeExpired, InvalidInput, ResendTooSoon, Step, WrongCode
from kiosk.engine.clock import FrozenClock
from kiosk.engine.crypto import new_code
from kiosk.engine.demo import BOB_TOTP_SECRET
from kiosk.engine.engine import Engine
from kiosk.engine.schema import challenges
from kiosk.engine.totp import Totp, code_at, matching_step, new_secret
from tests.support.engine import TERMINAL, last_code, make_engine, wrong


def sent(engine: Engine, user: str = "alice"):  # type: ignore[no-untyped-def]
    state = engine.session(TERMINAL).start("reset", user)
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None
    return state, state.challenge.id, last_code(engine)


def test_codes_are_eight_uniform_digits() -> None:
    codes = [new_code(8) for _ in range(2000)]
    assert all(len(c) == 8 and c.isdigit() for c in codes)
    assert len(set(codes)) > 1990
    first_digits = {c[0] for c in codes}
    assert first_digits == set("0123456789")  # leading zeros are kept


def test_only_a_keyed_hash_of_the_code_is_stored(engine: Engine) -> None:
    _, challenge_id, code = sent(engine)
    with engine.db.connect() as conn:
        row = conn.execute(select(challenges).where(challenges.c.id == challenge_id)).one()
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert all(code not in str(value) for value in row)


def test_challenge_shows_the_masked_address_and_timers(engine: Engine, clock: FrozenClock) -> None:
    state, _, _ = sent(engine)
    assert state.challenge.masked == "a•••@c•••.org"
    assert (state.challenge.expires_at - clock.now()).total_seconds() == 600
    assert (state.challenge.resend_at - clock.now()).total_seconds() == 60
    assert state.challenge.code_length == 8


def test_a_code_is_valid_for_ten_minutes(tmp_path: Path, clock: FrozenClock) -> None:
    engine = make_engine(tmp_path, clock)
    state, challenge_id, code = sent(engine)
    clock.advance(minutes=9, seconds=59)
    assert engine.session(TERMINAL).verify_code(state.flow_id, challenge_id, code).step == \
        Step.NEW_PASSWORD
    state, challenge_id, code = sent(engine)
    clock.advance(minutes=10)
    with pytest.raises(CodeExpired) as err:
        engine.session(TERMINAL).verify_code(state.flow_id, challenge_id, code)
    assert err.value.params["reason"] == "expired"


def test_a_code_works_once(engine: Engine) -> None:
    state, challenge_id, code = sent(engine)
    engine.session(TERMINAL).verify_code(state.flow_id, challenge_id, code)
    with pytest.raises(Exception) as err:  # the flow moved on: the step is gone too
        engine.session(TERMINAL).verify_code(state.flow_id, challenge_id, code)
    assert err.value.__class__.__name__ in ("StepOutOfOrder", "CodeExpired")


def test_the_same_code_cannot_be_claimed_twice_even_in_a_race(engine: Engine) -> None:
    state, challenge_id, code = sent(engine)
    with engine.db.begin() as conn:  # someone else claimed it a moment before
        conn.execute(challenges.update().where(challenges.c.id == challenge_id)
                     .values(used_at=engine.clock.now()))
    with pytest.raises(CodeExpired) as err:
        engine.session(TERMINAL).verify_code(state.flow_id, challenge_id, code)
    assert err.value.params["reason"] == "used"


def test_resend_waits_sixty_seconds_and_replaces_the_code(engine: Engine,
                                                          clock: FrozenClock) -> None:
    state, first_id, first_code = sent(engine)
    clock.advance(seconds=59)
    with pytest.raises(ResendTooSoon) as err:
        engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert err.value.params["retry_after"] == 1
    clock.advance(seconds=1)
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.challenge.id != first_id
    with pytest.raises(CodeExpired) as old:
        engine.session(TERMINAL).verify_code(state.flow_id, first_id, first_code)
    assert old.value.params["reason"] == "superseded"
    engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id, last_code(engine))


def test_switching_method_is_not_held_up_by_the_cooldown(engine: Engine) -> None:
    state, _, _ = sent(engine)
    state = engine.session(TERMINAL).send_code(state.flow_id, "mobile", "text")
    assert state.challenge.method.value == "mobile"


def test_a_wrong_code_is_refused(engine: Engine) -> None:
    state, challenge_id, code = sent(engine)
    with pytest.raises(WrongCode):
        engine.session(TERMINAL).verify_code(state.flow_id, challenge_id, wrong(code))
    # spaces and dashes, as people type or paste them, are fine
    spaced = f"{code[:4]} - {code[4:]}"
    assert engine.session(TERMINAL).verify_code(state.flow_id, challenge_id, spaced).step == \
        Step.NEW_PASSWORD


@pytest.mark.parametrize(
    "bad", ["1234567", "123456789", "abcdefgh", "１２３４５６７８", "", None, 5])
def test_malformed_codes_are_input_errors_and_not_counted(engine: Engine, bad: object) -> None:
    state, challenge_id, _ = sent(engine)
    with pytest.raises(InvalidInput):
        engine.session(TERMINAL).verify_code(state.flow_id, challenge_id, bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------- TOTP

# RFC 6238 Appendix B, SHA1 rows: (unix time, 8-digit TOTP); key = ASCII "12345678901234567890"
RFC6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("unix_time", "expected"), RFC6238_SHA1)
def test_rfc6238_sha1_vectors(unix_time: int, expected: str) -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()
    totp = Totp(secret, digits=8, interval=30)
    assert totp.at(unix_time) == expected


def test_new_secrets_have_160_bits() -> None:
    secret = new_secret()
    assert len(base64.b32decode(secret)) * 8 == 160
    with pytest.raises(binascii.Error):
        base64.b32decode(secret + "1")


def test_totp_window_is_one_step_either_side() -> None:
    now = datetime(2026, 3, 1, 12, 0, 15, tzinfo=UTC)
    step = Totp(BOB_TOTP_SECRET).timecode(now)
    for offset, accepted in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        code = Totp(BOB_TOTP_SECRET).generate_otp(step + offset)
        assert (matching_step(BOB_TOTP_SECRET, code, now) is not None) is accepted, offset


def test_bob_cannot_replay_a_used_totp_step(engine: Engine, clock: FrozenClock) -> None:
    code = code_at(BOB_TOTP_SECRET, clock.now())
    state = engine.session(TERMINAL).start("reset", "bob")
    engine.session(TERMINAL).verify_totp(state.flow_id, code)
    state = engine.session(TERMINAL).start("reset", "bob")
    with pytest.raises(WrongCode):
        engine.session(TERMINAL).verify_totp(state.flow_id, code)
    # nor the previous step (it is older than the one used)
    clock.advance(seconds=30)
    with pytest.raises(WrongCode):
        engine.session(TERMINAL).verify_totp(state.flow_id, code_at(BOB_TOTP_SECRET,
                                                            clock.now().replace(second=0)))
    clock.advance(seconds=30)
    state2 = engine.session(TERMINAL).verify_totp(state.flow_id, code_at(BOB_TOTP_SECRET,
                                                                         clock.now()))
    assert state2.step == Step.NEW_PASSWORD


def test_bob_totp_at_the_window_edges(engine: Engine, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))
    state = engine.session(TERMINAL).start("reset", "bob")
    late = code_at(BOB_TOTP_SECRET, datetime(2026, 3, 1, 11, 59, 0, tzinfo=UTC))  # 2 steps ago
    with pytest.raises(WrongCode):
        engine.session(TERMINAL).verify_totp(state.flow_id, late)
    ok = code_at(BOB_TOTP_SECRET, datetime(2026, 3, 1, 11, 59, 30, tzinfo=UTC))  # 1 step ago
    assert engine.session(TERMINAL).verify_totp(state.flow_id, ok).step == Step.NEW_PASSWORD
