"""API benchmark: N concurrent simulated kiosks running complete reset flows over HTTP.

Each kiosk (its own API key, its own user, one httpx.AsyncClient) loops through the flow the UI
drives for an email reset: start → send the code → read it from the database's outbox →
verify → check the new password → set it. All kiosks start at the same instant (a cold start:
every kiosk's first call at once on a fresh server); the figures come from the steady state
after --warmup seconds, a window of --duration seconds: flows finished in it, calls begun in
it (a kiosk finishes the flow it is in when the window closes; that tail is not counted). The
cold start's light calls are printed on their own line. Scenarios, one after the other:

  sqlite      one uvicorn process (`python -m backend_stub`) on a SQLite file
  postgresql  two uvicorn processes on one PostgreSQL database; each kiosk sends its calls to
              the two in turn (a round-robin balancer), so flows hop between instances

Printed: flows/s, p50/p99 latency per call, and the ratio of flows/s to the ceiling the argon2
work of a flow sets on this machine's cores. That work is 1 hash (the new password) plus k
verifies (the password history: the current password and up to `password.history` earlier
ones); the ceiling is measured right before and right after each scenario (interleaved, so
both see the same machine) by hashing and verifying with the same parameters on as many
threads as there are cores. Everything runs on loopback; the client, the server(s) and
PostgreSQL share the machine's cores, as the ratio shows.

Goals (issue #14) printed beside the figures: throughput >= 0.85x the ceiling; light calls
(start, send_code, verify_code) p99 < 0.5 s; set_password p99 within 1.5x of (kiosks x a
flow's argon2 work / cores), the wait of a full queue. check_password verifies the history
once the other rules pass (the live check), and set_password reuses that verdict: the argon2
work of a flow is the same, split between the two.

    python bench/api.py [--kiosks 8,50] [--warmup 10] [--duration 20] [--argon2 policy|owasp]
                        [--scenarios sqlite,postgresql] [--pg-url postgresql://root@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import httpx
from argon2 import PasswordHasher
from sqlalchemy import create_engine, select, text

from backend_stub.launch import ApiProcess, toml_text
from kiosk.engine import registry
from kiosk.engine.config import parse_policy
from kiosk.engine.crypto import Hasher
from kiosk.engine.db import create_db_engine, migrate
from kiosk.engine.directory import BuiltinDirectory
from kiosk.engine.passwords import normalize_password
from kiosk.engine.schema import outbox
from kiosk.engine.terminals import TerminalStore

CALLS = ("start", "send_code", "verify_code", "check_password", "set_password")
# check_password verifies the password history once the other rules pass (the live check of
# issue #13; the submit reuses its verdict), so it carries argon2 work like set_password
LIGHT = CALLS[:3]
CODE = re.compile(r"\b(\d{4}) (\d{4})\b")
FIRST_PASSWORD = "Bench-first-password-1"
ARGON2 = {
    # the policy's defaults (RFC 9106's second recommendation): what a deployment runs
    "policy": {"argon2_time_cost": 3, "argon2_memory_kib": 65536, "argon2_parallelism": 4},
    # OWASP's minimum (the demo's)
    "owasp": {"argon2_time_cost": 2, "argon2_memory_kib": 19456, "argon2_parallelism": 1},
}
HISTORY = 5


def bench_policy(security: dict[str, int], url: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organization": {"name": "Bench Org"},
        "sspr": {"enabled": "all", "methods": ["email", "mobile", "questions"]},
        "password": {"history": HISTORY},
        # a kiosk here resets far more often than a person could: widen the per-terminal limits
        "throttle": {"sends": 100, "terminal_sends": 1000, "terminal_verify_failures": 1000,
                     "terminal_failed_flows": 1000},
        "security": security,
    }
    if url:
        data["database"] = {"url": url}
    return data


# ---------------------------------------------------------------- the argon2 ceiling


def argon2_costs(security: dict[str, int], cores: int, seconds: float = 2.0
                 ) -> tuple[float, float, float, float]:
    """(hash s, verify s) one at a time, and (hashes/s, verifies/s) on `cores` threads."""
    ph = PasswordHasher(time_cost=security["argon2_time_cost"],
                        memory_cost=security["argon2_memory_kib"],
                        parallelism=security["argon2_parallelism"])
    secret = "Bench-some-password-42"
    stored = ph.hash(secret)
    one_hash = min(_timed(lambda: ph.hash(secret)) for _ in range(3))
    one_verify = min(_timed(lambda: ph.verify(stored, secret)) for _ in range(3))

    def rate(work: Any) -> float:
        done = [0] * cores
        stop = time.perf_counter() + seconds / 2

        def run(i: int) -> None:
            while time.perf_counter() < stop:
                work()
                done[i] += 1

        began = time.perf_counter()
        threads = [threading.Thread(target=run, args=(i,)) for i in range(cores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(done) / (time.perf_counter() - began)

    return (one_hash, one_verify, rate(lambda: ph.hash(secret)),
            rate(lambda: ph.verify(stored, secret)))


def _timed(fn: Any) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


# ---------------------------------------------------------------- the database


def seed_users(url: str, kiosks: int, security: dict[str, int]) -> list[str]:
    """Bench users (email only), schema migrated; returns a terminal API key per kiosk."""
    db = create_db_engine(url)
    migrate(db)
    hasher = Hasher(parse_policy(bench_policy(security)).security)
    first = hasher.hash(normalize_password(FIRST_PASSWORD))
    directory = BuiltinDirectory(hasher)
    now = datetime.now(UTC)
    with db.begin() as conn:
        for i in range(kiosks):
            user_id = directory.add_user(conn, f"bench{i}", display_name=f"Bench User {i}",
                                         given_name="Bench", family_name=f"User{i}",
                                         password_hash=first, now=now)
            registry.set_method(conn, user_id, "email", f"bench{i}@example.org", now)
            registry.mark_registered(conn, user_id, now)
    store = TerminalStore(db)
    keys = [store.create(f"bench-kiosk-{i}")[1] for i in range(kiosks)]
    db.dispose()
    return keys


class Outbox:
    """Reads the newest code sent to an address, straight from the database."""

    def __init__(self, url: str) -> None:
        self.db = create_db_engine(url)

    def code(self, recipient: str) -> str:
        with self.db.connect() as conn:
            body = conn.execute(select(outbox.c.body).where(outbox.c.recipient == recipient)
                                .order_by(outbox.c.id.desc()).limit(1)).scalar_one()
        found = CODE.search(body)
        assert found, "no code in the message"
        return found.group(1) + found.group(2)


# ---------------------------------------------------------------- the kiosks


@dataclass
class Results:
    steady_from: float  # perf_counter() bounds of the measured window
    steady_to: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cold: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    flows: int = 0
    finished: list[float] = field(default_factory=list)  # when each of those flows ended
    verifies: int = 0  # argon2 verifies the server made for history checks
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))


async def kiosk(i: int, urls: list[str], key: str, box: Outbox, results: Results) -> None:
    clients = [httpx.AsyncClient(base_url=u, headers={"Authorization": f"Bearer {key}"},
                                 timeout=60) for u in urls]
    turn = i  # round-robin over the instances, call by call
    done = 0
    try:
        while time.perf_counter() < results.steady_to:
            password = f"Bench-{i}-{done}-{secrets.token_hex(4)}"
            try:
                state = await call(clients, turn, results, "start", "POST", "/v1/flows",
                                   {"purpose": "reset", "username": f"bench{i}"})
                turn += 1
                fid = state["flow_id"]
                state = await call(clients, turn, results, "send_code", "POST",
                                   f"/v1/flows/{fid}/codes", {"method": "email",
                                                              "channel": "email"})
                turn += 1
                code = await asyncio.to_thread(box.code, f"bench{i}@example.org")
                challenge = state["challenge"]["id"]
                await call(clients, turn, results, "verify_code", "POST",
                           f"/v1/flows/{fid}/codes/{challenge}/verify", {"code": code})
                turn += 1
                check = await call(clients, turn, results, "check_password", "POST",
                                   f"/v1/flows/{fid}/password/check", {"password": password})
                turn += 1
                assert check["ok"], check
                await call(clients, turn, results, "set_password", "PUT",
                           f"/v1/flows/{fid}/password", {"password": password})
                turn += 1
            except CallFailed as exc:
                results.errors[str(exc)] += 1
                continue
            done += 1
            now = time.perf_counter()
            if results.steady_from <= now <= results.steady_to:
                results.flows += 1
                results.finished.append(now)
                results.verifies += min(done, HISTORY)  # history holds the current password
    finally:
        for client in clients:
            await client.aclose()


class CallFailed(Exception):
    pass


async def call(clients: list[httpx.AsyncClient], turn: int, results: Results, name: str,
               method: str, path: str, body: dict[str, Any]) -> Any:
    client = clients[turn % len(clients)]
    began = time.perf_counter()
    response = await client.request(method, path, json=body)
    took = time.perf_counter() - began
    if began < results.steady_from:
        results.cold[name].append(took)
    elif began <= results.steady_to:
        results.latencies[name].append(took)
    if not response.is_success:
        code = response.json().get("code", response.status_code) \
            if response.headers.get("content-type", "").endswith("json") else response.status_code
        raise CallFailed(f"{name}: {code}")
    return response.json()


async def drive(urls: list[str], keys: list[str], box: Outbox, warmup: float,
                duration: float) -> tuple[Results, float]:
    began = time.perf_counter()
    results = Results(steady_from=began + warmup, steady_to=began + warmup + duration)

    async def lag() -> None:  # how late this client's own event loop wakes up
        while time.perf_counter() < results.steady_to:
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            if t0 >= results.steady_from:
                results.latencies["client loop lag"].append(time.perf_counter() - t0 - 0.01)

    await asyncio.gather(lag(), *[kiosk(i, urls, key, box, results)
                                  for i, key in enumerate(keys)])
    return results, duration


# ---------------------------------------------------------------- scenarios


def pg_schema_url(base: str) -> tuple[str, Any]:
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"kiosk_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    sep = "&" if "?" in base else "?"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()

    return f"{base}{sep}options=-csearch_path%3D{name}", drop


def run_scenario(name: str, url: str, instances: int, args: argparse.Namespace,
                 security: dict[str, int], folder: Path) -> tuple[Results, float] | None:
    keys = seed_users(url, args.kiosks, security)
    policy_file = folder / f"{name}.toml"
    # every instance reads one key file (PostgreSQL needs one; SQLite would make it anyway)
    policy_file.write_text(toml_text({**bench_policy(security),
                                      "secrets": {"key_file": str(folder / f"{name}.key")}}))
    cli = ["--policy", str(policy_file), "--database-url", url, "--log-level", "warning"]
    servers = [ApiProcess(cli).start() for _ in range(instances)]
    box = Outbox(url)
    try:
        return asyncio.run(drive([s.url for s in servers], keys, box, args.warmup,
                                 args.duration))
    finally:
        for server in servers:
            server.stop()
        box.db.dispose()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Row:
    label: str
    kiosks: int
    results: Results
    elapsed: float
    hashes_s: float  # the ceiling's rates, the mean of the measures before and after
    verifies_s: float

    @property
    def rate(self) -> float:
        """Flows per second from the gaps between the flows that ended in the window: the
        kiosks started together, so their flows end in waves, and a count over a fixed window
        swung from 0.5 to 1.0 of the ceiling with where its edges fell in a wave."""
        ends = sorted(self.results.finished)
        if len(ends) < 2 or ends[-1] == ends[0]:
            return self.results.flows / self.elapsed
        return (len(ends) - 1) / (ends[-1] - ends[0])

    @property
    def verifies_per_flow(self) -> float:
        return self.results.verifies / max(self.results.flows, 1)

    @property
    def ceiling(self) -> float:
        return 1 / (1 / self.hashes_s + self.verifies_per_flow / self.verifies_s)


def interleaved(security: dict[str, int], cores: int, *scenario: Any
                ) -> tuple[Any, float, float]:
    """run_scenario(*scenario) between two measures of the argon2 ceiling;
    (outcome, hashes/s, verifies/s)."""
    _, _, h1, v1 = argon2_costs(security, cores)
    outcome = run_scenario(*scenario)
    _, _, h2, v2 = argon2_costs(security, cores)
    return outcome, (h1 + h2) / 2, (v1 + v2) / 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kiosks", default="8,50", help="comma-separated kiosk counts")
    parser.add_argument("--warmup", type=float, default=10.0,
                        help="seconds from the cold start to the measured window")
    parser.add_argument("--duration", type=float, default=20.0,
                        help="seconds of the measured window per scenario")
    parser.add_argument("--argon2", choices=sorted(ARGON2), default="policy")
    parser.add_argument("--scenarios", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get(
        "KIOSK_BENCH_PG_URL", "postgresql://root@127.0.0.1:5432/test"))
    args = parser.parse_args()
    try:
        counts = [int(k) for k in args.kiosks.split(",") if k.strip()]
    except ValueError:
        parser.error("--kiosks: numbers separated by commas")
    if not counts or not all(1 <= k <= 200 for k in counts) or not 1 <= args.duration <= 300 \
            or not 0 <= args.warmup <= 300:
        parser.error("--kiosks 1-200 each, --duration 1-300, --warmup 0-300")
    security = ARGON2[args.argon2]
    cores = os.cpu_count() or 1

    one_hash, one_verify, hashes_s, verifies_s = argon2_costs(security, cores)
    print(f"argon2id t={security['argon2_time_cost']} m={security['argon2_memory_kib']} KiB "
          f"p={security['argon2_parallelism']}: hash {one_hash * 1e3:.1f} ms, verify "
          f"{one_verify * 1e3:.1f} ms one at a time; on {cores} cores {hashes_s:.1f} hashes/s, "
          f"{verifies_s:.1f} verifies/s (the ceiling is measured again around each scenario)")
    print(f"kiosks {counts}, all starting at once; measured {args.duration:.0f} s after "
          f"{args.warmup:.0f} s of warm-up; flow = {' → '.join(CALLS)}")

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        folder = Path(tmp)
        for kiosks in counts:
            run_args = argparse.Namespace(**{**vars(args), "kiosks": kiosks})
            for scenario in [s.strip() for s in args.scenarios.split(",") if s.strip()]:
                if scenario == "sqlite":
                    db_file = folder / f"bench-{kiosks}.db"
                    outcome, h, v = interleaved(
                        security, cores, "sqlite", f"sqlite:///{db_file}", 1, run_args,
                        security, folder)
                    label = "sqlite, 1 instance"
                elif scenario == "postgresql":
                    try:
                        url, drop = pg_schema_url(args.pg_url)
                    except Exception as exc:
                        print(f"postgresql: skipped ({type(exc).__name__}: not reachable at "
                              f"{args.pg_url})")
                        continue
                    try:
                        outcome, h, v = interleaved(
                            security, cores, "postgresql", url, 2, run_args, security, folder)
                    finally:
                        drop()
                    label = "postgresql, 2 instances"
                else:
                    parser.error(f"unknown scenario {scenario!r}")
                assert outcome is not None
                rows.append(Row(label, kiosks, outcome[0], outcome[1], h, v))
    report(rows, one_hash, one_verify, cores)
    return 0


def report(rows: list[Row], one_hash: float, one_verify: float, cores: int) -> None:
    print()
    print(f"{'kiosks':>6}  {'scenario':<24}{'flows':>7}{'flows/s':>9}{'ceiling/s':>11}"
          f"{'ratio':>7} (goal >= 0.85)  errors")
    for row in rows:
        rate = row.rate
        errors = ", ".join(f"{k}×{v}" for k, v in row.results.errors.items()) or "none"
        print(f"{row.kiosks:>6}  {row.label:<24}{row.results.flows:>7}{rate:>9.2f}"
              f"{row.ceiling:>11.2f}{rate / row.ceiling:>7.2f}                 {errors}")
    print()
    print(f"{'steady latency ms (p50 / p99)':<32}" + "".join(f"{c:>18}" for c in CALLS))
    for row in rows:
        lat = row.results.latencies
        cells = "".join(f"{pct(lat[c], .5) * 1e3:>9.1f} /{pct(lat[c], .99) * 1e3:>7.1f}"
                        for c in CALLS)
        print(f"{row.kiosks:>3} {row.label:<28}{cells}")
    print()
    for row in rows:
        lat = row.results.latencies
        light = max(pct(lat[c], .99) for c in LIGHT)
        # a full queue: every kiosk's submit waiting for its hash and history verifies
        queue = row.kiosks * (one_hash + row.verifies_per_flow * one_verify) / cores
        submit = pct(lat["set_password"], .99)
        print(f"{row.kiosks:>3} {row.label:<28} light calls p99 {light:6.2f} s (goal < 0.5); "
              f"set_password p99 {submit:6.2f} s = {submit / queue:4.2f}x the queue's "
              f"{queue:5.2f} s (goal <= 1.5); this client's event loop late by "
              f"p50 {pct(lat['client loop lag'], .5) * 1e3:.0f} / "
              f"p99 {pct(lat['client loop lag'], .99) * 1e3:.0f} ms")
    print()
    for row in rows:
        cold = [t for c in LIGHT for t in row.results.cold[c]]
        print(f"{row.kiosks:>3} {row.label:<28} cold start (all {row.kiosks} kiosks' first calls "
              f"at once, during the warm-up): light calls p50 {pct(cold, .5):5.2f} s, "
              f"p99 {pct(cold, .99):5.2f} s ({len(cold)} calls)")
    if rows:
        mean = statistics.fmean(r.verifies_per_flow for r in rows)
        print(f"\nargon2 per flow: 1 hash + {mean:.1f} verifies (password history); ceiling = "
              f"1 / (1/hashes_per_s + k/verifies_per_s) on {cores} cores, measured around each "
              f"scenario")


if __name__ == "__main__":
    raise SystemExit(main())
