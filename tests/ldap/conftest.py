"""A real OpenLDAP slapd for the LDAP directory tests.

One slapd per test session (scripts/slapd.py: mdb, ppolicy with history 3 / lockout after 3
failures / minimum length 14, a service account, StartTLS and LDAPS with a private CA) on free
loopback ports in a temporary directory. Each test makes its own users, so tests do not depend
on each other's passwords or lockouts. Without slapd the tests skip, except in CI (CI=true),
where they fail.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ldap3 import Connection

from kiosk.engine.config import Policy, parse_policy
from kiosk.engine.engine import Engine
from kiosk.engine.ldap_directory import LdapDirectory


def _script(name: str) -> Any:
    """A module of scripts/ (not a package), loaded by path."""
    spec = importlib.util.spec_from_file_location(
        f"kiosk_test_{name}", Path(__file__).resolve().parents[2] / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


slapd = _script("slapd")
samba_dc = _script("samba_dc")  # a real Samba AD DC: the `dc` fixture below

CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
TERMINAL = "console:ldap-test"
CODE = re.compile(r"\b(\d{4}) (\d{4})\b")
PEOPLE, GROUPS, SUFFIX = slapd.PEOPLE, slapd.GROUPS, slapd.SUFFIX
START_PASSWORD = "Meadow copper violin 5531"
_serial = itertools.count(1)


@pytest.fixture(scope="session")
def server() -> Iterator[Any]:
    if not slapd.available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("slapd is not installed: scripts/services.sh installs it in CI")
        pytest.skip("slapd is not installed (apt-get install slapd ldap-utils)")
    instance = slapd.Slapd().start()
    admin = Connection(instance.url, slapd.ROOT_DN, slapd.ROOT_PW, auto_bind=True)
    # the SSPR scope: sspr-users ⊃ staff ⊃ engineering (nested), kiosk-admins ⊃ it-admins
    for name, members in [("engineering", []), ("staff", ["engineering"]),
                          ("sspr-users", ["staff"]), ("it-admins", []),
                          ("kiosk-admins", ["it-admins"]),
                          ("loop-a", []), ("loop-b", ["loop-a"])]:
        member = [f"cn={m},{GROUPS}" for m in members] or [f"cn=nobody,{SUFFIX}"]
        assert admin.add(f"cn={name},{GROUPS}", ["groupOfNames"], {"member": member}), \
            admin.result
    # a cycle: loop-a is in loop-b and loop-b in loop-a
    admin.modify(f"cn=loop-a,{GROUPS}", {"member": [("MODIFY_ADD", [f"cn=loop-b,{GROUPS}"])]})
    admin.unbind()
    yield instance
    instance.cleanup()


@pytest.fixture
def admin(server: Any) -> Iterator[Connection]:
    conn = Connection(server.url, slapd.ROOT_DN, slapd.ROOT_PW, auto_bind=True)
    yield conn
    conn.unbind()


UserMaker = Callable[..., str]


@pytest.fixture
def make_user(admin: Connection) -> UserMaker:
    """Add a person (unique name per call unless given) and put it in groups; returns the uid."""

    def make(prefix: str = "user", *, groups: tuple[str, ...] = ("engineering",),
             password: str = START_PASSWORD, uid: str | None = None, **attrs: Any) -> str:
        uid = uid or f"{prefix}{next(_serial)}"
        values = {"cn": f"{prefix.title()} Tester", "sn": "Tester",
                  "givenName": prefix.title(), "mail": f"{uid}@example.org",
                  "mobile": "+1 425 555 0142", "userPassword": password, **attrs}
        dn = f"uid={escape_dn_value(uid)},{PEOPLE}"
        assert admin.add(dn, ["inetOrgPerson"], values), admin.result
        for group in groups:
            assert admin.modify(f"cn={group},{GROUPS}",
                                {"member": [("MODIFY_ADD", [dn])]}), admin.result
        return uid

    return make


def escape_dn_value(value: str) -> str:
    from ldap3.utils.dn import escape_rdn

    return escape_rdn(value)


def ldap_settings(server: Any, **overrides: Any) -> dict[str, Any]:
    return {"urls": [server.url], "bind_dn": slapd.SERVICE_DN,
            "bind_password": slapd.SERVICE_PW, "user_base": PEOPLE, "group_base": GROUPS,
            "admin_group": "kiosk-admins", "cache_seconds": 0, "timeout_seconds": 5,
            "connect_timeout_seconds": 2, **overrides}


def ldap_policy(tmp_path: Path, server: Any, *, ldap: dict[str, Any] | None = None,
                **overrides: Any) -> Policy:
    data: dict[str, Any] = {
        "database": {"url": f"sqlite:///{tmp_path / 'kiosk.db'}"},
        "security": CHEAP_ARGON2, "demo": True,
        "sspr": {"enabled": "selected", "groups": ["sspr-users"], "methods_required": 1},
        "directory": {"kind": "ldap"},
        "ldap": ldap_settings(server, **(ldap or {})),
    }
    data.update(overrides)
    return parse_policy(data)


EngineMaker = Callable[..., Engine]


@pytest.fixture
def make_engine(tmp_path: Path, server: Any) -> EngineMaker:
    def make(*, ldap: dict[str, Any] | None = None, **overrides: Any) -> Engine:
        policy = ldap_policy(tmp_path, server, ldap=ldap, **overrides)
        return Engine(policy, directory=LdapDirectory(policy.ldap))

    return make


def last_code(engine: Engine, recipient: str) -> str:
    for message in engine.outbox_messages(50):
        if message.recipient == recipient:
            found = CODE.search(message.body)
            if found:
                return found.group(1) + found.group(2)
    raise AssertionError(f"no code for {recipient} in the outbox")


def email_gate(engine: Engine, flow_id: str, address: str) -> Any:
    state = engine.session(TERMINAL).send_code(flow_id, "email", "email")
    assert state.challenge is not None
    return engine.session(TERMINAL).verify_code(flow_id, state.challenge.id, last_code(engine,
                                                                                       address))


def binds(server: Any, uid: str, password: str) -> bool:
    conn = Connection(server.url, f"uid={escape_dn_value(uid)},{PEOPLE}", password)
    try:
        return bool(conn.bind())
    finally:
        conn.unbind()


def entry(admin: Connection, uid: str, *attributes: str) -> dict[str, list[bytes]]:
    admin.search(f"uid={escape_dn_value(uid)},{PEOPLE}", "(objectClass=*)", "BASE",
                 attributes=list(attributes) or ["*", "+"])
    return {k: v for k, v in admin.response[0]["raw_attributes"].items() if v}


# ---------------------------------------------------------------- a real Samba AD DC
AD_START_PASSWORD = "Meadow-Copper-5531!"
# the SSPR scope as for slapd, plus groups the fine-grained password policies (PSOs) apply to
AD_GROUPS = [("engineering", []), ("staff", ["engineering"]), ("sspr-users", ["staff"]),
             ("it-admins", []), ("kiosk-admins", ["it-admins"]), ("quick-change", []),
             ("long-passwords", []), ("short-lockout", [])]


@pytest.fixture(scope="session")
def dc() -> Iterator[Any]:
    """One provisioned domain per session: lockout after 3 wrong binds (30 minutes), the
    domain's default minimum age (1 day), history 24 and complexity; PSOs for three groups."""
    if not samba_dc.available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("samba is not installed (or not root): scripts/services.sh installs it")
        pytest.skip("samba is not installed (apt-get install samba samba-ad-dc) or not root")
    instance = samba_dc.SambaDC()
    try:
        instance.start()
        instance.tool("domain", "passwordsettings", "set", "--account-lockout-threshold=3")
        conn = instance.admin()
        for name, members in AD_GROUPS:
            add = {"sAMAccountName": name}
            if members:
                add["member"] = [f"CN={m},{samba_dc.GROUPS}" for m in members]
            assert conn.add(f"CN={name},{samba_dc.GROUPS}", ["top", "group"], add), conn.result
        conn.unbind()
        # a user's own change is not held back a day / longer passwords / a short lockout
        for pso, group, precedence, options in [
                ("quick-change", "quick-change", "10", ["--min-pwd-age=0"]),
                ("long-passwords", "long-passwords", "20", ["--min-pwd-length=20"]),
                ("short-lockout", "short-lockout", "30",
                 ["--account-lockout-threshold=2", "--account-lockout-duration=1",
                  "--reset-account-lockout-after=1"])]:
            instance.tool("domain", "passwordsettings", "pso", "create", pso, precedence,
                          *options)
            instance.tool("domain", "passwordsettings", "pso", "apply", pso, group)
    except BaseException:
        instance.cleanup()
        raise
    yield instance
    instance.cleanup()


@pytest.fixture
def ad_admin(dc: Any) -> Iterator[Connection]:
    conn = dc.admin()
    yield conn
    conn.unbind()


@pytest.fixture
def make_ad_user(ad_admin: Connection) -> UserMaker:
    """Add an enabled AD user (unique sAMAccountName per call) in groups; returns the name."""

    def make(prefix: str = "aduser", *, groups: tuple[str, ...] = ("engineering",),
             password: str = AD_START_PASSWORD, **attrs: Any) -> str:
        sam = f"{prefix}{next(_serial)}"
        values = {"givenName": prefix.title(), "sn": "Tester", "displayName":
                  f"{prefix.title()} Tester", "mail": f"{sam}@kiosk.test",
                  "mobile": "+1 425 555 0142", **attrs}
        dn = ad_dn(sam)
        samba_dc.add_user(ad_admin, dn, sam, password, **values)
        for group in groups:
            assert ad_admin.modify(f"CN={group},{samba_dc.GROUPS}",
                                   {"member": [("MODIFY_ADD", [dn])]}), ad_admin.result
        return sam

    return make


def ad_dn(sam: str) -> str:
    return f"CN={sam},{samba_dc.PEOPLE}"


def ad_settings(dc: Any, **overrides: Any) -> dict[str, Any]:
    return {"flavour": "ad", "urls": [dc.ldaps_url], "ca_file": dc.ca_file,
            "bind_dn": samba_dc.SERVICE_DN, "bind_password": samba_dc.SERVICE_PW,
            "user_base": samba_dc.PEOPLE, "group_base": samba_dc.GROUPS,
            "username_attribute": "sAMAccountName", "admin_group": "kiosk-admins",
            "cache_seconds": 0, "timeout_seconds": 10, "connect_timeout_seconds": 5,
            **overrides}


@pytest.fixture
def make_ad_engine(tmp_path: Path, dc: Any) -> EngineMaker:
    def make(*, ldap: dict[str, Any] | None = None, **overrides: Any) -> Engine:
        policy = ldap_policy(tmp_path, dc, ldap={**ad_settings(dc), **(ldap or {})},
                             **overrides)
        return Engine(policy, directory=LdapDirectory(policy.ldap))

    return make


def ad_binds(dc: Any, sam: str, password: str) -> bool:
    from ldap3.core.exceptions import LDAPBindError

    try:
        conn = dc.connect(ad_dn(sam), password)
    except LDAPBindError:
        return False
    conn.unbind()
    return True
