"""Active Directory for real: the kiosk against a Samba AD domain controller (conftest's `dc`).

The service account holds only the delegated "Reset Password" right and write on lockoutTime
on OU=People (scripts/samba_dc.py); passwords go over LDAPS, trusted through the CA file.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from ldap3 import MODIFY_REPLACE, Connection
from sqlalchemy import select

from kiosk.backend import InvalidInput, NotEligible, PasswordRejected, QuestionAnswer, Step
from kiosk.engine import registry
from kiosk.engine.schema import flows, users
from tests.support.ldap_server import (
    AD_START_PASSWORD,
    TERMINAL,
    EngineMaker,
    UserMaker,
    ad_binds,
    ad_dn,
    last_code,
    samba_dc,
)

NEW_PASSWORD = "Orbit-Lantern-4417!"
OTHER_PASSWORD = "Velvet-Harbour-2093!"


def email_gate(engine: Any, flow_id: str, sam: str) -> Any:
    state = engine.session(TERMINAL).send_code(flow_id, "email", "email")
    assert state.challenge is not None
    return engine.session(TERMINAL).verify_code(flow_id, state.challenge.id,
                              last_code(engine, f"{sam}@kiosk.test"))


def proven(engine: Any, purpose: str, sam: str) -> Any:
    state = engine.session(TERMINAL).start(purpose, sam)
    return email_gate(engine, state.flow_id, sam)


def test_users_nested_groups_disabled_accounts_and_eligibility(
        make_ad_engine: EngineMaker, make_ad_user: UserMaker, ad_admin: Connection) -> None:
    member = make_ad_user("nested")  # engineering ⊂ staff ⊂ sspr-users
    outsider = make_ad_user("outsider", groups=())
    boss = make_ad_user("boss", groups=("it-admins",))  # it-admins ⊂ kiosk-admins
    disabled = make_ad_user("disabled")
    assert ad_admin.modify(ad_dn(disabled), {"userAccountControl": [(MODIFY_REPLACE, ["514"])]})
    engine = make_ad_engine()
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, member.upper())
        assert user is not None and user.username == member and user.enabled
        assert engine.directory.group_names(conn, user.id) >= {"engineering", "staff",
                                                                "sspr-users"}
        out = engine.directory.find(conn, outsider)
        assert out is not None and engine.directory.group_names(conn, out.id) == set()
        admin = engine.directory.find(conn, boss)
        assert admin is not None and admin.is_admin
        assert engine.directory.group_names(conn, admin.id) == {"it-admins", "kiosk-admins"}
        off = engine.directory.find(conn, disabled)
        assert off is not None and not off.enabled
        guid = conn.execute(select(users.c.external_id).where(users.c.id == user.id)).scalar()
    ad_admin.search(ad_dn(member), "(objectClass=*)", "BASE", attributes=["objectGUID"])
    raw = ad_admin.response[0]["raw_attributes"]["objectGUID"][0]
    assert str(uuid.UUID(bytes_le=raw)) == guid  # AD's little-endian GUID, as text
    # eligibility: in scope through nesting; out of scope (administrators may always reset,
    # with two methods); disabled. Said so with enumeration safety off (a decoy otherwise)
    assert engine.session(TERMINAL).start("reset", member).step == Step.CHOOSE_METHOD
    assert engine.session(TERMINAL).start("reset", boss).step == Step.CHOOSE_METHOD
    plain = make_ad_engine(privacy={"enumeration_safe": False})
    for name, purpose, reason in [(disabled, "reset", "disabled"),
                                  (outsider, "reset", "scope")]:
        with pytest.raises(NotEligible) as refused:
            plain.session(TERMINAL).start(purpose, name)
        assert refused.value.params["reason"] == reason


def test_reset_over_ldaps_with_only_the_delegated_right(
        dc: Any, make_ad_engine: EngineMaker, make_ad_user: UserMaker,
        ad_admin: Connection) -> None:
    sam = make_ad_user("reset")
    # the service account is no domain admin: writing anything but the password is refused
    service = dc.connect(samba_dc.SERVICE_DN, samba_dc.SERVICE_PW)
    assert not service.modify(ad_dn(sam), {"mail": [(MODIFY_REPLACE, ["x@kiosk.test"])]})
    assert service.result["description"] == "insufficientAccessRights"
    service.unbind()
    engine = make_ad_engine()
    state = proven(engine, "reset", sam)
    assert state.step == Step.NEW_PASSWORD
    state = engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    assert state.step == Step.DONE and state.result == "reset"
    assert ad_binds(dc, sam, NEW_PASSWORD)
    assert not ad_binds(dc, sam, AD_START_PASSWORD)
    # the domain's minimum age (1 day) binds the user's own changes, not a reset: another
    # reset right after this one is an administrative reset and goes through
    state = proven(engine, "reset", sam)
    state = engine.session(TERMINAL).set_password(state.flow_id, OTHER_PASSWORD)
    assert state.step == Step.DONE
    assert ad_binds(dc, sam, OTHER_PASSWORD)


@pytest.mark.parametrize(("password", "reason"), [
    ("meadow copper violin cascade", "insufficientPasswordQuality"),  # lowercase and spaces
])
def test_domain_refusals_are_rule_violations_the_visitor_can_read(
        make_ad_engine: EngineMaker, make_ad_user: UserMaker, password: str,
        reason: str) -> None:
    sam = make_ad_user("refused")
    engine = make_ad_engine()
    state = proven(engine, "reset", sam)
    with pytest.raises(PasswordRejected) as refused:
        engine.session(TERMINAL).set_password(state.flow_id, password)
    violation = refused.value.params["violations"][0]
    assert violation["rule"] == "directory", violation
    assert violation["params"]["reason"] == reason, violation
    assert "0000052D" in violation["params"]["directory_message"]


def test_a_fine_grained_policy_refusal_is_reported_as_its_own(
        make_ad_engine: EngineMaker, make_ad_user: UserMaker) -> None:
    """long-passwords' PSO wants 20 characters; the domain only 7."""
    sam = make_ad_user("pso", groups=("engineering", "long-passwords"))
    engine = make_ad_engine()
    state = proven(engine, "reset", sam)
    with pytest.raises(PasswordRejected) as refused:
        engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)  # 19 characters
    violation = refused.value.params["violations"][0]
    assert violation["params"]["reason"] == "passwordTooShort"
    assert violation["params"]["min_length"] == 20
    assert "20 characters" in violation["message"]
    with engine.db.connect() as conn:  # nothing written on the kiosk's side either
        assert conn.execute(select(users.c.password_changed_at).where(
            users.c.username == sam)).scalar() is None
    state = engine.session(TERMINAL).set_password(state.flow_id, "Orbit-Lantern-Kiosk-4417!")
    assert state.step == Step.DONE


def change(engine: Any, sam: str, current: str, new: str) -> Any:
    """The change flow: the current password, then the new one."""
    state = engine.session(TERMINAL).start("change", sam)
    state = engine.session(TERMINAL).sign_in(state.flow_id, current)
    assert state.step == Step.NEW_PASSWORD
    return engine.session(TERMINAL).set_password(state.flow_id, new)


def test_a_users_own_change_is_held_to_history_and_minimum_age(
        dc: Any, make_ad_engine: EngineMaker, make_ad_user: UserMaker) -> None:
    engine = make_ad_engine(registration={"require": False})  # straight to the new password
    # quick-change's PSO has no minimum age: the change goes through, and history applies
    quick = make_ad_user("quick", groups=("engineering", "quick-change"))
    assert change(engine, quick, AD_START_PASSWORD, NEW_PASSWORD).result == "changed"
    assert ad_binds(dc, quick, NEW_PASSWORD) and not ad_binds(dc, quick, AD_START_PASSWORD)
    with pytest.raises(PasswordRejected) as refused:
        change(engine, quick, NEW_PASSWORD, AD_START_PASSWORD)
    assert refused.value.params["violations"][0]["params"]["reason"] == "passwordInHistory"
    # the domain's minimum age (1 day) holds a user's own change back after the last set
    # (here: the account's creation); a reset would go through
    slow = make_ad_user("slow")
    with pytest.raises(PasswordRejected) as refused:
        change(engine, slow, AD_START_PASSWORD, NEW_PASSWORD)
    violation = refused.value.params["violations"][0]
    assert violation["params"]["reason"] == "passwordTooYoung"
    assert "changed too recently" in violation["message"]
    assert ad_binds(dc, slow, AD_START_PASSWORD)
    with engine.db.connect() as conn:  # the current password is kept sealed, never as typed
        kept = [str(r.data) for r in conn.execute(select(flows)).all()]
    assert kept and not any(AD_START_PASSWORD in d or NEW_PASSWORD in d for d in kept)


def lock_by_wrong_binds(dc: Any, sam: str, tries: int = 3) -> None:
    for _ in range(tries):
        assert not ad_binds(dc, sam, "Not-The-Password-1!")


def test_unlock_after_a_real_lockout(
        dc: Any, make_ad_engine: EngineMaker, make_ad_user: UserMaker,
        ad_admin: Connection) -> None:
    sam = make_ad_user("locked")
    lock_by_wrong_binds(dc, sam)  # the domain's threshold: 3
    assert not ad_binds(dc, sam, AD_START_PASSWORD)  # locked: the right password fails too
    engine = make_ad_engine()
    state = engine.session(TERMINAL).start("unlock", sam)
    with engine.db.connect() as conn:
        assert conn.execute(select(users.c.locked).where(users.c.username == sam)).scalar()
    state = email_gate(engine, state.flow_id, sam)
    assert state.step == Step.UNLOCK
    state = engine.session(TERMINAL).unlock(state.flow_id)
    assert state.step == Step.DONE and state.result == "unlocked"
    assert ad_binds(dc, sam, AD_START_PASSWORD)
    ad_admin.search(ad_dn(sam), "(objectClass=*)", "BASE", attributes=["lockoutTime"])
    assert ad_admin.response[0]["raw_attributes"]["lockoutTime"] == [b"0"]


def test_a_reset_also_unlocks(dc: Any, make_ad_engine: EngineMaker,
                              make_ad_user: UserMaker) -> None:
    sam = make_ad_user("resetlocked")
    lock_by_wrong_binds(dc, sam)
    engine = make_ad_engine()
    state = proven(engine, "reset", sam)
    state = engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    assert state.step == Step.DONE and state.result == "reset_unlocked"
    assert ad_binds(dc, sam, NEW_PASSWORD)


def test_a_lock_older_than_the_lockout_duration_is_no_lock(
        dc: Any, make_ad_engine: EngineMaker, make_ad_user: UserMaker,
        ad_admin: Connection) -> None:
    """short-lockout's PSO: 2 wrong binds lock for 1 minute, cut here to 2 seconds."""
    ad_admin.modify(f"CN=short-lockout,CN=Password Settings Container,CN=System,"
                    f"{samba_dc.SUFFIX}",
                    {"msDS-LockoutDuration": [(MODIFY_REPLACE, ["-20000000"])],
                     "msDS-LockoutObservationWindow": [(MODIFY_REPLACE, ["-20000000"])]})
    sam = make_ad_user("expiring", groups=("engineering", "short-lockout"))
    lock_by_wrong_binds(dc, sam, 2)
    engine = make_ad_engine()
    deadline = time.monotonic() + 60
    while True:  # the DC lifts the lock after the duration; lockoutTime stays set
        with engine.db.begin() as conn:
            user = engine.directory.find(conn, sam)
        assert user is not None
        if not user.locked:
            break
        assert time.monotonic() < deadline, "the lock did not expire"
        time.sleep(0.2)
    ad_admin.search(ad_dn(sam), "(objectClass=*)", "BASE", attributes=["lockoutTime"])
    assert int(ad_admin.response[0]["raw_attributes"]["lockoutTime"][0]) > 0
    assert ad_binds(dc, sam, AD_START_PASSWORD)


def test_contacts_come_from_the_entry_and_follow_it(
        make_ad_engine: EngineMaker, make_ad_user: UserMaker, ad_admin: Connection) -> None:
    sam = make_ad_user("contact", telephoneNumber="+1 206 555 0100")
    engine = make_ad_engine()
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, sam)
        assert user is not None
        assert registry.load(conn, user.id).contacts == {
            "email": f"{sam}@kiosk.test", "mobile": "+14255550142", "office": "+12065550100"}
    # the mobile removed from the directory is no longer offered
    assert ad_admin.modify(ad_dn(sam), {"mobile": [(MODIFY_REPLACE, [])]}), ad_admin.result
    state = engine.session(TERMINAL).start("reset", sam)
    assert "mobile" not in [m.kind.value for m in state.methods]
    with engine.db.begin() as conn:
        assert "mobile" not in registry.load(conn, user.id).contacts
    # nor can it be registered in the kiosk: the next lookup would drop it again
    state = engine.session(TERMINAL).start("register", sam)
    state = engine.session(TERMINAL).sign_in(state.flow_id, AD_START_PASSWORD)
    state = email_gate(engine, state.flow_id, sam)
    assert state.step == Step.REGISTER
    # the registration screen does not offer what the directory supplies
    assert state.registration is not None
    offered = {kind.value for kind in state.registration.available}
    assert not offered & {"email", "mobile", "office"}, offered
    with pytest.raises(InvalidInput) as refused:
        engine.session(TERMINAL).add_phone(state.flow_id, "mobile", "+1 206 555 0199", "text")
    assert "directory" in refused.value.message


def test_a_rename_keeps_the_registered_methods_by_object_guid(
        make_ad_engine: EngineMaker, make_ad_user: UserMaker, ad_admin: Connection) -> None:
    old = make_ad_user("renamed", groups=("engineering", "quick-change"))
    engine = make_ad_engine()
    state = engine.session(TERMINAL).start("register", old)
    state = engine.session(TERMINAL).sign_in(state.flow_id, AD_START_PASSWORD)
    state = email_gate(engine, state.flow_id, old)
    assert state.step == Step.REGISTER
    engine.session(TERMINAL).set_questions(state.flow_id, [
        QuestionAnswer(question_id="pet", answer="Whiskers"),
        QuestionAnswer(question_id="city", answer="Lisbon"),
        QuestionAnswer(question_id="nickname", answer="Tiny")])
    engine.session(TERMINAL).finish_registration(state.flow_id)
    new = old + "x"
    assert ad_admin.modify(ad_dn(old), {"sAMAccountName": [(MODIFY_REPLACE, [new])]}), \
        ad_admin.result
    with engine.db.begin() as conn:
        assert engine.directory.find(conn, old) is None
        after = engine.directory.find(conn, new)
        assert after is not None and after.username == new
        assert len(registry.load(conn, after.id).answers) == 3
    state = engine.session(TERMINAL).start("reset", new)
    assert "questions" in [m.kind.value for m in state.methods]


def test_directory_admins_who_never_used_the_kiosk_are_alerted(
        make_ad_engine: EngineMaker, make_ad_user: UserMaker) -> None:
    never = make_ad_user("quietadmin", groups=("it-admins",))  # it-admins ⊂ kiosk-admins
    gone = make_ad_user("offadmin", groups=("it-admins",), userAccountControl="514")
    boss = make_ad_user("boss", groups=("it-admins",))
    engine = make_ad_engine()
    state = proven(engine, "reset", boss)
    assert state.step == Step.CHOOSE_METHOD  # an administrator proves a second method
    state = engine.session(TERMINAL).send_code(state.flow_id, "mobile", "text")
    assert state.challenge is not None
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                               last_code(engine, "+14255550142"))
    assert engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD).step == Step.DONE
    alerted = {m.recipient for m in engine.outbox_messages(50)
               if m.recipient.endswith("@kiosk.test") and boss not in m.recipient
               and m.channel == "email" and "code" not in m.body.lower()}
    with engine.db.connect() as conn:
        assert conn.execute(select(users.c.id).where(users.c.username == never)).first() \
            is None  # never used the kiosk: no row of its own
    assert f"{never}@kiosk.test" in alerted
    assert f"{gone}@kiosk.test" not in alerted  # disabled in the directory
