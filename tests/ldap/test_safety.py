"""Injection strings, dead and silent servers, failover, TLS: against a real slapd."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from ldap3 import Connection
from sqlalchemy import func, select

from kiosk.backend import ServiceUnavailable, Step
from kiosk.engine.engine import Engine
from kiosk.engine.schema import audit_events, flows, users
from tests.support.ldap_server import (
    PEOPLE,
    START_PASSWORD,
    SUFFIX,
    TERMINAL,
    EngineMaker,
    UserMaker,
    binds,
    email_gate,
    ldap_policy,
)

INJECTIONS = ["*", "*)(uid=*", "admin)(|(uid=*", "\\00", "\x00", "a*", "*)(objectClass=*",
              "x)(|(objectClass=*))(uid=y", ")(", "\\2a", "(uid=*)"]


def directory_dump(admin: Connection) -> list[tuple[str, dict[str, Any]]]:
    admin.search(SUFFIX, "(objectClass=*)", attributes=["*", "+"])
    return sorted((e["dn"], {k: v for k, v in e["raw_attributes"].items()
                             if k not in ("entryCSN", "modifyTimestamp", "contextCSN")})
                  for e in admin.response)


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.db.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (users, audit_events, flows))  # type: ignore[return-value]


def test_injection_strings_find_nobody_and_change_nothing(
        make_engine: EngineMaker, make_user: UserMaker, admin: Connection) -> None:
    make_user("victim")
    make_user("admin", groups=("it-admins",))
    engine = make_engine()
    before = directory_dump(admin)
    for name in INJECTIONS:
        with engine.db.begin() as conn:
            assert engine.directory.find(conn, name) is None, name
        if "\x00" not in name:  # the engine refuses control characters itself
            state = engine.session(TERMINAL).start("reset", name)  # a decoy flow, nothing real
            with engine.db.connect() as conn:
                assert conn.execute(select(flows.c.user_id).where(
                    flows.c.id == state.flow_id)).scalar() is None
    with engine.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar() == 0
    assert directory_dump(admin) == before


def test_special_characters_in_a_real_name_are_escaped_not_refused(
        make_engine: EngineMaker, make_user: UserMaker) -> None:
    odd = "o'brien (ops)*\\x,+"  # every filter and DN special character at once
    make_user("odd", uid=odd, mail="obrien@example.org")
    engine = make_engine()
    with engine.db.begin() as conn:
        user = engine.directory.find(conn, odd)
        assert user is not None and user.username == odd
        assert engine.directory.verify_password(user, START_PASSWORD)
        assert engine.directory.find(conn, "o'brien (ops)*") is None
    state = engine.session(TERMINAL).start("reset", odd)
    state = email_gate(engine, state.flow_id, "obrien@example.org")
    assert engine.session(TERMINAL).set_password(state.flow_id, "Quartz meadow lantern 8812").step \
        == Step.DONE


def dead_url() -> str:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return f"ldap://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: only the timeouts end a request."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"ldap://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_every_server_down_is_directory_unavailable_and_writes_nothing(
        make_engine: EngineMaker, make_user: UserMaker) -> None:
    uid = make_user("down")
    engine = make_engine(ldap={"urls": [dead_url(), dead_url()]})
    before = counts(engine)
    with pytest.raises(ServiceUnavailable) as down:
        engine.session(TERMINAL).start("reset", uid)
    assert down.value.message == "directory unavailable"
    assert counts(engine) == before


def test_a_silent_server_times_out(make_engine: EngineMaker, make_user: UserMaker,
                                   silent_server: str) -> None:
    uid = make_user("silent")
    engine = make_engine(ldap={"urls": [silent_server], "timeout_seconds": 1})
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        engine.session(TERMINAL).start("reset", uid)
    assert time.monotonic() - started < 5


def test_failover_to_the_next_url(server: Any, make_engine: EngineMaker, make_user: UserMaker,
                                  silent_server: str) -> None:
    uid = make_user("failover")
    engine = make_engine(ldap={"urls": [dead_url(), silent_server, server.url],
                               "timeout_seconds": 1})
    state = engine.session(TERMINAL).start("reset", uid)
    assert state.step == Step.CHOOSE_METHOD
    # the failed servers now go last: the next call goes straight to the live one
    started = time.monotonic()
    engine.session(TERMINAL).start("reset", uid)
    assert time.monotonic() - started < 0.9


def test_directory_lost_before_writeback_changes_nothing(
        server: Any, make_engine: EngineMaker, make_user: UserMaker) -> None:
    uid = make_user("midflow")
    engine = make_engine()
    state = engine.session(TERMINAL).start("reset", uid)
    state = email_gate(engine, state.flow_id, f"{uid}@example.org")
    assert state.step == Step.NEW_PASSWORD
    before = counts(engine)
    # every server goes away (the pooled connection with it)
    pool = engine.directory.pool  # type: ignore[attr-defined]
    pool.close()
    pool.servers = [type(pool.servers[0])(dead_url(), connect_timeout=1)]
    with pytest.raises(ServiceUnavailable):
        engine.session(TERMINAL).set_password(state.flow_id, "Harbour quiet violet 6620")
    assert counts(engine) == before
    with engine.db.connect() as conn:
        assert conn.execute(select(flows.c.step).where(flows.c.id == state.flow_id)
                            ).scalar() == "new_password"
        assert conn.execute(select(users.c.password_changed_at).where(
            users.c.username == uid)).scalar() is None
    assert binds(server, uid, START_PASSWORD)


def test_a_wrong_service_password_is_directory_unavailable(
        make_engine: EngineMaker, make_user: UserMaker) -> None:
    uid = make_user("svc")
    engine = make_engine(ldap={"bind_password": "not the service password"})
    with pytest.raises(ServiceUnavailable):
        engine.session(TERMINAL).start("reset", uid)


@pytest.mark.parametrize("mode", ["starttls", "ldaps"])
def test_tls_with_the_ca_file(server: Any, tmp_path: Any, make_user: UserMaker,
                              mode: str) -> None:
    if not server.ca_file:
        pytest.skip("openssl is not installed: no certificates for TLS")
    uid = make_user("tls")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    settings = {"starttls": True, "urls": [server.url]} if mode == "starttls" else {
        "urls": [server.ldaps_url]}
    trusted = Engine(ldap_policy(tmp_path / "a", server, ldap={**settings,
                                                               "ca_file": server.ca_file}))
    with trusted.db.begin() as conn:
        user = trusted.directory.find(conn, uid)
        assert user is not None and trusted.directory.verify_password(user, START_PASSWORD)
    # without the private CA the server's certificate is not trusted: no plaintext fallback
    untrusted = Engine(ldap_policy(tmp_path / "b", server, ldap=settings))
    with pytest.raises(ServiceUnavailable):
        untrusted.session(TERMINAL).start("reset", uid)


def test_the_policy_file_builds_the_ldap_directory(tmp_path: Any, server: Any,
                                                   make_user: UserMaker) -> None:
    uid = make_user("wired")
    engine = Engine(ldap_policy(tmp_path, server))
    assert type(engine.directory).__name__ == "LdapDirectory"
    assert engine.session(TERMINAL).start("reset", uid).step == Step.CHOOSE_METHOD
    assert PEOPLE in engine.policy.ldap.user_base
