"""Active Directory for real: the kiosk against a Samba AD domain controller (conftest's `dc`).

The service account holds only the delegated "Reset Password" right and write on lockoutTime
on OU=People (scripts/samba_dc.py); passwords go over LDAPS, trusted through the CA file.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from ldap3 import MODIFY_REPLACE, Connection
from sqlalchemy import select

from kiosk.backend import NotEligible, PasswordRejected, Step
from kiosk.engine import registry
from kiosk.engine.schema import users

from .conftest import (
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
    state = engine.send_code(flow_id, TERMINAL, "email", "email")
    assert state.challenge is not None
    return engine.verify_code(flow_id, TERMINAL, state.challenge.id,
                              last_code(engine, f"{sam}@kiosk.test"))


def proven(engine: Any, purpose: str, sam: str) -> Any:
    state = engine.start(purpose, sam, TERMINAL)
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
    assert engine.start("reset", member, TERMINAL).step == Step.CHOOSE_METHOD
    assert engine.start("reset", boss, TERMINAL).step == Step.CHOOSE_METHOD
    plain = make_ad_engine(privacy={"enumeration_safe": False})
    for name, purpose, reason in [(disabled, "reset", "disabled"),
                                  (outsider, "reset", "scope")]:
        with pytest.raises(NotEligible) as refused:
            plain.start(purpose, name, TERMINAL)
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
    state = engine.set_password(state.flow_id, TERMINAL, NEW_PASSWORD)
    assert state.step == Step.DONE and state.result == "reset"
    assert ad_binds(dc, sam, NEW_PASSWORD)
    assert not ad_binds(dc, sam, AD_START_PASSWORD)
    # the domain's minimum age (1 day) binds the user's own changes, not a reset: another
    # reset right after this one is an administrative reset and goes through
    state = proven(engine, "reset", sam)
    state = engine.set_password(state.flow_id, TERMINAL, OTHER_PASSWORD)
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
        engine.set_password(state.flow_id, TERMINAL, password)
    violation = refused.value.params["violations"][0]
    assert violation["rule"] == "directory", violation
    assert violation["params"]["reason"] == reason, violation
    assert "0000052D" in violation["params"]["directory_message"]
