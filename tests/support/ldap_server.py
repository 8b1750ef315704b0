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

__all__ = ["AD_START_PASSWORD", "CHEAP_ARGON2", "GROUPS", "PEOPLE", "START_PASSWORD", "SUFFIX",
           "TERMINAL", "EngineMaker", "UserMaker", "ad_binds", "ad_dn", "ad_settings", "binds",
           "email_gate", "entry", "escape_dn_value", "last_code", "ldap_policy", "ldap_settings",
           "samba_dc", "slapd"]

def _script(name: str) -> Any:
    """A module of scripts/ (not a package), loaded by path."""
    spec = importlib.util.spec_from_file_location(
        f"kiosk_test_{name}", Path(__file__).resolve().parents[2] / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


slapd = _script("slapd")
samba_dc = _script("samba_dc")  # a real Samba AD DC (the `dc` fixture)

TERMINAL = "console:ldap-test"
PEOPLE, GROUPS, SUFFIX = slapd.PEOPLE, slapd.GROUPS, slapd.SUFFIX
START_PASSWORD = "Meadow copper violin 5531"
AD_START_PASSWORD = "Meadow-Copper-5531!"

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


# ---------------------------------------------------------------- a real Samba AD DC
def ad_dn(sam: str) -> str:
    return f"CN={sam},{samba_dc.PEOPLE}"


def ad_settings(dc: Any, **overrides: Any) -> dict[str, Any]:
    return {"flavour": "ad", "urls": [dc.ldaps_url], "ca_file": dc.ca_file,
            "bind_dn": samba_dc.SERVICE_DN, "bind_password": samba_dc.SERVICE_PW,
            "user_base": samba_dc.PEOPLE, "group_base": samba_dc.GROUPS,
            "username_attribute": "sAMAccountName", "admin_group": "kiosk-admins",
            "cache_seconds": 0, "timeout_seconds": 10, "connect_timeout_seconds": 5,
            **overrides}


def ad_binds(dc: Any, sam: str, password: str) -> bool:
    from ldap3.core.exceptions import LDAPBindError

    try:
        conn = dc.connect(ad_dn(sam), password)
    except LDAPBindError:
        return False
    conn.unbind()
    return True
