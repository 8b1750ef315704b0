"""The Active Directory path, without a domain controller: ldap3's MOCK_SYNC strategy holds the
entries, and a recorder in front of each connection keeps every request the directory sends.

What this does NOT run (no AD here): a real DC's answer to unicodePwd over LDAPS, its password
policy and history with the policy hints control, LDAP_MATCHING_RULE_IN_CHAIN evaluation (the
mock refuses extensible matches, so the recorder answers those searches), objectGUID as AD
returns it, and lockoutTime being honoured. The requests are checked byte for byte instead;
test_samba_ad.py runs the same against a real (Samba) domain controller.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from ldap3 import MOCK_SYNC, MODIFY_REPLACE, NONE, Connection, Server
from ldap3.operation.modify import modify_operation
from ldap3.protocol.rfc4511 import LDAPMessage, MessageID, ProtocolOp
from pyasn1.codec.ber import encoder
from sqlalchemy import select

from kiosk.backend import NotAvailable, PasswordRejected, ServiceUnavailable, Step
from kiosk.engine import registry
from kiosk.engine.config import parse_policy
from kiosk.engine.engine import Engine
from kiosk.engine.ldap_codec import AD_POLICY_HINTS, ad_password, guid_text
from kiosk.engine.ldap_directory import LdapDirectory
from kiosk.engine.schema import users
from tests.support.ldap_server import CHEAP_ARGON2, TERMINAL, last_code

BASE = "DC=corp,DC=example"
PEOPLE = f"OU=People,{BASE}"
GROUPS = f"OU=Groups,{BASE}"
SERVICE = f"CN=svc-kiosk,OU=Service,{BASE}"
SERVICE_PW = "svc-secret"
CHAIN = ":1.2.840.113556.1.4.1941:="


class Recorder:
    """A MOCK_SYNC connection that records what is sent, answers in-chain group searches
    (the mock cannot) and can refuse the next modify the way a DC would."""

    def __init__(self, conn: Connection, log: list[tuple[str, Any]],
                 chain_groups: dict[str, list[str]], refusals: list[dict[str, Any]]) -> None:
        self._conn = conn
        self._log = log
        self._chain = chain_groups
        self._refusals = refusals
        self._canned: tuple[dict[str, Any], list[dict[str, Any]]] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    @property
    def result(self) -> Any:
        return self._canned[0] if self._canned else self._conn.result

    @property
    def response(self) -> Any:
        return self._canned[1] if self._canned else self._conn.response

    def search(self, base: str, flt: str, **kwargs: Any) -> bool:
        self._log.append(("search", (base, flt)))
        self._canned = None
        if CHAIN in flt:
            member = flt.split(CHAIN, 1)[1].rstrip(")")
            names = self._chain.get(member, [])
            self._canned = ({"result": 0, "description": "success"}, [
                {"type": "searchResEntry", "dn": f"CN={n},{GROUPS}",
                 "raw_attributes": {"cn": [n.encode()]}} for n in names])
            return True
        return bool(self._conn.search(base, flt, **kwargs))

    def modify(self, dn: str, changes: dict[str, Any], controls: Any = None) -> bool:
        self._log.append(("modify", (dn, changes, controls)))
        self._canned = None
        if self._refusals:
            refusal = self._refusals.pop(0)
            self._canned = ({"type": "modifyResponse", **refusal}, [])
            return False
        ok = bool(self._conn.modify(dn, changes, controls=controls))
        self._log.append(("wire", self._conn.request))
        return ok


class AdWorld:
    def __init__(self, tmp_path: Path) -> None:
        self.server = Server("dc1.corp.example", get_info=NONE)
        self.setup = Connection(self.server, user=SERVICE, password=SERVICE_PW,
                                client_strategy=MOCK_SYNC)
        self.setup.strategy.add_entry(SERVICE, {"objectClass": "user",
                                                "userPassword": SERVICE_PW})
        self.log: list[tuple[str, Any]] = []
        self.chain: dict[str, list[str]] = {}
        self.refusals: list[dict[str, Any]] = []
        self.guids: dict[str, uuid.UUID] = {}
        self.tmp = tmp_path

    def add_user(self, sam: str, *, groups: list[str], locked: bool = False,
                 disabled: bool = False, rdn: str = "") -> str:
        guid = uuid.uuid4()
        self.guids[sam] = guid
        dn = f"{rdn or f'CN={sam.title()} Example'},{PEOPLE}"
        self.setup.strategy.add_entry(dn, {
            "objectClass": ["top", "person", "organizationalPerson", "user"],
            "objectCategory": "person", "sAMAccountName": sam,
            "userPrincipalName": f"{sam}@corp.example", "objectGUID": guid.bytes_le,
            "displayName": f"{sam.title()} Example", "givenName": sam.title(),
            "sn": "Example", "mail": f"{sam}@corp.example", "mobile": "+44 7911 123456",
            "userAccountControl": str(512 | (2 if disabled else 0)),
            "lockoutTime": "133497000000000000" if locked else "0",
            "userPassword": "Old-password-in-AD-1"})
        self.chain[dn] = groups
        return dn

    def policy(self, **ldap: Any) -> Any:
        return parse_policy({
            "database": {"url": f"sqlite:///{self.tmp / 'ad.db'}"},
            "security": CHEAP_ARGON2, "demo": True,
            "sspr": {"enabled": "selected", "groups": ["SSPR Users"]},
            "directory": {"kind": "ldap"},
            "ldap": {"flavour": "ad", "urls": ["ldaps://dc1.corp.example"],
                     "bind_dn": SERVICE, "bind_password": SERVICE_PW, "user_base": PEOPLE,
                     "group_base": GROUPS, "username_attribute": "sAMAccountName",
                     "admin_group": "Kiosk Admins", "cache_seconds": 0, **ldap}})

    def directory(self, policy: Any) -> LdapDirectory:
        directory = LdapDirectory(policy.ldap, servers=[self.server], strategy=MOCK_SYNC)
        acquire = directory.pool.acquire

        def recorded() -> Any:
            conn = acquire()  # pooled connections come back already recorded
            return conn if isinstance(conn, Recorder) else Recorder(
                conn, self.log, self.chain, self.refusals)

        directory.pool.acquire = recorded  # type: ignore[method-assign]
        return directory

    def engine(self, **ldap: Any) -> Engine:
        policy = self.policy(**ldap)
        return Engine(policy, directory=self.directory(policy))

    def sent(self, kind: str) -> list[Any]:
        return [item for k, item in self.log if k == kind]


@pytest.fixture
def ad(tmp_path: Path) -> AdWorld:
    return AdWorld(tmp_path)


def test_unicode_pwd_is_the_quoted_password_in_utf16le() -> None:
    assert ad_password("Pässwörd 1") == '"Pässwörd 1"'.encode("utf-16-le")
    assert ad_password("ab") == b'"\x00a\x00b\x00"\x00'
    assert ad_password("𝄞x").startswith(b'"\x00\x34\xd8\x1e\xdd')  # a surrogate pair


def test_lookup_uses_object_guid_and_the_in_chain_rule(ad: AdWorld) -> None:
    dn = ad.add_user("alice", groups=["SSPR Users", "Staff"])
    engine = ad.engine()
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, "ALICE")
        assert user is not None and user.username == "alice" and not user.is_admin
        assert conn.execute(select(users.c.external_id).where(users.c.id == user.id)
                            ).scalar() == str(ad.guids["alice"])
        assert engine.directory.group_names(conn, user.id) == {"SSPR Users", "Staff"}
        assert registry.load(conn, user.id).contacts["mobile"] == "+447911123456"
    searches = ad.sent("search")
    assert searches[0] == (PEOPLE, "(&(&(objectCategory=person)(objectClass=user))"
                                   "(sAMAccountName=alice))")
    assert (GROUPS, f"(&(objectClass=group)(member{CHAIN}{dn}))") in searches
    # a later lookup by id asserts the GUID byte by byte
    guid_filter = "".join(f"\\{b:02x}" for b in ad.guids["alice"].bytes_le)
    assert any(f"(objectGUID={guid_filter})" in flt for _, flt in searches)
    assert guid_text(ad.guids["alice"].bytes_le) == str(ad.guids["alice"])


def test_ad_reset_sends_unicode_pwd_lockout_time_and_policy_hints(ad: AdWorld) -> None:
    dn = ad.add_user("bob", groups=["SSPR Users"], locked=True)
    engine = ad.engine()
    state = engine.session(TERMINAL).start("reset", "bob")
    with engine.db.connect() as conn:
        assert conn.execute(select(users.c.locked).where(users.c.username == "bob")).scalar()
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                               last_code(engine, "bob@corp.example"))
    new = "Granite orchard pixel 4471"
    state = engine.session(TERMINAL).set_password(state.flow_id, new)
    assert state.step == Step.DONE

    (target, changes, controls), = ad.sent("modify")
    assert target == dn
    assert changes == {"unicodePwd": [(MODIFY_REPLACE, [ad_password(new)])],
                       "lockoutTime": [(MODIFY_REPLACE, ["0"])]}  # one operation: both or none
    assert controls == [AD_POLICY_HINTS]
    assert AD_POLICY_HINTS == ("1.2.840.113556.1.4.2239", False, b"0\x03\x02\x01\x01")
    # the request on the wire (BER): a replace of unicodePwd with the UTF-16LE octets
    message = LDAPMessage()
    message["messageID"] = MessageID(1)
    message["protocolOp"] = ProtocolOp().setComponentByName(
        "modifyRequest", modify_operation(dn, changes, True, None, None, False))
    wire = encoder.encode(message)
    value = ad_password(new)
    assert bytes([0x04, len(value)]) + value in wire
    assert b"\x0a\x01\x02" + bytes([0x30]) in wire  # operation: replace (2)
    (decoded,) = ad.sent("wire")
    assert decoded["entry"] == dn and decoded["controls"] == [AD_POLICY_HINTS]
    assert [c["attribute"]["type"] for c in decoded["changes"]] == ["unicodePwd", "lockoutTime"]
    assert ad.server.dit[dn]["unicodePwd"] == [value]
    with engine.db.connect() as conn:
        assert not conn.execute(select(users.c.locked).where(users.c.username == "bob")
                                ).scalar()


def test_ad_reset_of_an_unlocked_account_leaves_lockout_time_alone(ad: AdWorld) -> None:
    ad.add_user("carl", groups=["SSPR Users"])
    engine = ad.engine(ad_enforce_history=False)
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, "carl")
        assert user is not None
        engine.directory.store_password(conn, user, "Cobalt river anthem 5590",
                                        engine.clock.now(), 5)
    (_, changes, controls), = ad.sent("modify")
    assert list(changes) == ["unicodePwd"] and controls is None


def test_ad_policy_refusal_is_a_rule_violation_and_writes_nothing(ad: AdWorld) -> None:
    ad.add_user("dora", groups=["SSPR Users"])
    engine = ad.engine()
    ad.refusals.append({
        "result": 19, "description": "constraintViolation",
        "message": "0000052D: Constraint violation - check_password_restrictions: password "
                   "history conflict.\n"})
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, "dora")
        assert user is not None
    with pytest.raises(PasswordRejected) as refused, engine.db.begin() as conn:
        engine.directory.store_password(conn, user, "Saffron kettle drum 3318",
                                        engine.clock.now(), 5)
    violation = refused.value.params["violations"][0]
    assert violation["rule"] == "directory"
    assert violation["params"]["reason"] == "passwordInHistory"
    assert "0000052D" in violation["params"]["directory_message"]
    with engine.db.connect() as conn:
        assert conn.execute(select(users.c.password_changed_at).where(
            users.c.username == "dora")).scalar() is None
    # a refusal that is not about the password (e.g. no TLS, no rights) is not the user's
    ad.refusals.append({"result": 53, "description": "unwillingToPerform",
                        "message": "0000001F: SvcErr: DSID-031A12D2, problem 5003 "
                                   "(WILL_NOT_PERFORM), data 0"})
    with pytest.raises(ServiceUnavailable), engine.db.begin() as conn:
        engine.directory.store_password(conn, user, "Saffron kettle drum 3318",
                                        engine.clock.now(), 5)


def test_ad_unlock_and_disabled_accounts(ad: AdWorld) -> None:
    dn = ad.add_user("erik", groups=["SSPR Users"], locked=True)
    ad.add_user("fay", groups=["SSPR Users"], disabled=True)
    ad.add_user("gus", groups=["Kiosk Admins"])
    engine = ad.engine()
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, "erik")
        assert user is not None and user.locked
        engine.directory.set_locked(conn, user.id, False)
        with pytest.raises(NotAvailable):
            engine.directory.set_locked(conn, user.id, True)
        fay = engine.directory.find(conn, "fay")
        assert fay is not None and not fay.enabled
        gus = engine.directory.find(conn, "gus")
        assert gus is not None and gus.is_admin
    (target, changes, _), = ad.sent("modify")
    assert target == dn and changes == {"lockoutTime": [(MODIFY_REPLACE, ["0"])]}
    assert ad.server.dit[dn]["lockoutTime"] == [b"0"]
    # a refused unlock is the helpdesk's problem, not a password rule
    ad.refusals.append({"result": 50, "description": "insufficientAccessRights",
                        "message": "00002098: SecErr: DSID-03150F94, problem 4003"})
    with pytest.raises(ServiceUnavailable) as refused, engine.db.begin() as conn:
        engine.directory.set_locked(conn, user.id, False)
    assert "helpdesk" in refused.value.message


def test_ad_group_filter_escapes_the_member_dn(ad: AdWorld) -> None:
    ad.add_user("smith", groups=["SSPR Users"], rdn=r"CN=Smith\, John (ops*)")
    engine = ad.engine()
    with engine.db.begin() as conn:
        assert engine.directory.find(conn, "smith") is not None
    chain = [flt for _, flt in ad.sent("search") if CHAIN in flt]
    assert chain == [f"(&(objectClass=group)(member{CHAIN}"
                     r"CN=Smith\5c, John \28ops\2a\29,OU=People,DC=corp,DC=example))"]


def test_ad_bind_as_the_user(ad: AdWorld) -> None:
    ad.add_user("hana", groups=["SSPR Users"])
    engine = ad.engine()
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, "hana")
    assert engine.directory.verify_password(user, "Old-password-in-AD-1")
    assert not engine.directory.verify_password(user, "wrong")
    assert not engine.directory.verify_password(None, "Old-password-in-AD-1")


def test_ad_needs_tls_for_passwords() -> None:
    from kiosk.engine.config import PolicyError

    with pytest.raises(PolicyError) as bad:
        parse_policy({"ldap": {"flavour": "ad", "urls": ["ldap://dc1.corp.example"]}})
    assert "ldap.starttls" in bad.value.problems[0]
    parse_policy({"ldap": {"flavour": "ad", "urls": ["ldap://dc1.corp.example"],
                           "starttls": True}})
