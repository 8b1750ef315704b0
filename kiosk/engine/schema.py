"""Database tables (SQLAlchemy Core). The Alembic migrations create exactly these.

Portable SQL only: the same schema serves SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False, unique=True),  # stored casefolded
    Column("display_name", String(200), nullable=False, default=""),
    Column("given_name", String(100), nullable=False, default=""),
    Column("family_name", String(100), nullable=False, default=""),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("locked", Boolean, nullable=False, default=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("password_hash", Text, nullable=True),
    Column("password_changed_at", UtcDateTime(), nullable=True),
    Column("registered_at", UtcDateTime(), nullable=True),  # last (re)confirmation
    Column("totp_last_step", BigInteger, nullable=False, default=0),
    # an LDAP / AD user's stable id (entryUUID / objectGUID); NULL for built-in users
    Column("external_id", String(64), nullable=True),
    # the language of the user's last completed flow or registration: notices sent outside
    # a flow (alerts to administrators) use it; NULL: the organisation's default
    Column("language", String(16), nullable=True),
    Index("ix_users_external_id", "external_id", unique=True),
)

password_history = Table(
    "password_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_password_history_user", "user_id", "created_at"),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
)

# a member is a user or a nested group
group_members = Table(
    "group_members",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("member_group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=True),
    UniqueConstraint("group_id", "user_id", "member_group_id", name="uq_group_member"),
    # the nested-membership walk goes from a user up through parent groups
    Index("ix_group_members_user", "user_id"),
    Index("ix_group_members_member_group", "member_group_id"),
)

# registered methods: email / mobile / office hold `value`; authenticator holds the secret
methods = Table(
    "methods",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("user_id", "kind", name="uq_method_user_kind"),
)

# security questions: answers only as argon2id hashes of the normalised answer
question_answers = Table(
    "question_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("question_id", String(40), nullable=False),  # predefined id or "custom:<n>"
    Column("custom_text", String(200), nullable=True),
    Column("answer_hash", Text, nullable=False),
    UniqueConstraint("user_id", "question_id", name="uq_question_user"),
)

flows = Table(
    "flows",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("correlation_id", String(36), nullable=False),
    Column("support_code", String(16), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("username", String(256), nullable=False),  # as identified (casefolded)
    Column("user_id", Integer, nullable=True),  # NULL: a decoy flow (see engine/accounts.py)
    # whom the per-user throttle counts: "account:<id>" for a directory account (also behind
    # a decoy), "user:<name>" for a name nobody has
    Column("subject", String(300), nullable=False, server_default=""),
    Column("terminal", String(200), nullable=False),
    # the visitor's language (a catalogue language, kiosk.i18n): codes and notices use it;
    # NULL (a flow from before 0006): the organisation's default
    Column("language", String(16), nullable=True),
    Column("status", String(16), nullable=False),  # open, done, cancelled, abandoned, blocked
    Column("step", String(32), nullable=False),
    Column("gates_required", Integer, nullable=False),
    Column("gates_passed", JSON, nullable=False),  # list of method kinds passed
    Column("attempted", Boolean, nullable=False, default=False),  # any verification tried
    Column("data", JSON, nullable=False),  # drawn questions, pending enrolment, ...
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime(), nullable=True),
    Index("ix_flows_username", "username", "created_at"),
)

challenges = Table(
    "challenges",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("flow_id", String(64), ForeignKey("flows.id", ondelete="CASCADE"), nullable=False),
    Column("method", String(20), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("destination", Text, nullable=False),  # where it went (for registration)
    Column("code_hash", String(64), nullable=False),  # HMAC-SHA256, keyed
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    Column("superseded", Boolean, nullable=False, default=False),
    Index("ix_challenges_flow", "flow_id"),
)

# throttle counters: one row per counted event; subject is "user:<name>" or "terminal:<id>"
throttle_events = Table(
    "throttle_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(300), nullable=False),
    Column("kind", String(20), nullable=False),  # verify_fail, flow_fail, send
    Column("method", String(20), nullable=False, default=""),
    Column("entry_hash", String(64), nullable=False, default=""),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_throttle_subject", "subject", "kind", "at"),
)

# one row per throttled subject, written first in every counting transaction: the row lock
# (PostgreSQL) or the write lock (SQLite) makes "count, decide, record" one atomic step
throttle_locks = Table(
    "throttle_locks",
    metadata,
    Column("subject", String(300), primary_key=True),
    Column("touched", Integer, nullable=False, default=0),
)

blocks = Table(
    "blocks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(300), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("support_code", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("until", UtcDateTime(), nullable=False),
    Index("ix_blocks_subject", "subject", "until"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("correlation_id", String(36), nullable=False),
    Column("support_code", String(16), nullable=False),
    Column("activity", String(40), nullable=False),
    Column("result", String(20), nullable=False),
    Column("terminal", String(200), nullable=False),
    Column("username", String(256), nullable=False),
    Column("method", String(20), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_audit_at", "at"),
    Index("ix_audit_correlation", "correlation_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("recipient", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("purpose", String(20), nullable=False),
)

terminals = Table(
    "terminals",
    metadata,
    Column("id", String(40), primary_key=True),  # key id, shown in audit as api:<id>
    Column("name", String(100), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

# temporary access passes (kiosk.engine.passes): only an HMAC under the server key is kept,
# so a copy of the database cannot be searched for a short pass offline
access_passes = Table(
    "access_passes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("pass_hash", String(64), nullable=False),
    Column("terminal", String(200), nullable=False, default=""),  # "": any terminal
    Column("one_time", Boolean, nullable=False, default=True),
    Column("proofs", Integer, nullable=False, default=1),
    Column("issued_by", String(100), nullable=False),
    Column("approved_by", String(100), nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    Column("uses", Integer, nullable=False, default=0),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("expiry_noted", Boolean, nullable=False, default=False),  # expiry audited
    Index("ix_access_passes_user", "user_id", "expires_at"),
)
