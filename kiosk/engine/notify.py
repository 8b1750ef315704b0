"""Who is told what: notices to the user's contacts and alerts to the administrators.

Only builds messages; the engine sends them after its transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, select

from kiosk.engine import registry
from kiosk.engine.config import Policy
from kiosk.engine.delivery_base import Message
from kiosk.engine.messages import (
    account_unlocked_notice,
    admin_reset_alert,
    method_changed_notice,
    misuse_alert,
    password_reset_notice,
)
from kiosk.engine.schema import methods, users

# channel per contact kind; the office phone is voice only and not used for notices
NOTICE_CHANNELS = {"email": "email", "mobile": "text"}

Build = Callable[[str, str], Message]


def to_contacts(contacts: dict[str, str], build: Build, *, skip: str = "") -> list[Message]:
    return [
        build(NOTICE_CHANNELS[kind], value)
        for kind, value in contacts.items()
        if kind in NOTICE_CHANNELS and kind != skip
    ]


def admin_emails(conn: Connection, *, except_user: int | None = None) -> list[str]:
    query = (
        select(methods.c.value)
        .join(users, users.c.id == methods.c.user_id)
        .where(users.c.is_admin.is_(True), users.c.enabled.is_(True), methods.c.kind == "email")
    )
    if except_user is not None:
        query = query.where(users.c.id != except_user)
    return list(conn.execute(query).scalars())


class Notifier:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.org = policy.organization

    def password_reset(
        self,
        conn: Connection,
        user_id: int,
        username: str,
        is_admin: bool,
        when: datetime,
        terminal: str,
    ) -> list[Message]:
        out: list[Message] = []
        if self.policy.notifications.user_on_reset:
            out += to_contacts(
                registry.load(conn, user_id).contacts,
                lambda ch, to: password_reset_notice(
                    ch,
                    to,
                    username=username,
                    org=self.org,
                    when=when,
                    terminal=terminal,
                ),
            )
        if is_admin and self.policy.notifications.admins_on_admin_reset:
            out += [
                admin_reset_alert("email", to, username, org=self.org, when=when, terminal=terminal)
                for to in admin_emails(conn, except_user=user_id)
            ]
        return out

    def unlocked(
        self, conn: Connection, user_id: int, username: str, when: datetime, terminal: str
    ) -> list[Message]:
        if not self.policy.notifications.user_on_unlock:
            return []
        return to_contacts(
            registry.load(conn, user_id).contacts,
            lambda ch, to: account_unlocked_notice(
                ch,
                to,
                username=username,
                org=self.org,
                when=when,
                terminal=terminal,
            ),
        )

    def method_changed(
        self,
        contacts_before: dict[str, str],
        kind: str,
        username: str,
        when: datetime,
        terminal: str,
    ) -> list[Message]:
        """Told to the contacts the user had before the change (not the new one)."""
        if not self.policy.notifications.user_on_method_change:
            return []
        change = "updated" if kind in contacts_before else "added"
        return to_contacts(
            contacts_before,
            lambda ch, to: method_changed_notice(
                ch,
                to,
                kind,
                username=username,
                org=self.org,
                when=when,
                terminal=terminal,
                change=change,
            ),
            skip=kind,
        )

    def misuse(
        self,
        conn: Connection,
        username: str,
        support_code: str,
        when: datetime,
        until: datetime,
        terminal: str,
    ) -> list[Message]:
        if not self.policy.notifications.admins_on_block:
            return []
        return [
            misuse_alert(
                "email",
                to,
                username,
                support_code,
                org=self.org,
                when=when,
                terminal=terminal,
                until=until,
            )
            for to in admin_emails(conn)
        ]
