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
    GROUPS,
    PEOPLE,
    START_PASSWORD,
    SUFFIX,
    EngineMaker,
    UserMaker,
    escape_dn_value,
    ldap_policy,
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
