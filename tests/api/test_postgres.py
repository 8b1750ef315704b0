"""Several API instances on one PostgreSQL database: real uvicorn child processes.

Needs the server on 127.0.0.1:5432 (trust auth, database `test`, user `postgres` or `root`;
or KIOSK_TEST_PG_URL). Skipped when unreachable, except with CI=true, where that fails.
Each run works in a fresh schema (dropped at the end), so runs never see each other.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from backend_stub.launch import ApiProcess, toml_text
from kiosk.adapters.remote import RemoteBackend
from kiosk.backend import (
    Blocked,
    Channel,
    CodeExpired,
    MethodKind,
    Purpose,
    ServiceUnavailable,
    Step,
    StepOutOfOrder,
    WrongCode,
)
from kiosk.engine.config import parse_policy
from kiosk.engine.db import create_db_engine, migrate
from kiosk.engine.demo import BOB_TOTP_SECRET, DEMO_POLICY, seed
from kiosk.engine.engine import Engine
from kiosk.engine.schema import audit_events, metadata, users
from kiosk.engine.terminals import TerminalStore
from kiosk.engine.totp import code_at
from tests.support.engine import CHEAP_ARGON2, last_code
from tests.support.postgres import fresh_schemas, require_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

@pytest.fixture(scope="module")
def pg_server() -> str:
    return require_server()


@pytest.fixture(scope="module")
def fresh_schema(pg_server: str) -> Iterator[Any]:
    """A factory of fresh schemas (URLs whose search_path is that schema); all are dropped."""
    with fresh_schemas(pg_server) as make:
        yield make


def demo_policy(url: str, key_file: Path) -> dict[str, Any]:
    """The demo policy on `url`; every instance reads the same key file."""
    return {**DEMO_POLICY, "security": CHEAP_ARGON2, "database": {"url": url},
            "secrets": {"key_file": str(key_file)}}


class Cluster:
    """The test's own engine (to read the outbox) and two API processes on one database."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        policy = demo_policy(url, folder / "kiosk.key")
        self.engine = Engine(parse_policy(policy))
        seed(self.engine)
        self.store = TerminalStore(self.engine.db)
        self.terminal, self.key = self.store.create("kiosk-1")
        policy_file = folder / "policy.toml"
        policy_file.write_text(toml_text({k: v for k, v in policy.items() if k != "database"}))
        args = ["--policy", str(policy_file), "--database-url", url, "--log-level", "warning"]
        self.a = ApiProcess(args)
        self.b = ApiProcess(args)

    def __enter__(self) -> Cluster:
        self.a.start()
        try:
            self.b.start()
        except Exception:
            self.a.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.a.stop()
        self.b.stop()
        self.engine.db.dispose()

    def backends(self, key: str | None = None) -> tuple[RemoteBackend, RemoteBackend]:
        key = key or self.key
        return (RemoteBackend(self.a.url, key, timeout=30),
                RemoteBackend(self.b.url, key, timeout=30))


@pytest.fixture(scope="module")
def cluster(fresh_schema: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with Cluster(fresh_schema(), tmp_path_factory.mktemp("pg")) as running:
        yield running


@pytest.fixture
async def ab(cluster: Cluster) -> Any:
    a, b = cluster.backends()
    yield a, b
    await a.close()
    await b.close()


async def test_a_flow_started_on_one_instance_continues_on_the_other(
        cluster: Cluster, ab: tuple[RemoteBackend, RemoteBackend]) -> None:
    a, b = ab
    state = await a.start(Purpose.RESET, "alice")
    state = await a.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert state.challenge is not None
    state = await b.verify_code(state.flow_id, state.challenge.id,
                                last_code(cluster.engine, "alice@contoso.org"))
    assert state.step == Step.NEW_PASSWORD
    assert (await b.check_password(state.flow_id, "Violet-harbour-lantern-93")).ok
    done = await a.set_password(state.flow_id, "Violet-harbour-lantern-93")
    assert done.result == "reset"
    with cluster.engine.db.connect() as conn:
        terminals = set(conn.execute(select(audit_events.c.terminal).where(
            audit_events.c.support_code == state.support_code)).scalars())
    assert terminals == {cluster.terminal.identity}  # one kiosk, whichever instance served it


async def test_throttle_counters_add_up_across_instances(
        cluster: Cluster, ab: tuple[RemoteBackend, RemoteBackend]) -> None:
    a, b = ab
    state = await a.start(Purpose.UNLOCK, "dave")
    state = await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert state.challenge is not None
    code = int(last_code(cluster.engine, "dave@contoso.org"))
    instances = [a, b, a, b]
    for n, backend in enumerate(instances, start=1):
        with pytest.raises(WrongCode):
            await backend.verify_code(state.flow_id, state.challenge.id,
                                      f"{(code + n) % 10**8:08d}")
    with pytest.raises(Blocked):  # the fifth, wherever it lands
        await a.verify_code(state.flow_id, state.challenge.id, f"{(code + 5) % 10**8:08d}")
    for backend in (a, b):
        with pytest.raises(Blocked):
            await backend.start(Purpose.UNLOCK, "dave")


async def test_racing_with_the_same_code_succeeds_at_most_once(
        cluster: Cluster, ab: tuple[RemoteBackend, RemoteBackend]) -> None:
    a, b = ab
    for _ in range(4):
        state = await a.start(Purpose.RESET, "carol")
        state = await a.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
        assert state.challenge is not None
        code = last_code(cluster.engine, "carol@contoso.org")
        racers = [backend.verify_code(state.flow_id, state.challenge.id, code)
                  for backend in (a, b, a, b, a, b)]
        results = await asyncio.gather(*racers, return_exceptions=True)
        won = [r for r in results if not isinstance(r, BaseException)]
        lost = [r for r in results if isinstance(r, BaseException)]
        assert len(won) == 1, results
        assert all(isinstance(r, CodeExpired | StepOutOfOrder) for r in lost), lost
        assert won[0].gates_passed == 1 and won[0].step == Step.CHOOSE_METHOD
        await a.cancel(state.flow_id)


async def test_racing_with_the_same_authenticator_code_succeeds_at_most_once(
        cluster: Cluster, ab: tuple[RemoteBackend, RemoteBackend]) -> None:
    from datetime import UTC, datetime, timedelta

    a, b = ab
    for offset in (0, 1):  # two steps that stay inside the ±1 window while the test runs
        state = await a.start(Purpose.RESET, "bob")
        when = datetime.now(UTC) + timedelta(seconds=30 * offset)
        code = code_at(BOB_TOTP_SECRET, when)
        results = await asyncio.gather(
            *[backend.verify_totp(state.flow_id, code) for backend in (a, b, a, b)],
            return_exceptions=True)
        won = [r for r in results if not isinstance(r, BaseException)]
        assert len(won) == 1, results
        assert all(isinstance(r, WrongCode | StepOutOfOrder)
                   for r in results if isinstance(r, BaseException)), results


async def test_a_revoked_key_is_refused_by_every_instance(cluster: Cluster) -> None:
    terminal, key = cluster.store.create("kiosk-to-revoke")
    a, b = cluster.backends(key)
    try:
        assert (await a.branding()).demo and (await b.branding()).demo
        cluster.store.revoke(terminal.id)
        for backend in (a, b):
            with pytest.raises(ServiceUnavailable) as refused:
                await backend.branding()
            assert refused.value.params["reason"] == "unauthorized"
    finally:
        await a.close()
        await b.close()


def test_instances_starting_together_migrate_and_seed_once(fresh_schema: Any,
                                                           tmp_path: Path) -> None:
    url = fresh_schema()
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(toml_text({**DEMO_POLICY, "security": CHEAP_ARGON2,
                                      "secrets": {"key_file": str(tmp_path / "kiosk.key")}}))
    args = ["--policy", str(policy_file), "--database-url", url, "--log-level", "warning"]
    first, second = ApiProcess(args), ApiProcess(args)
    errors: list[BaseException] = []

    def start(process: ApiProcess) -> None:
        try:
            process.start()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors, errors
        db = create_db_engine(url)
        with db.connect() as conn:
            assert conn.execute(select(func.count()).select_from(users)).scalar_one() == 6
        db.dispose()
    finally:
        first.stop()
        second.stop()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migrations_create_exactly_the_schema(dialect: str, tmp_path: Path,
                                              request: pytest.FixtureRequest) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = request.getfixturevalue("fresh_schema")()
    db = create_db_engine(url)
    try:
        migrate(db)
        migrate(db)  # idempotent
        with db.connect() as conn:
            assert set(inspect(conn).get_table_names()) == set(metadata.tables) | {
                "alembic_version"}
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        db.dispose()

