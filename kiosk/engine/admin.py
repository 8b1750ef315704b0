"""Operator operations behind `kiosk admin`: users, groups, blocks, the demo database.

Headless and free of click, so the CLI stays a thin layer and the HTTP API could offer the same
operations later. Every refusal is an `AdminError` whose message is one line an operator can
act on; a bulk operation (CSV import) collects every problem first and changes nothing.

Nothing here ever returns a password hash, a TOTP secret or a security answer: methods come back
masked, questions as a count, the authenticator as "registered".
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, func, insert, select, update

from kiosk.backend import METHOD_KINDS, NotEligible, NotRegistered, Purpose
from kiosk.engine import registry
from kiosk.engine.directory import BuiltinDirectory, User
from kiosk.engine.engine import Engine
from kiosk.engine.passwords import normalize_password
from kiosk.engine.registry import Registered, StoredAnswer
from kiosk.engine.schema import blocks, group_members, groups, methods, question_answers, users
from kiosk.engine.text import (
    has_control_chars,
    mask_email,
    mask_phone,
    normalize_phone,
    normalize_username,
)
from kiosk.engine.throttle import per_user_blocks, subjects_of

IMPORT_COLUMNS = ("username", "display_name", "given_name", "family_name", "email", "mobile",
                  "office", "groups", "admin")
GROUP_SEPARATOR = ";"
MAX_PROBLEMS = 50  # a wholly wrong file should not scroll the first problems away

_USERNAME = re.compile(r"^[\w.@+-]+$")
_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"", "0", "false", "no", "n", "off"}

# self-service status of a user (what `users list` shows and the coverage figure counts)
READY = "ready"
NOT_REGISTERED = "not registered"
OUT_OF_SCOPE = "not in scope"
DISABLED = "disabled"


class AdminError(Exception):
    """The operation cannot be done. `problems` holds one line per problem (at least one)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems) or [message]


class NotFound(AdminError):
    """An unknown user, group or file."""


class Invalid(AdminError):
    """Bad input: a malformed value, a duplicate, a cycle, a rejected password."""


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


# ---------------------------------------------------------------------------- validation
@dataclass(frozen=True)
class NewUser:
    """A user to add, as typed; `clean_user` gives the normalised form or the problems."""

    username: str
    display_name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    mobile: str = ""
    office: str = ""
    groups: tuple[str, ...] = ()
    is_admin: bool = False

    @property
    def contacts(self) -> dict[str, str]:
        return {k: v for k, v in (("email", self.email), ("mobile", self.mobile),
                                  ("office", self.office)) if v}


def _text(problems: list[str], label: str, value: str, max_len: int) -> str:
    value = value.strip()
    if has_control_chars(value):
        problems.append(f"{label} contains control characters")
    elif len(value) > max_len:
        problems.append(f"{label} is too long ({len(value)} characters, at most {max_len})")
    return value


def clean_username(value: str) -> str:
    """The stored (casefolded) form of a username, or Invalid."""
    name = normalize_username(value)
    if not name:
        raise Invalid("username is empty")
    if has_control_chars(name) or len(name) > 128 or not _USERNAME.match(name):
        raise Invalid(f"username {value.strip()!r} is not valid: use at most 128 letters, "
                      "digits and . _ - @ +")
    return name


def clean_group_name(value: str) -> str:
    name = value.strip()
    if not name:
        raise Invalid("group name is empty")
    if has_control_chars(name) or len(name) > 128 or GROUP_SEPARATOR in name or "," in name:
        raise Invalid(f"group name {name!r} is not valid: at most 128 characters, "
                      "no control characters, no ',' or ';'")
    return name


def clean_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(f"email {value.strip()!r} is not valid: {exc}") from None


def clean_phone(kind: str, value: str) -> str:
    e164 = normalize_phone(value.strip()) if value.strip().startswith("+") else None
    if e164 is None:
        raise Invalid(f"{kind} {value.strip()!r} is not a valid phone number in international "
                      "(E.164) form, e.g. +14255550100")
    return e164


def parse_flag(value: str) -> bool:
    text = value.strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(f"admin {value.strip()!r} is not valid: use true or false (yes/no, 1/0)")


def clean_user(raw: NewUser) -> tuple[NewUser, list[str]]:
    """Normalise every field; returns the clean user and the problems (empty when valid)."""
    problems: list[str] = []

    def attempt(fn: Any, *args: str) -> str:
        try:
            return str(fn(*args))
        except Invalid as exc:
            problems.append(exc.message)
            return ""

    username = attempt(clean_username, raw.username)
    display = _text(problems, "display_name", raw.display_name, 200)
    given = _text(problems, "given_name", raw.given_name, 100)
    family = _text(problems, "family_name", raw.family_name, 100)
    email = attempt(clean_email, raw.email) if raw.email.strip() else ""
    mobile = attempt(clean_phone, "mobile", raw.mobile) if raw.mobile.strip() else ""
    office = attempt(clean_phone, "office", raw.office) if raw.office.strip() else ""
    names: list[str] = []
    for group in raw.groups:
        if group.strip():
            name = attempt(clean_group_name, group)
            if name and name not in names:
                names.append(name)
    clean = NewUser(username, display or username, given, family, email, mobile, office,
                    tuple(names), raw.is_admin)
    return clean, problems


# ---------------------------------------------------------------------------- views
@dataclass
class UserInfo:
    """One user as an operator sees it: flags, groups, masked methods, self-service status."""

    username: str
    display_name: str
    given_name: str
    family_name: str
    is_admin: bool
    enabled: bool
    locked: bool
    password_set: bool
    password_changed_at: datetime | None
    registered_at: datetime | None
    groups: list[str]  # direct memberships
    all_groups: list[str]  # direct and through nested groups
    methods: dict[str, str]  # kind -> masked value ("3 answers", "registered")
    usable: list[str]  # registered methods the policy lets this user reset with
    needed: int  # methods a reset needs (2 for administrators)
    sspr: str  # READY, NOT_REGISTERED, OUT_OF_SCOPE or DISABLED
    blocked_until: datetime | None = None
    block_reason: str = ""
    block_support_code: str = ""

    @property
    def eligible(self) -> bool:
        """In the self-service scope (enabled, and in a selected group or an administrator)."""
        return self.sspr in (READY, NOT_REGISTERED)

    def to_json(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return value.isoformat(timespec="seconds") if value else None

        return {
            "username": self.username, "display_name": self.display_name,
            "given_name": self.given_name, "family_name": self.family_name,
            "admin": self.is_admin, "enabled": self.enabled, "locked": self.locked,
            "password_set": self.password_set,
            "password_changed_at": when(self.password_changed_at),
            "registered_at": when(self.registered_at),
            "groups": self.groups, "all_groups": self.all_groups,
            "methods": [{"kind": k, "masked": v} for k, v in self.methods.items()],
            "usable_methods": self.usable, "methods_needed": self.needed, "sspr": self.sspr,
            "blocked_until": when(self.blocked_until), "block_reason": self.block_reason,
            "block_support_code": self.block_support_code,
        }


@dataclass(frozen=True)
class GroupInfo:
    name: str
    users: list[str]  # direct user members
    groups: list[str]  # direct nested groups
    all_users: list[str]  # through nested groups too
    in_sspr_scope: bool  # named in sspr.groups (with sspr.enabled = "selected")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "users": self.users, "groups": self.groups,
                "all_users": self.all_users, "sspr_scope": self.in_sspr_scope}


@dataclass(frozen=True)
class ImportResult:
    users: list[str]
    groups_created: list[str] = field(default_factory=list)
    dry_run: bool = False


METHOD_ORDER = METHOD_KINDS


@dataclass
class _Directory:
    """Everything `users list`, `users show` and the report need, loaded in a few queries."""

    rows: list[Any]
    group_names: dict[int, str]
    direct_groups: dict[int, list[int]]  # user id -> group ids
    parents: dict[int, list[int]]  # group id -> groups that contain it
    registered: dict[int, Registered]
    blocks: dict[str, Any]  # username -> newest active block row

    def effective(self, user_id: int) -> set[str]:
        seen: set[int] = set()
        frontier = set(self.direct_groups.get(user_id, []))
        while frontier:
            seen |= frontier
            frontier = {p for g in frontier for p in self.parents.get(g, [])} - seen
        return {self.group_names[g] for g in seen}


# ---------------------------------------------------------------------------- operations
class Admin:
    """The operator's operations over one Engine (its database, directory and policy)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.policy = engine.policy

    # ------------------------------------------------------------ lookups
    def _user_row(self, conn: Connection, username: str) -> Any:
        row = conn.execute(select(users).where(
            users.c.username == normalize_username(username))).first()
        if row is None:
            raise NotFound(f"unknown user {username.strip()!r}")
        return row

    def _group_id(self, conn: Connection, name: str) -> int:
        gid = conn.execute(select(groups.c.id).where(groups.c.name == name.strip())).scalar()
        if gid is None:
            raise NotFound(f"unknown group {name.strip()!r}")
        return int(gid)

    def _load(self, conn: Connection, user_id: int | None = None) -> _Directory:
        now = self.engine.clock.now()
        query = select(users).order_by(users.c.username)
        if user_id is not None:
            query = query.where(users.c.id == user_id)
        rows = conn.execute(query).all()
        group_names = dict(conn.execute(select(groups.c.id, groups.c.name)).all())
        direct: dict[int, list[int]] = {}
        parents: dict[int, list[int]] = {}
        for gid, uid, sub in conn.execute(select(group_members.c.group_id,
                                                 group_members.c.user_id,
                                                 group_members.c.member_group_id)):
            if uid is not None:
                direct.setdefault(uid, []).append(gid)
            if sub is not None:
                parents.setdefault(sub, []).append(gid)
        registered: dict[int, Registered] = {}
        mquery = select(methods.c.user_id, methods.c.kind, methods.c.value)
        qquery = select(question_answers.c.user_id, question_answers.c.question_id)
        if user_id is not None:
            mquery = mquery.where(methods.c.user_id == user_id)
            qquery = qquery.where(question_answers.c.user_id == user_id)
        for uid, kind, value in conn.execute(mquery):
            reg = registered.setdefault(uid, Registered())
            if kind == "authenticator":
                reg.totp_secret = value  # only to count it as registered; never shown
            else:
                reg.contacts[kind] = value
        for uid, qid in conn.execute(qquery):  # never the answer hashes
            registered.setdefault(uid, Registered()).answers.append(StoredAnswer(qid, None, ""))
        active = per_user_blocks(conn, now)
        return _Directory(rows, group_names, direct, parents, registered, active)

    def _info(self, d: _Directory, row: Any) -> UserInfo:
        user = User(row.id, row.username, row.display_name, row.given_name, row.family_name,
                    row.enabled, row.locked, row.is_admin, row.password_hash, row.registered_at)
        reg = d.registered.get(row.id, Registered())
        all_groups = d.effective(row.id)
        refusal = self.engine.eligibility(Purpose.RESET, user, all_groups, reg, "")
        if refusal is None:
            status = READY
        elif isinstance(refusal, NotRegistered):
            status = NOT_REGISTERED
        elif isinstance(refusal, NotEligible) and refusal.params.get("reason") == "disabled":
            status = DISABLED
        else:
            status = OUT_OF_SCOPE
        shown: dict[str, str] = {}
        for kind in METHOD_ORDER:
            if kind in reg.contacts:
                value = reg.contacts[kind]
                shown[kind] = mask_email(value) if kind == "email" else mask_phone(value)
            elif kind == "questions" and reg.answers:
                shown[kind] = f"{len(reg.answers)} answers"
            elif kind == "authenticator" and reg.totp_secret:
                shown[kind] = "registered"
        block = d.blocks.get(row.username)
        return UserInfo(
            username=row.username, display_name=row.display_name, given_name=row.given_name,
            family_name=row.family_name, is_admin=row.is_admin, enabled=row.enabled,
            locked=row.locked, password_set=row.password_hash is not None,
            password_changed_at=row.password_changed_at, registered_at=row.registered_at,
            groups=sorted(d.group_names[g] for g in d.direct_groups.get(row.id, [])),
            all_groups=sorted(all_groups), methods=shown,
            usable=self.engine.usable_methods(user, reg),
            needed=2 if row.is_admin else self.policy.sspr.methods_required, sspr=status,
            blocked_until=block.until if block else None,
            block_reason=block.reason if block else "",
            block_support_code=block.support_code if block else "")

    def list_users(self) -> list[UserInfo]:
        with self.engine.db.connect() as conn:
            d = self._load(conn)
        return [self._info(d, row) for row in d.rows]

    def show_user(self, username: str) -> UserInfo:
        with self.engine.db.connect() as conn:
            row = self._user_row(conn, username)
            d = self._load(conn, row.id)
        return self._info(d, d.rows[0])

    # ------------------------------------------------------------ adding users
    def _taken(self, conn: Connection) -> tuple[set[str], set[str]]:
        """Usernames in use and group names that exist."""
        return (set(conn.execute(select(users.c.username)).scalars()),
                set(conn.execute(select(groups.c.name)).scalars()))

    @staticmethod
    def _check_new(raw: NewUser, taken: set[str], known_groups: set[str],
                   create_groups: bool) -> tuple[NewUser, list[str]]:
        user, problems = clean_user(raw)
        if user.username and user.username in taken:
            problems.append(f"user {user.username!r} already exists")
        if not create_groups:
            problems += [f"unknown group {g!r} (create it first with `kiosk admin groups add`, "
                         "or import with --create-groups)"
                         for g in user.groups if g not in known_groups]
        return user, problems

    def _builtin(self) -> BuiltinDirectory:
        directory = self.engine.directory
        if not isinstance(directory, BuiltinDirectory):
            raise Invalid("users are added in the directory itself (LDAP / Active Directory), "
                          "not with `kiosk admin`")
        return directory

    def _insert(self, conn: Connection, user: NewUser, password_hash: str | None,
                now: datetime) -> None:
        directory = self._builtin()
        uid = directory.add_user(conn, user.username, display_name=user.display_name,
                                 given_name=user.given_name, family_name=user.family_name,
                                 is_admin=user.is_admin, password_hash=password_hash, now=now)
        for kind, value in user.contacts.items():
            registry.set_method(conn, uid, kind, value, now)
        for group in user.groups:
            directory.add_member(conn, group, user_id=uid)

    def check_new_password(self, user: NewUser, password: str) -> list[str]:
        """The password policy's reasons against an initial password (empty when it passes)."""
        terms = [t for t in (user.username, user.given_name, user.family_name) if t]
        result = self.engine.passwords.check(password, user_terms=terms)
        return [v.message for v in result.violations]

    def add_user(self, raw: NewUser, password: str | None = None) -> UserInfo:
        """Add one user (contacts become registered methods). Refuses a bad field, a taken
        name, an unknown group or a password the policy rejects, changing nothing."""
        now = self.engine.clock.now()
        with self.engine.db.begin() as conn:
            user, problems = self._check_new(raw, *self._taken(conn), create_groups=False)
            if password is not None and not problems:
                problems += [f"password: {m}" for m in self.check_new_password(user, password)]
            if problems:
                raise Invalid(problems[0] if len(problems) == 1 else
                              f"{plural(len(problems), 'problem')}, user not added", problems)
            hashed = (self.engine.hasher.hash(normalize_password(password))
                      if password is not None else None)
            self._insert(conn, user, hashed, now)
        return self.show_user(user.username)

    def import_users(self, data: bytes, source: str = "input", *, create_groups: bool = False,
                     dry_run: bool = False) -> ImportResult:
        """Import a CSV file (IMPORT_COLUMNS; header required; `groups` separated by ';').

        Every row is checked before anything is written; any problem (each named by its line)
        raises Invalid and nothing is imported. One transaction holds the whole import.
        """
        now = self.engine.clock.now()
        parsed, problems = parse_import(data, source)  # a bad header raises at once
        with self.engine.db.begin() as conn:
            taken, known = self._taken(conn)
            first_line: dict[str, int] = {}
            clean: list[NewUser] = []
            for line, raw in parsed:
                user, row_problems = self._check_new(raw, taken, known, create_groups)
                if user.username in first_line:
                    row_problems.append(f"user {user.username!r} appears again "
                                        f"(first on line {first_line[user.username]})")
                elif user.username:
                    first_line[user.username] = line
                problems += [(line, p) for p in row_problems]
                clean.append(user)
            if problems:
                problems.sort(key=lambda item: item[0])
                shown = [f"{source} line {line}: {p}" for line, p in problems[:MAX_PROBLEMS]]
                if len(problems) > MAX_PROBLEMS:
                    shown.append(f"... and {len(problems) - MAX_PROBLEMS} more problems")
                raise Invalid(f"{source}: {plural(len(problems), 'problem')}, nothing imported",
                              shown)
            if not clean:
                raise Invalid(f"{source}: no user rows after the header")
            created = sorted({g for u in clean for g in u.groups} - known)
            if not dry_run:
                for user in clean:
                    self._insert(conn, user, None, now)
        return ImportResult([u.username for u in clean], created, dry_run)

    # ------------------------------------------------------------ flags
    def _set(self, username: str, **values: bool) -> tuple[UserInfo, bool]:
        """Set flags on a user; returns the user and whether anything changed."""
        with self.engine.db.begin() as conn:
            row = self._user_row(conn, username)
            changed = any(getattr(row, key) != value for key, value in values.items())
            if changed:
                conn.execute(update(users).where(users.c.id == row.id).values(**values))
        return self.show_user(row.username), changed

    def set_enabled(self, username: str, enabled: bool) -> tuple[UserInfo, bool]:
        return self._set(username, enabled=enabled)

    def unlock(self, username: str) -> tuple[UserInfo, bool]:
        """Clear the account lock in the directory (not an SSPR block: see `unblock`)."""
        return self._set(username, locked=False)

    def set_admin(self, username: str, is_admin: bool) -> tuple[UserInfo, bool]:
        return self._set(username, is_admin=is_admin)

    def unblock(self, username: str) -> int:
        """Lift the user's active SSPR blocks and clear their throttle counters, so the next
        mistake does not block them again at once. Returns how many blocks were lifted.

        A name that is not in the directory may still be blocked (unknown names are throttled
        like real ones); such a block can be lifted too."""
        name = normalize_username(username)
        now = self.engine.clock.now()
        with self.engine.db.begin() as conn:
            user = self.engine.directory.find(conn, name)
            subjects = subjects_of(user.id if user else None, name)
            active = conn.execute(select(func.count()).select_from(blocks).where(
                blocks.c.subject.in_(subjects), blocks.c.until > now)).scalar_one()
            if user is None and not active:
                raise NotFound(f"unknown user {username.strip()!r}")
            lifted = self.engine.throttle.lift(conn, now, *subjects)
            self.engine.throttle.clear_user(conn, *subjects)
        return lifted

    # ------------------------------------------------------------ groups
    def add_group(self, name: str) -> str:
        name = clean_group_name(name)
        with self.engine.db.begin() as conn:
            if conn.execute(select(groups.c.id).where(groups.c.name == name)).first():
                raise Invalid(f"group {name!r} already exists")
            conn.execute(insert(groups).values(name=name))
        return name

    def _contained(self, conn: Connection, start: int) -> dict[int, int | None]:
        """Every group inside `start` (nested, any depth) -> the group that contains it."""
        via: dict[int, int | None] = {start: None}
        frontier = [start]
        while frontier:
            rows = conn.execute(select(group_members.c.group_id, group_members.c.member_group_id)
                                .where(group_members.c.group_id.in_(frontier),
                                       group_members.c.member_group_id.is_not(None))).all()
            frontier = []
            for parent, child in rows:
                if child not in via:
                    via[child] = parent
                    frontier.append(child)
        return via

    def add_member(self, group: str, *, user: str | None = None,
                   member_group: str | None = None) -> str:
        """Put a user or a group into `group`. A group may not end up inside itself."""
        if (user is None) == (member_group is None):
            raise Invalid("give exactly one of a user or a group to add")
        with self.engine.db.begin() as conn:
            gid = self._group_id(conn, group)
            name = conn.execute(select(groups.c.name).where(groups.c.id == gid)).scalar_one()
            if user is not None:
                row = self._user_row(conn, user)
                member = row.username
                exists = select(group_members.c.id).where(
                    group_members.c.group_id == gid, group_members.c.user_id == row.id)
                values: dict[str, Any] = {"user_id": row.id}
            else:
                assert member_group is not None
                sub = self._group_id(conn, member_group)
                member = conn.execute(
                    select(groups.c.name).where(groups.c.id == sub)).scalar_one()
                if sub == gid:
                    raise Invalid(f"refused: group {name!r} cannot contain itself")
                inside = self._contained(conn, sub)
                if gid in inside:
                    path = [gid]
                    while inside[path[-1]] is not None:
                        path.append(inside[path[-1]])  # type: ignore[arg-type]
                    names = conn.execute(select(groups.c.id, groups.c.name)).all()
                    chain = " contains ".join(dict(names)[g] for g in reversed(path))
                    raise Invalid(f"refused: {chain}, so adding {member!r} to {name!r} "
                                  "would make a cycle")
                exists = select(group_members.c.id).where(
                    group_members.c.group_id == gid, group_members.c.member_group_id == sub)
                values = {"member_group_id": sub}
            if conn.execute(exists).first():
                raise Invalid(f"{member!r} is already a member of {name!r}")
            conn.execute(insert(group_members).values(group_id=gid, **values))
        return name

    def list_groups(self) -> list[GroupInfo]:
        with self.engine.db.connect() as conn:
            names = dict(conn.execute(select(groups.c.id, groups.c.name)).all())
            usernames = dict(conn.execute(select(users.c.id, users.c.username)).all())
            direct_users: dict[int, list[str]] = {}
            children: dict[int, list[int]] = {}
            for gid, uid, sub in conn.execute(select(group_members.c.group_id,
                                                     group_members.c.user_id,
                                                     group_members.c.member_group_id)):
                if uid is not None:
                    direct_users.setdefault(gid, []).append(usernames[uid])
                if sub is not None:
                    children.setdefault(gid, []).append(sub)
        scope = set(self.policy.sspr.groups) if self.policy.sspr.enabled == "selected" else set()
        result = []
        for gid, name in sorted(names.items(), key=lambda item: item[1]):
            seen, frontier = {gid}, [gid]
            while frontier:
                frontier = [c for g in frontier for c in children.get(g, []) if c not in seen]
                seen.update(frontier)
            everyone = sorted({u for g in seen for u in direct_users.get(g, [])})
            result.append(GroupInfo(name, sorted(direct_users.get(gid, [])),
                                    sorted(names[c] for c in children.get(gid, [])), everyone,
                                    name in scope))
        return result


# ---------------------------------------------------------------------------- CSV import
def parse_import(data: bytes, source: str = "input"
                 ) -> tuple[list[tuple[int, NewUser]], list[tuple[int, str]]]:
    """The rows of an import file, each with the line it starts on, and the rows' structural
    problems (field count, admin flag) by line. A file that cannot be read as CSV with the
    expected header raises Invalid at once."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise Invalid(f"{source} line {line}: not UTF-8 text (save the file as UTF-8 CSV)",
                      ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                rows.append((start, record))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid(f"{source} line {start}: malformed CSV ({exc}), nothing imported") from None
    if not rows:
        raise Invalid(f"{source}: the file is empty (the first line must be the header: "
                      f"{','.join(IMPORT_COLUMNS)})")
    header_line, header = rows[0]
    columns = [c.strip().casefold() for c in header]
    unknown = [c for c in columns if c not in IMPORT_COLUMNS]
    if unknown or "username" not in columns or len(set(columns)) != len(columns):
        hint = " (the file seems to use ';' between fields: use ',')" if ";" in header[0] else ""
        what = (f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown else
                "no 'username' column" if "username" not in columns else "a column repeats")
        raise Invalid(f"{source} line {header_line}: bad header: {what}; expected "
                      f"{','.join(IMPORT_COLUMNS)}{hint}")
    problems: list[tuple[int, str]] = []
    result: list[tuple[int, NewUser]] = []
    for line, record in rows[1:]:
        if len(record) != len(columns):
            problems.append((line, f"{len(record)} fields, expected {len(columns)}"))
            continue
        values = dict(zip(columns, record, strict=True))
        try:
            is_admin = parse_flag(values.get("admin", ""))
        except Invalid as exc:
            problems.append((line, exc.message))
            is_admin = False
        result.append((line, NewUser(
            username=values["username"], display_name=values.get("display_name", ""),
            given_name=values.get("given_name", ""), family_name=values.get("family_name", ""),
            email=values.get("email", ""), mobile=values.get("mobile", ""),
            office=values.get("office", ""),
            groups=tuple(g for g in values.get("groups", "").split(GROUP_SEPARATOR)
                         if g.strip()),
            is_admin=is_admin)))
    return result, problems


# ---------------------------------------------------------------------------- output helpers
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection): text starting
    with = + - @ (or a tab or carriage return) gets a leading single quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_csv(out: Any, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
        count += 1
    return count


def write_json(out: Any, items: Iterable[dict[str, Any]]) -> int:
    """A JSON array written item by item (an export of a year's audit log stays small)."""
    count = 0
    out.write("[")
    for item in items:
        out.write(",\n  " if count else "\n  ")
        out.write(json.dumps(item, ensure_ascii=False, default=str))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


# ---------------------------------------------------------------------------- demo database
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def to_toml(data: dict[str, Any]) -> str:
    """A small TOML writer for a policy: scalars first, then one table per section."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, section in data.items():
        if isinstance(section, dict):
            lines += ["", f"[{key}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in section.items()]
    return "\n".join(lines) + "\n"


DEMO_POLICY_FILE = "kiosk.toml"
DEMO_POLICY_MARK = "# The demo policy, written by `kiosk admin demo reset`"


def demo_reset(directory: Path) -> tuple[Path, Path]:
    """A fresh demo database in `directory` (the old demo.db and its WAL files are removed),
    plus a policy file there that points at it, for `kiosk admin --policy DIR/kiosk.toml`."""
    from kiosk.engine.demo import DEMO_POLICY, build_demo_engine  # only this command needs it

    directory = directory.resolve()
    if directory.exists() and not directory.is_dir():
        raise Invalid(f"{directory} is not a directory")
    policy_file = directory / DEMO_POLICY_FILE
    if policy_file.exists() and not policy_file.read_text(
            encoding="utf-8", errors="replace").startswith(DEMO_POLICY_MARK):
        raise Invalid(f"{policy_file} exists and is not a demo policy: refusing to replace it "
                      "(choose another --directory)")
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "demo.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        target = database.with_name(database.name + suffix)
        if target.is_dir():
            raise Invalid(f"{target} is a directory: refusing to replace it")
        target.unlink(missing_ok=True)
    engine = build_demo_engine(directory)
    engine.db.dispose()
    policy = {**DEMO_POLICY, "database": {"url": f"sqlite:///{database}"}}
    policy_file.write_text(f"{DEMO_POLICY_MARK} (kiosk.engine.demo.DEMO_POLICY)\n"
                           + to_toml(policy), encoding="utf-8")
    return database, policy_file

