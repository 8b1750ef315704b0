"""The built-in directory in a few queries, for listings: who is in which group (nested groups
resolved in memory, not one recursive query per user), registered methods, active blocks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from kiosk.engine.registry import Registered, StoredAnswer
from kiosk.engine.schema import group_members, groups, methods, question_answers, users
from kiosk.engine.throttle import per_user_blocks


def reach(start: Iterable[int], edges: dict[int, list[int]]) -> set[int]:
    """`start` and every group reached from it along `edges`, any depth (a cycle ends)."""
    seen: set[int] = set()
    frontier = set(start)
    while frontier:
        seen |= frontier
        frontier = {n for g in frontier for n in edges.get(g, [])} - seen
    return seen


@dataclass
class Memberships:
    """Every direct membership, from one query."""

    groups_of_user: dict[int, list[int]]  # user id -> the groups it is directly in
    users_of_group: dict[int, list[int]]  # group id -> its direct user members
    parents: dict[int, list[int]]  # group id -> the groups that contain it
    children: dict[int, list[int]]  # group id -> the groups nested directly in it

    @classmethod
    def load(cls, conn: Connection) -> Memberships:
        found = cls({}, {}, {}, {})
        for gid, uid, sub in conn.execute(select(group_members.c.group_id,
                                                 group_members.c.user_id,
                                                 group_members.c.member_group_id)):
            if uid is not None:
                found.groups_of_user.setdefault(uid, []).append(gid)
                found.users_of_group.setdefault(gid, []).append(uid)
            if sub is not None:
                found.parents.setdefault(sub, []).append(gid)
                found.children.setdefault(gid, []).append(sub)
        return found


@dataclass
class Snapshot:
    """Everything `users list`, `users show` and the report need."""

    rows: Sequence[Any]
    group_names: dict[int, str]
    members: Memberships
    registered: dict[int, Registered]
    blocks: dict[str, Any]  # username -> newest active block row

    def direct(self, user_id: int) -> set[str]:
        return {self.group_names[g] for g in self.members.groups_of_user.get(user_id, [])}

    def effective(self, user_id: int) -> set[str]:
        start = self.members.groups_of_user.get(user_id, [])
        return {self.group_names[g] for g in reach(start, self.members.parents)}


def load_snapshot(conn: Connection, now: datetime, user_id: int | None = None) -> Snapshot:
    """Every user (or only `user_id`) with what a listing shows; never an answer hash, and an
    authenticator secret only to count it as registered."""
    query = select(users).order_by(users.c.username)
    mquery = select(methods.c.user_id, methods.c.kind, methods.c.value)
    qquery = (select(question_answers.c.user_id, question_answers.c.question_id)
              .order_by(question_answers.c.id))
    if user_id is not None:
        query = query.where(users.c.id == user_id)
        mquery = mquery.where(methods.c.user_id == user_id)
        qquery = qquery.where(question_answers.c.user_id == user_id)
    rows = conn.execute(query).all()
    group_names = dict(conn.execute(select(groups.c.id, groups.c.name)).all())
    registered: dict[int, Registered] = {}
    for uid, kind, value in conn.execute(mquery):
        reg = registered.setdefault(uid, Registered())
        if kind == "authenticator":
            reg.totp_secret = value  # only to count it as registered; never shown
        else:
            reg.contacts[kind] = value
    for uid, qid in conn.execute(qquery):  # never the answer hashes
        registered.setdefault(uid, Registered()).answers.append(StoredAnswer(qid, None, ""))
    return Snapshot(rows, group_names, Memberships.load(conn), registered,
                    per_user_blocks(conn, now))
