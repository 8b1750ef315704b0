"""Reading an LDAP directory: user entries by name or stable id, their lock state, contacts
and nested groups, as a Snapshot. LdapDirectory (ldap_directory.py) builds on this."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ldap3 import BASE, SUBTREE, SYNC, Connection, Server
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from kiosk.backend import ServiceUnavailable
from kiosk.engine.clock import Clock, SystemClock
from kiosk.engine.config import Ldap
from kiosk.engine.ldap_codec import (
    AD_ACCOUNTDISABLE,
    AD_COMPUTED_UAC,
    AD_LOCKOUT,
    AD_MATCHING_RULE_IN_CHAIN,
    ADMIN_LOCK,
    guid_text,
)
from kiosk.engine.ldap_conn import SERVER_TROUBLE_CODES, UNREACHABLE, LdapPool, ServerTrouble
from kiosk.engine.text import normalize_phone, normalize_username

log = logging.getLogger("kiosk.ldap")

ADMINS_CACHE_SECONDS = 300
GROUP_CHUNK = 50  # member DNs per filter while walking nested groups


@dataclass
class Snapshot:
    """What the directory said about one user entry."""

    dn: str
    external_id: str
    username: str
    display_name: str
    given_name: str
    family_name: str
    enabled: bool
    locked: bool
    contacts: dict[str, str]
    groups: frozenset[str] = frozenset()
    taken: float = field(default_factory=time.monotonic)


def first_value(entry: dict[str, Any], name: str) -> bytes | None:
    values = entry["raw_attributes"].get(name) if name else None
    if values is None:  # attribute names come back as the server spells them
        lowered = name.lower()
        values = next((v for k, v in entry["raw_attributes"].items() if k.lower() == lowered),
                      None)
    return values[0] if values else None


def text_value(entry: dict[str, Any], name: str) -> str:
    raw = first_value(entry, name)
    return raw.decode("utf-8", "replace").strip() if raw else ""


class DirectoryReader:
    """Searches and entry parsing for one configured directory (OpenLDAP or AD)."""

    def __init__(self, config: Ldap, *, clock: Clock | None = None,
                 servers: list[Server] | None = None, strategy: str = SYNC) -> None:
        self.cfg = config
        self.clock: Clock = clock or SystemClock()
        self.pool = LdapPool(config, servers=servers, strategy=strategy)
        self.ad = config.flavour == "ad"
        self.id_attr = "objectGUID" if self.ad else "entryUUID"
        self.user_filter = self._wrap(config.user_filter or (
            "(&(objectCategory=person)(objectClass=user))" if self.ad else "(objectClass=person)"))
        self.group_filter = self._wrap(config.group_filter or (
            "(objectClass=group)" if self.ad
            else "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"))
        self.group_base = config.group_base or config.user_base
        self.walk_searches = 1
        self._admins: tuple[float, list[str]] | None = None  # when read, addresses
        self._admins_lock = threading.Lock()
        a = config.attributes
        self.display_attrs = [a.display_name] if a.display_name else ["displayName", "cn"]
        self.contact_attrs = {"email": a.email, "mobile": a.mobile, "office": a.office}
        self.owned_contacts = frozenset(
            k for k, v in self.contact_attrs.items() if v and config.use_directory_contacts)
        state = ["userAccountControl", "lockoutTime", AD_COMPUTED_UAC] if self.ad \
            else ["pwdAccountLockedTime"]
        self.attributes = sorted({config.username_attribute, self.id_attr, *self.display_attrs,
                                  a.given_name, a.family_name,
                                  *[v for v in self.contact_attrs.values() if v], *state})

    @staticmethod
    def _wrap(filter_text: str) -> str:
        filter_text = filter_text.strip()
        return filter_text if filter_text.startswith("(") else f"({filter_text})"

    # ------------------------------------------------------------ directory reads
    def _search(self, conn: Connection, base: str, flt: str, attributes: list[str], *,
                scope: str = SUBTREE, size_limit: int = 0) -> list[dict[str, Any]]:
        self.pool.count_operation()
        conn.search(base, flt, search_scope=scope, attributes=attributes,
                    size_limit=size_limit, time_limit=int(self.cfg.timeout_seconds) or 1)
        code = (conn.result or {}).get("result", 0)
        if code in SERVER_TROUBLE_CODES:
            raise ServerTrouble(f"search: {conn.result.get('description')}")
        if code not in (0, 4, 32):  # success, size limit exceeded, no such object
            log.error("directory search under %s failed: %s %s", base,
                      conn.result.get("description"), conn.result.get("message"))
            raise ServiceUnavailable("directory unavailable")
        return [e for e in (conn.response or []) if e.get("type") == "searchResEntry"]

    def _user_entry(self, conn: Connection, assertion: str) -> dict[str, Any] | None:
        """The one user entry matching `assertion` (an escaped filter item); None when there
        is none or the name is ambiguous."""
        found = self._search(conn, self.cfg.user_base, f"(&{self.user_filter}{assertion})",
                             self.attributes, size_limit=2)
        if len(found) > 1:
            log.warning("%d directory entries match %s; refusing an ambiguous name",
                        len(found), assertion)
            return None
        return found[0] if found else None

    def _name_assertion(self, name: str) -> str:
        return f"({self.cfg.username_attribute}={escape_filter_chars(name)})"

    def _external_id(self, entry: dict[str, Any]) -> str:
        raw = first_value(entry, self.id_attr)
        if not raw:
            return ""
        return guid_text(raw) if self.ad else raw.decode("ascii", "replace")

    def _lock_state(self, entry: dict[str, Any]) -> tuple[bool, bool]:
        """(enabled, locked) as the directory says."""
        if self.ad:
            try:
                flags = int(text_value(entry, "userAccountControl") or 0)
                lockout = int(text_value(entry, "lockoutTime") or 0)
                computed = text_value(entry, AD_COMPUTED_UAC)
            except ValueError:
                flags, lockout, computed = 0, 0, ""
            # lockoutTime stays set after the lockout duration has passed (until the next
            # logon): the computed flags say whether the DC holds the account locked now
            locked = bool(int(computed) & AD_LOCKOUT) if computed.lstrip("-").isdigit() \
                else lockout > 0
            return not flags & AD_ACCOUNTDISABLE, locked
        locked_at = first_value(entry, "pwdAccountLockedTime")
        if locked_at == ADMIN_LOCK:  # locked by an administrator: not for self-service
            return False, False
        return True, locked_at is not None

    def _contacts(self, entry: dict[str, Any]) -> dict[str, str]:
        contacts: dict[str, str] = {}
        region = self.cfg.phone_region.upper() or None
        for kind, attribute in self.contact_attrs.items():
            value = text_value(entry, attribute) if attribute else ""
            if not value:
                continue
            if kind == "email":
                if "@" in value and len(value) <= 254 and " " not in value:
                    contacts[kind] = value
            else:
                phone = normalize_phone(value, region)
                if phone:
                    contacts[kind] = phone
        return contacts

    def _groups(self, conn: Connection, dn: str) -> frozenset[str]:
        """Names of every group the entry belongs to, directly or through nested groups."""
        member = self.cfg.group_member_attribute
        name_attr = self.cfg.group_name_attribute
        names: set[str] = set()
        if self.ad:  # the directory walks the chain itself
            flt = f"(&{self.group_filter}({member}:{AD_MATCHING_RULE_IN_CHAIN}:=" \
                  f"{escape_filter_chars(dn)}))"
            for entry in self._search(conn, self.group_base, flt, [name_attr]):
                names.add(text_value(entry, name_attr))
            return frozenset(n for n in names if n)
        seen = {dn.lower()}
        frontier = [dn]
        searches = 0
        for _level in range(self.cfg.nested_depth):
            parents: list[str] = []
            for start in range(0, len(frontier), GROUP_CHUNK):
                ors = "".join(f"({member}={escape_filter_chars(d)})"
                              for d in frontier[start:start + GROUP_CHUNK])
                flt = f"(&{self.group_filter}(|{ors}))"
                searches += 1
                for entry in self._search(conn, self.group_base, flt, [name_attr]):
                    if entry["dn"].lower() in seen:
                        continue  # a cycle, or reached twice
                    seen.add(entry["dn"].lower())
                    parents.append(entry["dn"])
                    names.add(text_value(entry, name_attr))
            if not parents:
                break
            frontier = parents
        self.walk_searches = searches  # an unknown name costs as many (see decoy_work)
        return frozenset(n for n in names if n)

    def admin_emails(self) -> list[str]:
        """Email addresses of the admin group's members, from the directory: administrators
        who never used the kiosk (no shadow row) are alerted too. Kept a few minutes; when the
        directory cannot answer, none (the kiosk's own rows still count). Only with
        use_directory_contacts: otherwise the directory's addresses are not trusted."""
        if not self.cfg.use_directory_contacts:
            return []
        with self._admins_lock:
            cached = self._admins
        if cached and time.monotonic() - cached[0] < ADMINS_CACHE_SECONDS:
            return list(cached[1])
        try:
            entries = self.pool.run(self.admin_entries)
        except UNREACHABLE as exc:
            log.warning("administrators' addresses not read from the directory: %s", exc)
            return []
        emails = [e for e in (self._contacts(entry).get("email") for entry in entries) if e]
        with self._admins_lock:
            self._admins = (time.monotonic(), emails)
        return emails

    def admin_entries(self, conn: Connection) -> list[dict[str, Any]]:
        """The enabled user entries in the admin group, directly or through nested groups
        (whether or not they ever used the kiosk)."""
        name = self.cfg.admin_group
        attr = self.cfg.group_member_attribute
        groups = self._search(conn, self.group_base, f"(&{self.group_filter}("
                              f"{self.cfg.group_name_attribute}={escape_filter_chars(name)}))",
                              [attr], size_limit=1) if name else []
        if not groups:
            return []
        if self.ad:  # the DC walks the chain: users whose memberOf leads to the group
            flt = f"(&{self.user_filter}(memberOf:{AD_MATCHING_RULE_IN_CHAIN}:=" \
                  f"{escape_filter_chars(groups[0]['dn'])}))"
            found = self._search(conn, self.cfg.user_base, flt, self.attributes)
        else:
            found = self._members(conn, groups[0], attr)
        return [e for e in found if self._lock_state(e)[0]]

    def _members(self, conn: Connection, group: dict[str, Any],
                 attr: str) -> list[dict[str, Any]]:
        """User entries below `group`, walking nested groups to nested_depth (cycles end)."""
        seen = {group["dn"].lower()}
        frontier, people = [group], []
        for _level in range(self.cfg.nested_depth):
            nested = []
            for entry in frontier:
                for raw in entry["raw_attributes"].get(attr) or []:
                    dn = raw.decode("utf-8", "replace")
                    if dn.lower() in seen:
                        continue
                    seen.add(dn.lower())
                    if found := self._search(conn, dn, self.group_filter, [attr], scope=BASE):
                        nested += found
                    else:
                        people += self._search(conn, dn, self.user_filter, self.attributes,
                                               scope=BASE)
            if not nested:
                break
            frontier = nested
        return people

    def decoy_work(self, conn: Connection) -> None:
        """For a name that matches nobody: as many group searches as the last real user's
        walk took, so a lookup's timing does not tell whether the name exists."""
        flt = f"(&{self.group_filter}({self.cfg.group_member_attribute}=" \
              f"{escape_filter_chars(self._decoy_dn())}))"
        for _ in range(max(1, self.walk_searches)):
            self._search(conn, self.group_base, flt, [self.cfg.group_name_attribute])

    def _snapshot(self, conn: Connection, entry: dict[str, Any]) -> Snapshot | None:
        external_id = self._external_id(entry)
        username = normalize_username(text_value(entry, self.cfg.username_attribute))
        if not external_id or not username or len(username) > 128:
            log.warning("directory entry %s has no usable %s or %s", entry.get("dn"),
                        self.id_attr, self.cfg.username_attribute)
            return None
        enabled, locked = self._lock_state(entry)
        names = (text_value(entry, a) for a in self.display_attrs)
        display = next((v for v in names if v), username)
        return Snapshot(
            dn=entry["dn"], external_id=external_id, username=username,
            display_name=display[:200],
            given_name=text_value(entry, self.cfg.attributes.given_name)[:100],
            family_name=text_value(entry, self.cfg.attributes.family_name)[:100], enabled=enabled,
            locked=locked, contacts=self._contacts(entry), groups=self._groups(conn, entry["dn"]))

    def _decoy_dn(self) -> str:
        token = "kiosk-nobody-" + secrets.token_hex(8)
        return f"{self.cfg.username_attribute}={escape_rdn(token)},{self.cfg.user_base}"
