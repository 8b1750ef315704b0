"""The operator's operations over one Engine: users (view, add, import, flags, blocks) and
groups (add, nest, list). Every refusal is an AdminError; a bulk operation (CSV import)
collects every problem first and changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from kiosk.backend import METHOD_KINDS, Purpose
from kiosk.engine import registry
from kiosk.engine.admin.cleaning import NewUser, clean_group_name, clean_user
from kiosk.engine.admin.csv_import import MAX_PROBLEMS, parse_import
from kiosk.engine.admin.errors import Invalid, NotFound, plural
from kiosk.engine.admin.results import GroupInfo, ImportResult, UserInfo, status_of
from kiosk.engine.admin.snapshot import Memberships, Snapshot, load_snapshot, reach
from kiosk.engine.directory import BuiltinDirectory, User
from kiosk.engine.engine import Engine
from kiosk.engine.methods import METHODS
from kiosk.engine.passwords import normalize_password
from kiosk.engine.registry import Registered
from kiosk.engine.schema import blocks, group_members, groups, users
from kiosk.engine.text import normalize_username
from kiosk.engine.throttle import subjects_of


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

    @staticmethod
    def _shown(reg: Registered) -> dict[str, str]:
        """Registered methods in display order: contacts masked, never a secret."""
        shown: dict[str, str] = {}
        for kind in METHOD_KINDS:
            if kind in reg.contacts:
                shown[kind] = METHODS[kind].mask(reg.contacts[kind])
            elif kind == "questions" and reg.answers:
                shown[kind] = f"{len(reg.answers)} answers"
            elif kind == "authenticator" and reg.totp_secret:
                shown[kind] = "registered"
        return shown

    def _info(self, d: Snapshot, row: Any) -> UserInfo:
        user = User(row.id, row.username, row.display_name, row.given_name, row.family_name,
                    row.enabled, row.locked, row.is_admin, row.password_hash, row.registered_at)
        reg = d.registered.get(row.id, Registered())
        all_groups = d.effective(row.id)
        block = d.blocks.get(row.username)
        return UserInfo(
            username=row.username, display_name=row.display_name, given_name=row.given_name,
            family_name=row.family_name, is_admin=row.is_admin, enabled=row.enabled,
            locked=row.locked, password_set=row.password_hash is not None,
            password_changed_at=row.password_changed_at, registered_at=row.registered_at,
            groups=sorted(d.direct(row.id)), all_groups=sorted(all_groups),
            methods=self._shown(reg), usable=self.engine.usable_methods(user, reg),
            needed=2 if row.is_admin else self.policy.sspr.methods_required,
            sspr=status_of(self.engine.eligibility(Purpose.RESET, user, all_groups, reg, "")),
            blocked_until=block.until if block else None,
            block_reason=block.reason if block else "",
            block_support_code=block.support_code if block else "",
            question_ids=[a.question_id for a in reg.answers])

    def list_users(self) -> list[UserInfo]:
        with self.engine.db.connect() as conn:
            d = load_snapshot(conn, self.engine.clock.now())
        return [self._info(d, row) for row in d.rows]

    def show_user(self, username: str) -> UserInfo:
        with self.engine.db.connect() as conn:
            row = self._user_row(conn, username)
            d = load_snapshot(conn, self.engine.clock.now(), row.id)
        return self._info(d, d.rows[0])

    def user_blocks(self, username: str) -> list[Any]:
        """The user's active self-service blocks (rows of `blocks`), the longest first."""
        with self.engine.db.connect() as conn:
            row = self._user_row(conn, username)
            return list(conn.execute(select(blocks).where(
                blocks.c.subject.in_(subjects_of(row.id, row.username)),
                blocks.c.until > self.engine.clock.now()).order_by(blocks.c.until.desc())))

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

    def _refuse_cycle(self, conn: Connection, gid: int, sub: int, name: str,
                      member: str) -> None:
        """Refuse putting group `sub` into `gid` when `gid` is already inside `sub`."""
        if sub == gid:
            raise Invalid(f"refused: group {name!r} cannot contain itself")
        inside = self._contained(conn, sub)
        if gid in inside:
            path = [gid]
            while (up := inside[path[-1]]) is not None:
                path.append(up)
            names = dict(conn.execute(select(groups.c.id, groups.c.name)).all())
            chain = " contains ".join(names[g] for g in reversed(path))
            raise Invalid(f"refused: {chain}, so adding {member!r} to {name!r} "
                          "would make a cycle")

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
                self._refuse_cycle(conn, gid, sub, name, member)
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
            members = Memberships.load(conn)
        scope = set(self.policy.sspr.groups) if self.policy.sspr.enabled == "selected" else set()

        def users_in(gids: set[int]) -> list[str]:
            return sorted({usernames[u] for g in gids for u in members.users_of_group.get(g, [])})

        return [GroupInfo(name, users_in({gid}),
                          sorted(names[c] for c in members.children.get(gid, [])),
                          users_in(reach([gid], members.children)), name in scope)
                for gid, name in sorted(names.items(), key=lambda item: item[1])]
