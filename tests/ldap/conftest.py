"""A real OpenLDAP slapd for the LDAP directory tests.

One slapd per test session (scripts/slapd.py: mdb, ppolicy with history 3 / lockout after 3
failures / minimum length 14, a service account, StartTLS and LDAPS with a private CA) on free
loopback ports in a temporary directory. Each test makes its own users, so tests do not depend
on each other's passwords or lockouts. Without slapd the tests skip, except in CI (CI=true),
where they fail.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ldap3 import Connection

from kiosk.engine.engine import Engine
from kiosk.engine.ldap_directory import LdapDirectory
from tests.support.ldap_server import (
    AD_START_PASSWORD,
    GROUPS,
    PEOPLE,
    START_PASSWORD,
    SUFFIX,
    EngineMaker,
    UserMaker,
    ad_dn,
    ad_settings,
    escape_dn_value,
    ldap_policy,
    samba_dc,
    slapd,
)

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


@pytest.fixture
def make_engine(tmp_path: Path, server: Any) -> EngineMaker:
    def make(*, ldap: dict[str, Any] | None = None, **overrides: Any) -> Engine:
        policy = ldap_policy(tmp_path, server, ldap=ldap, **overrides)
        return Engine(policy, directory=LdapDirectory(policy.ldap))

    return make


# ---------------------------------------------------------------- a real Samba AD DC
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


@pytest.fixture
def make_ad_engine(tmp_path: Path, dc: Any) -> EngineMaker:
    def make(*, ldap: dict[str, Any] | None = None, **overrides: Any) -> Engine:
        policy = ldap_policy(tmp_path, dc, ldap={**ad_settings(dc), **(ldap or {})},
                             **overrides)
        return Engine(policy, directory=LdapDirectory(policy.ldap))

    return make
