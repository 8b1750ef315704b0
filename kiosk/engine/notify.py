"""Who is told what: notices to the user's contacts and alerts to the administrators.

Only builds messages; the engine sends them after its transaction commits. (A misuse alert is
also written to the audit log, in the same transaction: its rate limit counts those entries.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Connection, func, select, update

from kiosk.engine import audit, registry
from kiosk.engine.audit import Activity, AuditContext, Result
from kiosk.engine.config import Policy
from kiosk.engine.delivery_base import Message
from kiosk.engine.messages import (
    AccountNotice,
    Change,
    Channel,
    Event,
    account_notice,
    account_unlocked_notice,
    admin_reset_alert,
    message_language,
    method_changed_notice,
    misuse_alert,
    password_reset_notice,
)
from kiosk.engine.methods import NOTICE_CHANNELS
from kiosk.engine.schema import audit_events, methods, users

log = logging.getLogger("kiosk.engine")

Build = Callable[[Channel, str], Message]


def to_contacts(contacts: dict[str, str], build: Build, *, skip: str = "") -> list[Message]:
    return [
        build(NOTICE_CHANNELS[kind], value)
        for kind, value in contacts.items()
        if kind in NOTICE_CHANNELS and kind != skip
    ]


def admin_contacts(conn: Connection, *, except_user: int | None = None) -> list[tuple[str, str]]:
    """Every enabled administrator's email and preferred language ("" when unknown)."""
    query = (
        select(methods.c.value, users.c.language)
        .join(users, users.c.id == methods.c.user_id)
        .where(users.c.is_admin.is_(True), users.c.enabled.is_(True), methods.c.kind == "email")
    )
    if except_user is not None:
        query = query.where(users.c.id != except_user)
    return [(email, language or "") for email, language in conn.execute(query).all()]


def remember_language(conn: Connection, user_id: int | None, language: str) -> None:
    """Record the language of a user's completed flow or registration: their preferred one
    for messages sent later, outside a flow."""
    if user_id is not None and language:
        conn.execute(update(users).where(users.c.id == user_id).values(language=language))


class Notifier:
    def __init__(self, policy: Policy,
                 directory_admins: Callable[[], list[str]] | None = None) -> None:
        self.policy = policy
        self.org = policy.organization
        self.directory_admins = directory_admins

    def admin_contacts(self, conn: Connection, *,
                       except_user: int | None = None) -> list[tuple[str, str]]:
        """The kiosk's administrators and, with a directory that names them (LDAP / AD: the
        admin group's members), those who never used the kiosk; each address once, with its
        owner's preferred language ("" when unknown: the directory's own keep none)."""
        contacts = admin_contacts(conn, except_user=except_user)
        if self.directory_admins is not None:
            own = registry.load(conn, except_user).contacts.get("email", "") \
                if except_user is not None else ""
            contacts += [(e, "") for e in self.directory_admins()
                         if e.casefold() != own.casefold()]
        first: dict[str, tuple[str, str]] = {}
        for email, language in contacts:  # the kiosk's own come first: their language wins
            first.setdefault(email.casefold(), (email, language))
        return list(first.values())

    def language(self, language: str | None) -> str:
        """The language a message is written in (see messages.message_language)."""
        return message_language(self.org, language)

    def _to_user(self, conn: Connection, user_id: int, notice: AccountNotice, username: str,
                 when: datetime, terminal: str, language: str) -> list[Message]:
        return to_contacts(
            registry.load(conn, user_id).contacts,
            lambda ch, to: notice(ch, to, username=username, org=self.org, when=when,
                                  terminal=terminal, language=self.language(language)),
        )

    def password_reset(
        self,
        conn: Connection,
        user_id: int,
        username: str,
        is_admin: bool,
        when: datetime,
        terminal: str,
        language: str,
    ) -> list[Message]:
        """To the user's contacts in the flow's `language`; to the other administrators in
        each one's preferred language."""
        out: list[Message] = []
        if self.policy.notifications.user_on_reset:
            out += self._to_user(conn, user_id, password_reset_notice, username, when,
                                 terminal, language)
        if is_admin and self.policy.notifications.admins_on_admin_reset:
            out += [
                admin_reset_alert(Channel.EMAIL, to, username, org=self.org, when=when,
                                  terminal=terminal, language=self.language(preferred))
                for to, preferred in self.admin_contacts(conn, except_user=user_id)
            ]
        return out

    def unlocked(self, conn: Connection, user_id: int, username: str, when: datetime,
                 terminal: str, language: str) -> list[Message]:
        if not self.policy.notifications.user_on_unlock:
            return []
        return self._to_user(conn, user_id, account_unlocked_notice, username, when, terminal,
                             language)

    def access_pass(self, conn: Connection, user_id: int, username: str, event: Event,
                    when: datetime, terminal: str, language: str = "") -> list[Message]:
        """The helpdesk's temporary access pass (`pass_issued`, `pass_revoked`, `pass_used`,
        `pass_expired`) told to the user's contacts (never the pass itself): in the flow's
        `language` at the kiosk, else in the user's preferred one."""
        if not language:
            language = conn.execute(select(users.c.language).where(
                users.c.id == user_id)).scalar_one_or_none() or ""
        return self._to_user(conn, user_id, partial(account_notice, event), username, when,
                             terminal, language)

    def method_changed(
        self,
        contacts_before: dict[str, str],
        kind: str,
        username: str,
        when: datetime,
        terminal: str,
        language: str,
    ) -> list[Message]:
        """Told to every contact the user had before the change, the one being replaced too
        (not the new one: whoever just added it is not the person to warn), in the flow's
        `language`."""
        if not self.policy.notifications.user_on_method_change:
            return []
        change: Change = "updated" if kind in contacts_before else "added"
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
                language=self.language(language),
            ),
        )

    # Misuse alerts are counted in the database, in the audit log: each alert sent is one
    # `flow_progress` event with the result `contacted_admin` and this detail. So the limits
    # hold across processes and API instances sharing the database (two instances deciding at
    # the same instant may each send one: a limit on mail volume, not a security boundary).
    MISUSE_ALERT_DETAIL = "misuse alert sent to the administrators"
    ALERTS_PER_NAME_PER_HOUR = 1
    ALERTS_PER_HOUR = 20

    def misuse(
        self,
        conn: Connection,
        ctx: AuditContext,
        support_code: str,
        when: datetime,
        until: datetime,
        *,
        known: bool,
    ) -> list[Message]:
        """The admins' alert that the name `ctx.username` was blocked. An unknown account
        (`known=False`) is not named in it; a known one is cleaned and cut (`alert_name`).
        At most ALERTS_PER_NAME_PER_HOUR per name and ALERTS_PER_HOUR in all an hour, so
        made-up names cannot flood the admins' mailboxes; the audit log shows every block."""
        if not self.policy.notifications.admins_on_block:
            return []
        recipients = self.admin_contacts(conn)
        if not recipients:
            return []
        sent = (
            select(func.count())
            .select_from(audit_events)
            .where(
                audit_events.c.at > when - timedelta(hours=1),
                audit_events.c.activity == Activity.PROGRESS.value,
                audit_events.c.result == Result.CONTACTED_ADMIN.value,
                audit_events.c.detail == self.MISUSE_ALERT_DETAIL,
            )
        )
        same_name = sent.where(audit_events.c.username == ctx.username)
        if (
            conn.execute(same_name).scalar_one() >= self.ALERTS_PER_NAME_PER_HOUR
            or conn.execute(sent).scalar_one() >= self.ALERTS_PER_HOUR
        ):
            log.info("misuse alert for support code %s held back: alert limit", support_code)
            return []
        audit.record(
            conn,
            ctx,
            when,
            Activity.PROGRESS,
            Result.CONTACTED_ADMIN,
            detail=self.MISUSE_ALERT_DETAIL,
        )
        return [
            misuse_alert(
                Channel.EMAIL,
                to,
                ctx.username,
                support_code,
                known=known,
                org=self.org,
                when=when,
                terminal=ctx.terminal,
                until=until,
                language=self.language(preferred),
            )
            for to, preferred in recipients
        ]
