"""An LDAP directory (OpenLDAP with ppolicy, or Active Directory) behind the Directory seam.

Users, groups, lock state and passwords live in the directory. The kiosk keeps a shadow row per
directory user in `users`, keyed by the entry's stable id (entryUUID / objectGUID) in
`external_id`, so methods registered in the kiosk (questions, authenticator) survive a rename.
Each lookup refreshes the shadow row; with `ldap.use_directory_contacts` the entry's mail /
mobile / telephoneNumber become the user's email / mobile / office methods.

Writes go to the directory first; the shadow row changes only after the directory said yes, in
the engine's transaction, so a refusal or an outage leaves the kiosk's database untouched.
OpenLDAP: RFC 3062 password modify with the ppolicy request control (its history and quality
rules apply; its errors become `directory` rule violations), which also clears the lockout;
unlock deletes pwdAccountLockedTime. AD: `unicodePwd` replaced with the quoted UTF-16LE value,
with lockoutTime = 0 in the same modify when locked, and the policy hints control so history
applies. Every value from a user is escaped in filters and DNs.

    [directory]
    kind = "ldap"
    [ldap]
    flavour = "openldap"                  # or "ad"
    urls = ["ldaps://ldap1.example.org", "ldaps://ldap2.example.org"]   # failover, in order
    ca_file = "/etc/kiosk/ldap-ca.pem"    # starttls = true for ldap:// URLs
    bind_dn = "cn=kiosk,ou=services,dc=example,dc=org"
    bind_password_file = "/etc/kiosk/ldap.secret"
    user_base = "ou=people,dc=example,dc=org"
    username_attribute = "uid"            # sAMAccountName / userPrincipalName for AD
    group_base = "ou=groups,dc=example,dc=org"
    admin_group = "kiosk-admins"          # nested membership counts, as for sspr.groups
    use_directory_contacts = true         # mail / mobile / telephoneNumber as methods
    [ldap.attributes]
    mobile = "mobile"

The service account needs: read on users and groups, `write` on userPassword (OpenLDAP) or
"Reset password" + write lockoutTime (AD), write on pwdAccountLockedTime and pwdReset, and
`manage` on pwdFailureTime only with `clear_failures = true`.

A change (the user gave the current password) passes it on, so the directory sees the user's
own change: RFC 3062 with oldPasswd; AD deletes the old `unicodePwd` and adds the new one, so
its history and minimum password age apply (a reset is administrative: they do not). The lock
state on AD is the DC's own (msDS-User-Account-Control-Computed), so a lock older than the
lockout duration is no lock. tests/ldap/test_samba_ad.py runs all this against a Samba DC; the
README's "Active Directory" section has the set-up.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ldap3 import BASE, MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, SYNC, Connection, Server
from sqlalchemy import Connection as DbConnection
from sqlalchemy import insert, or_, select, update

from kiosk.backend import NotAvailable, NotEligible, PasswordRejected, ServiceUnavailable
from kiosk.engine import registry
from kiosk.engine.clock import Clock
from kiosk.engine.config import Ldap
from kiosk.engine.db import inserted_id
from kiosk.engine.directory import User, known
from kiosk.engine.ldap_codec import (
    AD_POLICY_HINTS,
    PPOLICY_ERRORS,
    PPOLICY_REQUEST,
    ad_password,
    ad_refusal,
    generalized_time,
    id_filter,
    ppolicy_error,
)
from kiosk.engine.ldap_conn import SERVER_TROUBLE_CODES, UNREACHABLE
from kiosk.engine.ldap_read import DirectoryReader, Snapshot, first_value
from kiosk.engine.schema import methods, users
from kiosk.engine.text import normalize_username

log = logging.getLogger("kiosk.ldap")

NOT_ACCEPTED = "the directory did not accept the change; please contact the helpdesk"


@dataclass(frozen=True)
class LdapUser(User):
    dn: str = ""
    external_id: str = ""


class LdapDirectory(DirectoryReader):
    """The Directory protocol over LDAP: lookups refresh shadow rows; writes go to the
    directory first."""

    changes_with_current = True

    def __init__(self, config: Ldap, *, clock: Clock | None = None,
                 servers: list[Server] | None = None, strategy: str = SYNC) -> None:
        super().__init__(config, clock=clock, servers=servers, strategy=strategy)
        self._cache: dict[str, Snapshot] = {}  # external id -> last snapshot
        self._lock = threading.Lock()

    def _fresh(self, external_id: str) -> Snapshot | None:
        if self.cfg.cache_seconds <= 0:
            return None
        with self._lock:
            snap = self._cache.get(external_id)
        if snap and time.monotonic() - snap.taken < self.cfg.cache_seconds:
            return snap
        return None

    def _remember(self, snap: Snapshot) -> None:
        with self._lock:
            self._cache[snap.external_id] = snap

    def forget(self, external_id: str) -> None:
        with self._lock:
            self._cache.pop(external_id, None)

    # ------------------------------------------------------------ shadow rows
    def _is_admin(self, snap: Snapshot) -> bool:
        wanted = self.cfg.admin_group.casefold()
        return bool(wanted) and any(g.casefold() == wanted for g in snap.groups)

    def _shadow(self, conn: DbConnection, snap: Snapshot) -> LdapUser:
        """Bring the user's shadow row up to date with the directory (insert it the first
        time); a different row holding the same name (a user renamed or removed since, or a
        built-in user) steps aside, keeping its own methods."""
        values: dict[str, Any] = dict(username=snap.username, display_name=snap.display_name,
                      given_name=snap.given_name, family_name=snap.family_name,
                      enabled=snap.enabled, locked=snap.locked, is_admin=self._is_admin(snap))
        row = conn.execute(select(users).where(users.c.external_id == snap.external_id)).first()
        if row is None or row.username != snap.username:
            for (other,) in conn.execute(select(users.c.id).where(
                    users.c.username == snap.username,
                    or_(users.c.external_id.is_(None),
                        users.c.external_id != snap.external_id))).all():
                conn.execute(update(users).where(users.c.id == other).values(
                    username=f"~stale-{other}"))
        if row is None:
            user_id = inserted_id(conn.execute(insert(users).values(
                external_id=snap.external_id, totp_last_step=0, **values)))
            registered_at = None
        else:
            user_id, registered_at = row.id, row.registered_at
            if any(getattr(row, k) != v for k, v in values.items()):
                conn.execute(update(users).where(users.c.id == user_id).values(**values))
        if self.cfg.use_directory_contacts:
            self._follow_contacts(conn, user_id, snap.contacts)
        return LdapUser(user_id, snap.username, snap.display_name, snap.given_name,
                        snap.family_name, snap.enabled, snap.locked, values["is_admin"], None,
                        registered_at, dn=snap.dn, external_id=snap.external_id)

    def _follow_contacts(self, conn: DbConnection, user_id: int,
                         contacts: dict[str, str]) -> None:
        """The directory owns the contact kinds it maps (an attribute configured): the kiosk's
        copy follows the entry, and a contact removed there stops being offered here. A kind
        mapped to "" is the user's to register in the kiosk."""
        mapped = list(self.owned_contacts)
        have = dict(conn.execute(select(methods.c.kind, methods.c.value).where(
            methods.c.user_id == user_id, methods.c.kind.in_(mapped))).all())
        for kind in mapped:
            value = contacts.get(kind)
            if value is None and kind in have:
                registry.remove_method(conn, user_id, kind)
            elif value is not None and have.get(kind) != value:
                registry.set_method(conn, user_id, kind, value, self.clock.now())

    @staticmethod
    def _from_row(row: Any, dn: str = "") -> LdapUser:
        return LdapUser(row.id, row.username, row.display_name, row.given_name,
                        row.family_name, row.enabled, row.locked, row.is_admin, None,
                        row.registered_at, dn=dn, external_id=row.external_id or "")

    # ------------------------------------------------------------ Directory protocol: lookups
    def find(self, conn: DbConnection, username: str) -> User | None:
        name = normalize_username(username)

        def read(c: Connection) -> Snapshot | None:
            entry = self._user_entry(c, self._name_assertion(name)) if name else None
            if entry is None:
                self.decoy_work(c)
                return None
            return self._snapshot(c, entry)

        snap = self.pool.run(read)
        if snap is None:  # the statements a known user's shadow refresh costs
            conn.execute(select(users).where(users.c.external_id == "-"))
            conn.execute(select(methods.c.kind, methods.c.value).where(methods.c.user_id == -1))
            return None
        self._remember(snap)
        return self._shadow(conn, snap)

    def get(self, conn: DbConnection, user_id: int) -> User:
        return known(self.get_or_none(conn, user_id), user_id)

    def get_or_none(self, conn: DbConnection, user_id: int) -> User | None:
        return self._lookup(conn, user_id)[0]

    def _lookup(self, conn: DbConnection,
                user_id: int) -> tuple[LdapUser | None, Snapshot | None]:
        """The user (refreshed from the directory unless a fresh snapshot is at hand)."""
        row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None or not row.external_id:
            return None, None
        snap = self._fresh(row.external_id)
        if snap is not None:
            return self._from_row(row, snap.dn), snap

        def read(c: Connection) -> Snapshot | None:
            entry = self._user_entry(c, id_filter(self.id_attr, row.external_id))
            return self._snapshot(c, entry) if entry is not None else None

        snap = self.pool.run(read)
        if snap is None:  # gone from the directory (or out of the user filter's scope)
            if row.enabled:
                conn.execute(update(users).where(users.c.id == row.id).values(enabled=False))
            return LdapUser(row.id, row.username, row.display_name, row.given_name,
                            row.family_name, False, row.locked, row.is_admin, None,
                            row.registered_at, external_id=row.external_id), None
        self._remember(snap)
        return self._shadow(conn, snap), snap

    def group_names(self, conn: DbConnection, user_id: int) -> set[str]:
        _, snap = self._lookup(conn, user_id) if user_id >= 0 else (None, None)
        return set(snap.groups) if snap is not None else set()

    # ------------------------------------------------------------ passwords
    def verify_password(self, user: User | None, password: str) -> bool:
        """A bind as the user; an unknown or disabled user binds as a DN that does not exist,
        so both cost one bind."""
        if not password:  # an empty simple bind is an anonymous bind: never a proof
            return False
        if isinstance(user, LdapUser) and user.dn and user.enabled:
            return self.pool.check_bind(user.dn, password)
        self.pool.check_bind(self._decoy_dn(), password)  # the same cost as a real account
        return False

    def history_hashes(self, conn: DbConnection, user_id: int, depth: int) -> list[str]:
        return []  # the directory keeps the history and enforces it at writeback

    def _current(self, c: Connection, external_id: str) -> dict[str, Any]:
        entry = self._user_entry(c, id_filter(self.id_attr, external_id))
        if entry is None:
            raise NotEligible("this account is no longer in the directory", reason="gone")
        return entry

    def _row_external_id(self, conn: DbConnection, user_id: int) -> str:
        external_id = conn.execute(
            select(users.c.external_id).where(users.c.id == user_id)).scalar()
        if not external_id:
            raise NotEligible("this account is not a directory account", reason="not_directory")
        return str(external_id)

    def prepare_password(self, password: str) -> str | None:
        return None  # the directory hashes and keeps it

    def store_password(self, conn: DbConnection, user: User, password: str, now: datetime,
                       keep_history: int, *, prepared: str | None = None,
                       current: str | None = None) -> None:
        """Write the password back (which also unlocks); the shadow row follows only when the
        directory accepted it. With the `current` password it is the user's own change, as
        the directory sees one (its minimum age applies; AD: delete-old / add-new, so its
        history applies without the policy hints control), else an administrative reset."""
        external_id = self._row_external_id(conn, user.id)
        write = self._write_ad if self.ad else self._write_openldap
        still_locked = self.pool.run(lambda c: self._current(c, external_id),
                                     lambda c, entry: write(c, entry, password, current))
        self.forget(external_id)
        conn.execute(update(users).where(users.c.id == user.id).values(
            locked=still_locked, password_changed_at=now))

    def _write_openldap(self, c: Connection, entry: dict[str, Any], password: str,
                        current: str | None = None) -> bool:
        dn = entry["dn"]
        # RFC 3062 password modify, with the ppolicy control: history and quality apply
        self.pool.count_operation()
        if not c.extend.standard.modify_password(dn, current, password,
                                                 controls=[PPOLICY_REQUEST]):
            raise self._refused(c.result)
        # the password is set: from here on a failure is logged, never reported as a refusal
        try:
            return self._finish_openldap_reset(c, dn)
        except UNREACHABLE as exc:
            log.error("password of %s set, but the lock state was not checked: %s", dn, exc)
            return False  # ppolicy clears the lockout itself on a reset

    def _finish_openldap_reset(self, c: Connection, dn: str) -> bool:
        """ppolicy (2.5) clears the lockout on a reset; clear whatever remains. Returns whether
        the account is still locked."""
        after = self._search(c, dn, "(objectClass=*)", ["pwdAccountLockedTime", "pwdReset"],
                             scope=BASE)
        changes: dict[str, Any] = {}
        if after and first_value(after[0], "pwdAccountLockedTime") is not None:
            changes["pwdAccountLockedTime"] = [(MODIFY_REPLACE, [])]
        if self.cfg.clear_must_change and after and first_value(after[0], "pwdReset") is not None:
            changes["pwdReset"] = [(MODIFY_REPLACE, [])]
        if changes and not self._modify(c, dn, changes):
            log.error("password of %s set, but %s not cleared: %s", dn, ", ".join(changes),
                      c.result.get("description"))
            return "pwdAccountLockedTime" in changes
        return False

    def _write_ad(self, c: Connection, entry: dict[str, Any], password: str,
                  current: str | None = None) -> bool:
        controls = None
        if current is not None:  # the user's change: the DC checks the old one and history
            changes: dict[str, Any] = {"unicodePwd": [(MODIFY_DELETE, [ad_password(current)]),
                                                      (MODIFY_ADD, [ad_password(password)])]}
        else:  # a reset ("Reset Password" right); the hints ask the DC to apply history
            changes = {"unicodePwd": [(MODIFY_REPLACE, [ad_password(password)])]}
            if self._lock_state(entry)[1]:
                changes["lockoutTime"] = [(MODIFY_REPLACE, ["0"])]  # one operation: both or none
            controls = [AD_POLICY_HINTS] if self.cfg.ad_enforce_history else None
        if not self._modify(c, entry["dn"], changes, controls):
            raise self._refused(c.result)
        return False

    def _modify(self, c: Connection, dn: str, changes: dict[str, Any],
                controls: Any = None) -> bool:
        self.pool.count_operation()
        return bool(c.modify(dn, changes, controls=controls))

    def _refused(self, result: dict[str, Any] | None, *, password: bool = True) -> Exception:
        """The error to show for a write the directory refused: a rule violation when it
        refused the password for its policy, else ServiceUnavailable."""
        result = result or {}
        code, message = result.get("result"), result.get("message") or ""
        reason: str | None = None
        text = ""
        params: dict[str, Any] = {}
        if not password:
            pass
        elif self.ad:
            found = ad_refusal(message)
            if found:
                reason, text, params = found
        elif code == 19:
            error = ppolicy_error(result)
            reason, text = PPOLICY_ERRORS.get(error, ("constraintViolation", message)) \
                if error is not None else ("constraintViolation",
                                           message or "the directory refuses it")
        if reason is None:
            log.error("the directory refused a write: %s %s", result.get("description"), message)
            if code in SERVER_TROUBLE_CODES:
                return ServiceUnavailable("directory unavailable")
            return ServiceUnavailable(NOT_ACCEPTED)
        return PasswordRejected(
            "the directory does not accept the new password",
            violations=[{"rule": "directory", "message": text,
                         "params": {"reason": reason, "directory_message": message,
                                    **params}}])

    # ------------------------------------------------------------ lock / unlock
    def set_locked(self, conn: DbConnection, user_id: int, locked: bool) -> None:
        external_id = self._row_external_id(conn, user_id)
        if self.ad and locked:
            raise NotAvailable("Active Directory locks accounts itself; it cannot be asked to")

        def write(c: Connection, entry: dict[str, Any]) -> None:
            controls = None
            if self.ad:
                changes: dict[str, Any] = {"lockoutTime": [(MODIFY_REPLACE, ["0"])]}
            elif locked:
                changes = {"pwdAccountLockedTime": [
                    (MODIFY_REPLACE, [generalized_time(self.clock.now())])]}
            else:
                changes = {"pwdAccountLockedTime": [(MODIFY_REPLACE, [])]}
                if self.cfg.clear_failures:  # NO-USER-MODIFICATION: needs the Relax control
                    changes["pwdFailureTime"] = [(MODIFY_REPLACE, [])]
                    controls = [("1.3.6.1.4.1.4203.666.5.12", True, None)]
            if not self._modify(c, entry["dn"], changes, controls):
                raise self._refused(c.result, password=False)

        self.pool.run(lambda c: self._current(c, external_id), write)
        self.forget(external_id)
        conn.execute(update(users).where(users.c.id == user_id).values(locked=locked))

    # ------------------------------------------------------------ for the benchmark and tests
    def stats(self) -> tuple[int, float]:
        """(LDAP operations sent, seconds spent in directory calls) since the start."""
        return self.pool.operations, self.pool.seconds

    def close(self) -> None:
        self.pool.close()
