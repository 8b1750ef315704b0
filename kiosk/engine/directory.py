"""The built-in directory: users, nested groups, passwords and their history, in the database.

An LDAP directory (kiosk.engine.ldap_directory) offers the same operations against OpenLDAP / AD.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Row, delete, insert, select, update

from kiosk.engine.crypto import Hasher
from kiosk.engine.db import inserted_id
from kiosk.engine.schema import group_members, groups, password_history, users
from kiosk.engine.text import normalize_username


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    given_name: str
    family_name: str
    enabled: bool
    locked: bool
    is_admin: bool
    password_hash: str | None
    registered_at: datetime | None

    @property
    def name_terms(self) -> list[str]:
        """Names the password policy treats as banned terms."""
        return [t for t in (self.username, self.given_name, self.family_name) if t]


class Directory(Protocol):
    """Where users and passwords live. The built-in one keeps them in the kiosk's database; an
    LDAP / AD directory looks them up there and keeps a shadow row per user in `users` (so
    registered methods key on a stable local id)."""

    def find(self, conn: Connection, username: str) -> User | None: ...

    def get(self, conn: Connection, user_id: int) -> User: ...

    def get_or_none(self, conn: Connection, user_id: int) -> User | None: ...

    def group_names(self, conn: Connection, user_id: int) -> set[str]: ...

    def verify_password(self, user: User | None, password: str) -> bool: ...

    def history_hashes(self, conn: Connection, user_id: int, depth: int) -> list[str]: ...

    # True: a change (the user knows the password) hands store_password the current one, so
    # the directory treats it as the user's own change (its history and minimum age apply)
    changes_with_current: bool
    # contact kinds the directory keeps (LDAP with use_directory_contacts): not registered in
    # the kiosk, where they would be replaced or removed by the next lookup
    owned_contacts: frozenset[str]

    def prepare_password(self, password: str) -> str | None:
        """What store_password will need, computed outside any transaction (the argon2 hash
        of a kiosk-kept password); None when the directory itself keeps the password."""

    def store_password(self, conn: Connection, user: User, password: str, now: datetime,
                       keep_history: int, *, prepared: str | None = None,
                       current: str | None = None) -> None:
        """Set the (normalised) password and unlock, inside the caller's transaction; raise
        PasswordRejected when the directory refuses it (its verdict is final). `prepared` is
        prepare_password's result for this password; `current` the user's current password
        in a change (see changes_with_current)."""

    def set_locked(self, conn: Connection, user_id: int, locked: bool) -> None: ...


def _user(row: Row[Any]) -> User:
    m = row._mapping
    return User(m["id"], m["username"], m["display_name"], m["given_name"], m["family_name"],
                m["enabled"], m["locked"], m["is_admin"], m["password_hash"], m["registered_at"])


def known(user: User | None, user_id: int) -> User:
    """`Directory.get`'s answer: the user, or LookupError when there is none by that id."""
    if user is None:
        raise LookupError(f"no user with id {user_id}")
    return user


class BuiltinDirectory:
    changes_with_current = False  # the kiosk checks its own history
    owned_contacts: frozenset[str] = frozenset()

    def __init__(self, hasher: Hasher) -> None:
        self.hasher = hasher

    # ---- lookups
    def find(self, conn: Connection, username: str) -> User | None:
        row = conn.execute(
            select(users).where(users.c.username == normalize_username(username))
        ).first()
        return _user(row) if row else None

    def get(self, conn: Connection, user_id: int) -> User:
        return known(self.get_or_none(conn, user_id), user_id)

    def get_or_none(self, conn: Connection, user_id: int) -> User | None:
        row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def all_users(self, conn: Connection) -> list[User]:
        return [_user(r) for r in conn.execute(select(users).order_by(users.c.username))]

    def group_names(self, conn: Connection, user_id: int) -> set[str]:
        """Every group the user belongs to, directly or through nested groups.

        One recursive query (SQLite and PostgreSQL alike) whatever the depth: UNION drops
        rows already seen, so a cycle of groups ends, and every user costs the same."""
        member_of = (
            select(group_members.c.group_id)
            .where(group_members.c.user_id == user_id)
            .cte("member_of", recursive=True)
        )
        parents = select(group_members.c.group_id).join(
            member_of, group_members.c.member_group_id == member_of.c.group_id)
        member_of = member_of.union(parents)
        names = conn.execute(
            select(groups.c.name).where(groups.c.id.in_(select(member_of.c.group_id))))
        return set(names.scalars())

    # ---- passwords
    def verify_password(self, user: User | None, password: str) -> bool:
        return self.hasher.verify(user.password_hash if user else None, password)

    def history_hashes(self, conn: Connection, user_id: int, depth: int) -> list[str]:
        if depth <= 0:
            return []
        return list(conn.execute(
            select(password_history.c.password_hash)
            .where(password_history.c.user_id == user_id)
            .order_by(password_history.c.created_at.desc(), password_history.c.id.desc())
            .limit(depth)
        ).scalars())

    def prepare_password(self, password: str) -> str | None:
        return self.hasher.hash(password)

    def store_password(self, conn: Connection, user: User, password: str, now: datetime,
                       keep_history: int, *, prepared: str | None = None,
                       current: str | None = None) -> None:
        password_hash = prepared or self.hasher.hash(password)
        self.set_password_hash(conn, user.id, password_hash, now, keep_history)

    def set_password_hash(self, conn: Connection, user_id: int, password_hash: str,
                          now: datetime, keep_history: int) -> None:
        """New hash, history entry, unlock: the caller's transaction holds them together."""
        conn.execute(update(users).where(users.c.id == user_id).values(
            password_hash=password_hash, password_changed_at=now, locked=False))
        conn.execute(insert(password_history).values(
            user_id=user_id, password_hash=password_hash, created_at=now))
        keep = select(password_history.c.id).where(
            password_history.c.user_id == user_id
        ).order_by(password_history.c.created_at.desc(), password_history.c.id.desc()).limit(
            max(keep_history, 1))
        conn.execute(delete(password_history).where(
            password_history.c.user_id == user_id,
            password_history.c.id.not_in(keep.scalar_subquery())))

    def set_locked(self, conn: Connection, user_id: int, locked: bool) -> None:
        conn.execute(update(users).where(users.c.id == user_id).values(locked=locked))

    # ---- administration (demo data, `kiosk admin`)
    def add_user(self, conn: Connection, username: str, *, display_name: str = "",
                 given_name: str = "", family_name: str = "", is_admin: bool = False,
                 locked: bool = False, enabled: bool = True, password_hash: str | None = None,
                 now: datetime | None = None) -> int:
        result = conn.execute(insert(users).values(
            username=normalize_username(username), display_name=display_name or username,
            given_name=given_name, family_name=family_name, is_admin=is_admin, locked=locked,
            enabled=enabled, password_hash=password_hash, password_changed_at=now,
            totp_last_step=0))
        user_id = inserted_id(result)
        if password_hash and now:
            conn.execute(insert(password_history).values(
                user_id=user_id, password_hash=password_hash, created_at=now))
        return user_id

    def ensure_group(self, conn: Connection, name: str) -> int:
        row = conn.execute(select(groups.c.id).where(groups.c.name == name)).first()
        if row:
            return int(row[0])
        return inserted_id(conn.execute(insert(groups).values(name=name)))

    def add_member(self, conn: Connection, group: str, *, user_id: int | None = None,
                   member_group: str | None = None) -> None:
        gid = self.ensure_group(conn, group)
        sub = self.ensure_group(conn, member_group) if member_group else None
        conn.execute(insert(group_members).values(group_id=gid, user_id=user_id,
                                                  member_group_id=sub))
