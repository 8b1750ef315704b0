"""Password writeback and unlock through the Engine against a real slapd with ppolicy."""

from __future__ import annotations

from typing import Any

import pytest
from ldap3 import Connection
from sqlalchemy import select

from kiosk.backend import PasswordRejected, ServiceUnavailable, Step
from kiosk.engine.audit import events_for
from kiosk.engine.schema import flows, users
from tests.support.ldap_server import (
    PEOPLE,
    START_PASSWORD,
    TERMINAL,
    EngineMaker,
    UserMaker,
    binds,
    email_gate,
    entry,
)

NEW_PASSWORD = "Orbit lantern kiosk 4417"
OTHER_PASSWORD = "Velvet harbour mosaic 2093"


def proven_reset(engine: Any, uid: str) -> str:
    state = engine.session(TERMINAL).start("reset", uid)
    state = email_gate(engine, state.flow_id, f"{uid}@example.org")
    assert state.step == Step.NEW_PASSWORD
    return str(state.flow_id)


def test_reset_writes_the_password_back(
        server: Any, make_engine: EngineMaker, make_user: UserMaker, admin: Connection) -> None:
    uid = make_user("reset")
    engine = make_engine()
    flow = proven_reset(engine, uid)
    state = engine.session(TERMINAL).set_password(flow, NEW_PASSWORD)
    assert state.step == Step.DONE and state.result == "reset"
    assert binds(server, uid, NEW_PASSWORD)
    assert not binds(server, uid, START_PASSWORD)
    stored = entry(admin, uid, "userPassword", "pwdChangedTime", "pwdHistory")
    assert stored["userPassword"][0].startswith(b"{SSHA}")  # hashed by slapd, never clear
    assert stored["pwdHistory"]  # ppolicy recorded the old one
    with engine.db.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == uid)).one()
        assert row.password_hash is None  # the kiosk keeps no copy
        assert row.password_changed_at is not None and not row.locked
        flow_row = conn.execute(select(flows).where(flows.c.id == state.flow_id)).one()
        trail = events_for(conn, flow_row.correlation_id)
    assert any(e["activity"] == "reset" and e["result"] == "succeeded"
               for e in trail)


def test_directory_history_refusal_is_a_rule_violation(
        server: Any, make_engine: EngineMaker, make_user: UserMaker) -> None:
    uid = make_user("history")
    engine = make_engine()
    engine.session(TERMINAL).set_password(proven_reset(engine, uid), NEW_PASSWORD)

    flow = proven_reset(engine, uid)
    with engine.db.connect() as conn:
        before = conn.execute(select(users.c.password_changed_at).where(
            users.c.username == uid)).scalar()
    # the kiosk keeps no history for directory users: ppolicy (pwdInHistory 3) refuses it
    with pytest.raises(PasswordRejected) as refused:
        engine.session(TERMINAL).set_password(flow, START_PASSWORD)
    violation = refused.value.params["violations"][0]
    assert violation["rule"] == "directory"
    assert violation["params"]["reason"] == "passwordInHistory"
    assert "used before" in violation["message"]
    assert binds(server, uid, NEW_PASSWORD) and not binds(server, uid, START_PASSWORD)
    # nothing written: the flow is still waiting for a password, the shadow row unchanged
    with engine.db.connect() as conn:
        assert conn.execute(select(flows.c.step).where(flows.c.id == flow)).scalar() == \
            "new_password"
        assert conn.execute(select(users.c.password_changed_at).where(
            users.c.username == uid)).scalar() == before
    # the same password again (the current one) is refused the same way
    with pytest.raises(PasswordRejected):
        engine.session(TERMINAL).set_password(flow, NEW_PASSWORD)
    # another password goes through on the same flow
    assert engine.session(TERMINAL).set_password(flow, OTHER_PASSWORD).step == Step.DONE
    assert binds(server, uid, OTHER_PASSWORD)


def test_directory_quality_refusal_is_a_rule_violation(
        server: Any, make_engine: EngineMaker, make_user: UserMaker) -> None:
    """The kiosk allows 12 characters here; the directory's ppolicy wants 14."""
    uid = make_user("quality")
    engine = make_engine(password={"min_length": 12})
    flow = proven_reset(engine, uid)
    short = "Qz7-vexo-Lumb"  # 13 characters
    assert engine.session(TERMINAL).check_password(flow, short).ok
    with pytest.raises(PasswordRejected) as refused:
        engine.session(TERMINAL).set_password(flow, short)
    violation = refused.value.params["violations"][0]
    assert violation["rule"] == "directory"
    assert violation["params"]["reason"] == "passwordTooShort"
    assert binds(server, uid, START_PASSWORD)


def test_the_kiosk_policy_runs_first(make_engine: EngineMaker, make_user: UserMaker) -> None:
    uid = make_user("kioskrules")
    engine = make_engine()
    flow = proven_reset(engine, uid)
    with pytest.raises(PasswordRejected) as refused:
        engine.session(TERMINAL).set_password(flow, "password")
    assert "directory" not in [v["rule"] for v in refused.value.params["violations"]]


def lock_by_failures(server: Any, uid: str) -> None:
    for _ in range(3):  # pwdMaxFailure 3
        assert not binds(server, uid, "not the password")


def test_lockout_then_unlock_flow(
        server: Any, make_engine: EngineMaker, make_user: UserMaker, admin: Connection) -> None:
    uid = make_user("locked")
    engine = make_engine()
    lock_by_failures(server, uid)
    assert "pwdAccountLockedTime" in entry(admin, uid, "pwdAccountLockedTime")
    assert not binds(server, uid, START_PASSWORD)  # locked: even the right password fails

    state = engine.session(TERMINAL).start("unlock", uid)
    with engine.db.connect() as conn:
        assert conn.execute(select(users.c.locked).where(users.c.username == uid)).scalar()
    state = email_gate(engine, state.flow_id, f"{uid}@example.org")
    assert state.step == Step.UNLOCK
    state = engine.session(TERMINAL).unlock(state.flow_id)
    assert state.step == Step.DONE and state.result == "unlocked"
    assert "pwdAccountLockedTime" not in entry(admin, uid, "pwdAccountLockedTime")
    assert binds(server, uid, START_PASSWORD)  # the old password works again
    with engine.db.connect() as conn:
        assert not conn.execute(select(users.c.locked).where(users.c.username == uid)).scalar()


def test_reset_also_unlocks(
        server: Any, make_engine: EngineMaker, make_user: UserMaker, admin: Connection) -> None:
    uid = make_user("resetlocked")
    engine = make_engine()
    lock_by_failures(server, uid)
    state = engine.session(TERMINAL).set_password(proven_reset(engine, uid), NEW_PASSWORD)
    assert state.step == Step.DONE
    assert "pwdAccountLockedTime" not in entry(admin, uid, "pwdAccountLockedTime")
    assert "pwdFailureTime" not in entry(admin, uid, "pwdFailureTime")
    assert binds(server, uid, NEW_PASSWORD)


def test_set_locked_writes_pwd_account_locked_time(
        server: Any, make_engine: EngineMaker, make_user: UserMaker, admin: Connection) -> None:
    uid = make_user("lockme")
    engine = make_engine(ldap={"clear_failures": True})
    assert not binds(server, uid, "one wrong try")  # one pwdFailureTime
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, uid)
        assert user is not None
        engine.directory.set_locked(conn, user.id, True)
    assert "pwdAccountLockedTime" in entry(admin, uid, "pwdAccountLockedTime")
    assert not binds(server, uid, START_PASSWORD)
    with engine.db.begin() as conn:
        assert engine.directory.get(conn, user.id).locked
        engine.directory.set_locked(conn, user.id, False)
    after = entry(admin, uid, "pwdAccountLockedTime", "pwdFailureTime")
    assert "pwdAccountLockedTime" not in after
    assert "pwdFailureTime" not in after  # clear_failures: the Relax control did it
    assert binds(server, uid, START_PASSWORD)


def test_pwd_reset_is_cleared_after_a_self_service_reset(
        make_engine: EngineMaker, make_user: UserMaker, admin: Connection) -> None:
    uid = make_user("mustchange")
    admin.modify(f"uid={uid},{PEOPLE}", {"pwdReset": [("MODIFY_REPLACE", ["TRUE"])]})
    engine = make_engine()
    engine.session(TERMINAL).set_password(proven_reset(engine, uid), NEW_PASSWORD)
    assert "pwdReset" not in entry(admin, uid, "pwdReset")



def test_a_change_sends_the_current_password(
        server: Any, make_engine: EngineMaker, make_user: UserMaker) -> None:
    """RFC 3062 with oldPasswd: slapd checks it, as for the user's own change."""
    uid = make_user("changer")
    engine = make_engine(registration={"require": False})
    state = engine.session(TERMINAL).start("change", uid)
    state = engine.session(TERMINAL).sign_in(state.flow_id, START_PASSWORD)
    assert state.step == Step.NEW_PASSWORD
    state = engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    assert state.step == Step.DONE and state.result == "changed"
    assert binds(server, uid, NEW_PASSWORD) and not binds(server, uid, START_PASSWORD)
    with engine.db.begin() as conn:  # a wrong current password is refused by slapd itself
        user = engine.directory.find(conn, uid)
        assert user is not None
        with pytest.raises(ServiceUnavailable):
            engine.directory.store_password(conn, user, OTHER_PASSWORD, engine.clock.now(),
                                            0, current=START_PASSWORD)
    assert binds(server, uid, NEW_PASSWORD)
