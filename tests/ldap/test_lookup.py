"""Lookups against a real slapd: shadow rows, directory contacts, nested groups, renames."""

from __future__ import annotations

from typing import Any

import pytest
from ldap3 import Connection
from sqlalchemy import func, select

from kiosk.backend import NotEligible, QuestionAnswer, Step
from kiosk.engine import registry
from kiosk.engine.ldap_directory import LdapDirectory, LdapUser
from kiosk.engine.schema import users
from tests.support.ldap_server import (
    PEOPLE,
    START_PASSWORD,
    TERMINAL,
    EngineMaker,
    UserMaker,
    email_gate,
    entry,
)


def test_lookup_makes_a_shadow_row_keyed_by_entry_uuid(
        make_engine: EngineMaker, make_user: UserMaker, admin: Connection) -> None:
    uid = make_user("lookup", mobile="(425) 555-0199", telephoneNumber="+49 30 1234567")
    engine = make_engine(ldap={"phone_region": "US"})
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, uid.upper())  # names match case-insensitively
        assert isinstance(user, LdapUser)
        assert (user.username, user.display_name, user.given_name, user.family_name) == (
            uid, "Lookup Tester", "Lookup", "Tester")
        assert user.enabled and not user.locked and not user.is_admin
        assert user.password_hash is None and user.dn == f"uid={uid},{PEOPLE}"
        uuid = entry(admin, uid, "entryUUID")["entryUUID"][0].decode()
        row = conn.execute(select(users).where(users.c.id == user.id)).one()
        assert row.external_id == uuid and user.external_id == uuid
        # directory contacts become registered methods (phones in E.164)
        assert registry.load(conn, user.id).contacts == {
            "email": f"{uid}@example.org", "mobile": "+14255550199", "office": "+49301234567"}
        # a second lookup reuses the row
        again = engine.directory.find(conn, uid)
        assert again is not None and again.id == user.id
        assert conn.execute(select(func.count()).select_from(users)).scalar() == 1
        assert engine.directory.get(conn, user.id).username == uid
        assert engine.directory.find(conn, "nobody-here") is None
        assert engine.directory.get_or_none(conn, -1) is None
        assert engine.directory.history_hashes(conn, user.id, 5) == []


def test_a_name_is_found_however_its_spaces_and_case_are_typed(
        make_engine: EngineMaker, make_user: UserMaker) -> None:
    """The kiosk collapses white space and folds case; LDAP's own matching ignores case and
    insignificant spaces, so every way of typing the name reaches the one entry (and the
    throttles, which key on the account, count them together)."""
    uid = make_user("spaced", uid="Jane  Spaced0x")
    engine = make_engine()
    with engine.db.begin() as conn:
        found = {typed: engine.directory.find(conn, typed)
                 for typed in (uid, "jane spaced0x", " JANE  SPACED0X ", "jane\u00a0 spaced0x")}
    assert all(user is not None for user in found.values()), found
    assert len({user.id for user in found.values()}) == 1  # type: ignore[union-attr]
    assert {user.username for user in found.values()} == {"jane spaced0x"}  # type: ignore[union-attr]


def test_directory_contacts_can_be_turned_off(make_engine: EngineMaker,
                                              make_user: UserMaker) -> None:
    uid = make_user("nocontact")
    engine = make_engine(ldap={"use_directory_contacts": False})
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, uid)
        assert user is not None and registry.load(conn, user.id).contacts == {}


def test_directory_changes_reach_the_shadow_row(make_engine: EngineMaker,
                                                make_user: UserMaker,
                                                admin: Connection) -> None:
    uid = make_user("changes")
    engine = make_engine()
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, uid)
        assert user is not None
    admin.modify(f"uid={uid},{PEOPLE}", {"displayName": [("MODIFY_REPLACE", ["New Name"])],
                                         "mail": [("MODIFY_REPLACE", ["new@example.org"])]})
    with engine.db.begin() as conn:
        fresh = engine.directory.get(conn, user.id)
        assert fresh.display_name == "New Name"
        assert registry.load(conn, user.id).contacts["email"] == "new@example.org"
        assert conn.execute(select(users.c.display_name).where(users.c.id == user.id)
                            ).scalar() == "New Name"


def test_nested_groups_decide_scope_and_admin(make_engine: EngineMaker,
                                              make_user: UserMaker) -> None:
    engineer = make_user("eng", groups=("engineering",))  # engineering ⊂ staff ⊂ sspr-users
    outsider = make_user("out", groups=())
    boss = make_user("boss", groups=("it-admins",))  # it-admins ⊂ kiosk-admins
    looped = make_user("loop", groups=("loop-a",))  # loop-a ⊂ loop-b ⊂ loop-a
    engine = make_engine()
    d = engine.directory
    with engine.db.begin() as conn:
        eng = d.find(conn, engineer)
        assert eng is not None and not eng.is_admin
        assert d.group_names(conn, eng.id) == {"engineering", "staff", "sspr-users"}
        out = d.find(conn, outsider)
        assert out is not None and d.group_names(conn, out.id) == set()
        adm = d.find(conn, boss)
        assert adm is not None and adm.is_admin
        assert d.group_names(conn, adm.id) == {"it-admins", "kiosk-admins"}
        loop = d.find(conn, looped)
        assert loop is not None and d.group_names(conn, loop.id) == {"loop-a", "loop-b"}
        assert d.group_names(conn, -1) == set()

    assert engine.session(TERMINAL).start("reset", engineer).step == Step.CHOOSE_METHOD
    # out of scope: a decoy (enumeration-safe), or said so when that is switched off
    assert engine.session(TERMINAL).start("reset", outsider).step == Step.CHOOSE_METHOD
    with pytest.raises(NotEligible) as refused:
        make_engine(privacy={"enumeration_safe": False}).session(TERMINAL).start("reset", outsider)
    assert refused.value.params["reason"] == "scope"
    # administrators may always reset, and need two methods (email + mobile here); the
    # second shows after the first
    state = engine.session(TERMINAL).start("reset", boss)
    assert state.gates_required == 1
    state = email_gate(engine, state.flow_id, f"{boss}@example.org")
    assert state.step == Step.CHOOSE_METHOD and state.gates_required == 2


def test_group_depth_is_bounded(make_engine: EngineMaker, make_user: UserMaker) -> None:
    uid = make_user("shallow", groups=("engineering",))
    engine = make_engine(ldap={"nested_depth": 2})
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, uid)
        assert user is not None
        assert engine.directory.group_names(conn, user.id) == {"engineering", "staff"}


def test_admin_lock_means_disabled(make_engine: EngineMaker, make_user: UserMaker,
                                   admin: Connection) -> None:
    """pwdAccountLockedTime 000001010000Z: locked by an administrator, not self-service."""
    uid = make_user("adminlocked")
    admin.modify(f"uid={uid},{PEOPLE}",
                 {"pwdAccountLockedTime": [("MODIFY_REPLACE", ["000001010000Z"])]})
    engine = make_engine(privacy={"enumeration_safe": False})
    with pytest.raises(NotEligible) as refused:
        engine.session(TERMINAL).start("unlock", uid)
    assert refused.value.params["reason"] == "disabled"


def test_a_deleted_entry_disables_the_shadow_row(make_engine: EngineMaker,
                                                 make_user: UserMaker,
                                                 admin: Connection) -> None:
    uid = make_user("leaver")
    engine = make_engine()
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, uid)
        assert user is not None
    admin.delete(f"uid={uid},{PEOPLE}")
    with engine.db.begin() as conn:
        gone = engine.directory.get(conn, user.id)
        assert not gone.enabled
        assert engine.directory.find(conn, uid) is None


def register_questions(engine: Any, uid: str) -> None:
    state = engine.session(TERMINAL).start("register", uid)
    state = engine.session(TERMINAL).sign_in(state.flow_id, START_PASSWORD)
    # the directory's mail is a registered method: it proves the step-up
    state = email_gate(engine, state.flow_id, f"{uid}@example.org")
    assert state.step == Step.REGISTER
    engine.session(TERMINAL).set_questions(state.flow_id, [
        QuestionAnswer(question_id="pet", answer="Whiskers"),
        QuestionAnswer(question_id="city", answer="Lisbon"),
        QuestionAnswer(question_id="nickname", answer="Tiny"),
    ])
    engine.session(TERMINAL).finish_registration(state.flow_id)


def test_a_rename_keeps_registered_questions(make_engine: EngineMaker, make_user: UserMaker,
                                             admin: Connection) -> None:
    old = make_user("renamed")
    engine = make_engine()
    register_questions(engine, old)
    with engine.db.begin() as conn:
        before = engine.directory.find(conn, old)
        assert before is not None and len(registry.load(conn, before.id).answers) == 3

    new = old + "-new"
    assert admin.modify_dn(f"uid={old},{PEOPLE}", f"uid={new}"), admin.result
    # someone else now takes the old name: a different entry, a different shadow row
    make_user("renamed", uid=old)
    with engine.db.begin() as conn:
        after = engine.directory.find(conn, new)
        assert after is not None and after.id == before.id and after.username == new
        assert len(registry.load(conn, after.id).answers) == 3
        other = engine.directory.find(conn, old)
        assert other is not None and other.id != before.id
        assert registry.load(conn, other.id).answers == []
    # the renamed user resets with the questions registered under the old name
    state = engine.session(TERMINAL).start("reset", new)
    assert "questions" in [m.kind.value for m in state.methods]


def test_verify_password_binds_as_the_user(make_engine: EngineMaker,
                                           make_user: UserMaker) -> None:
    uid = make_user("binder")
    engine = make_engine()
    d = engine.directory
    with engine.db.begin() as conn:
        user = d.find(conn, uid)
    assert d.verify_password(user, START_PASSWORD)
    assert not d.verify_password(user, "wrong password here")
    assert not d.verify_password(user, "")  # an empty bind would be anonymous
    assert not d.verify_password(None, START_PASSWORD)
    assert isinstance(d, LdapDirectory) and d.stats()[0] > 0


def test_the_snapshot_cache_saves_lookups_and_our_writes_refresh_it(
        make_engine: EngineMaker, make_user: UserMaker) -> None:
    uid = make_user("cached")
    engine = make_engine(ldap={"cache_seconds": 60})
    d = engine.directory
    assert isinstance(d, LdapDirectory)
    with engine.db.begin() as conn:
        user = d.find(conn, uid)
        assert user is not None
        ops = d.stats()[0]
        for _ in range(3):
            assert d.get(conn, user.id).dn == user.dn
        assert d.group_names(conn, user.id) == {"engineering", "staff", "sspr-users"}
        assert d.stats()[0] == ops  # all from the snapshot
        d.set_locked(conn, user.id, True)
        assert d.get(conn, user.id).locked  # the write dropped the snapshot
        d.set_locked(conn, user.id, False)
        assert not d.get(conn, user.id).locked


def test_alert_addresses_come_from_the_admin_group(make_engine: EngineMaker,
                                                   make_user: UserMaker) -> None:
    """Nested members of kiosk-admins, found in the directory: no kiosk row needed."""
    boss = make_user("boss", groups=("it-admins",))  # it-admins ⊂ kiosk-admins
    direct = make_user("direct", groups=("kiosk-admins",))
    plain = make_user("plain")
    emails = make_engine().directory.admin_emails()
    assert {f"{boss}@example.org", f"{direct}@example.org"} <= set(emails)
    assert f"{plain}@example.org" not in emails
