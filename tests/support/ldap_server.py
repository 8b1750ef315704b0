"""A real OpenLDAP slapd for the LDAP directory tests (tests/ldap): the server's layout
(scripts/slapd.py), a policy on it, and what the tests ask of its entries."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ldap3 import Connection

from kiosk.backend import FlowState
from kiosk.engine.config import Policy, parse_policy
from kiosk.engine.engine import Engine
from tests.support import engine as engine_support
from tests.support.engine import CHEAP_ARGON2, last_code

__all__ = ["CHEAP_ARGON2", "GROUPS", "PEOPLE", "START_PASSWORD", "SUFFIX", "TERMINAL",
           "EngineMaker", "UserMaker", "binds", "email_gate", "entry", "escape_dn_value",
           "last_code", "ldap_policy", "ldap_settings", "slapd"]

_spec = importlib.util.spec_from_file_location(
    "kiosk_test_slapd", Path(__file__).resolve().parents[2] / "scripts" / "slapd.py")
assert _spec and _spec.loader
slapd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(slapd)

TERMINAL = "console:ldap-test"
PEOPLE, GROUPS, SUFFIX = slapd.PEOPLE, slapd.GROUPS, slapd.SUFFIX
START_PASSWORD = "Meadow copper violin 5531"

UserMaker = Callable[..., str]
EngineMaker = Callable[..., Engine]


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


def email_gate(engine: Engine, flow_id: str, address: str) -> FlowState:
    """Pass the flow's email gate with the code sent to `address`."""
    return engine_support.email_gate(engine, flow_id, TERMINAL, address)


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
