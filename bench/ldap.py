"""LDAP benchmark: full resets with password writeback against a local slapd (ppolicy on).

Each flow: start → email code → verify → new password (RFC 3062 password modify with the
ppolicy control, then the lock check). Prints the wall time per flow, the share of it spent in
the directory (timed around every LDAP call) and the LDAP operations sent, for the snapshot
cache off and on, side by side in one run; and identify() for a real vs an unknown name (the
decoy should cost about the same). Then, when Samba is installed, the same resets against a
throwaway Active Directory DC (scripts/samba_dc.py: unicodePwd over LDAPS by a service account
with the delegated "Reset Password" right), as ratios to the OpenLDAP figures of this run.

    python bench/ldap.py [--users 50] [--flows 50]

Needs slapd (apt-get install slapd ldap-utils); starts its own on a free loopback port. The AD
run needs samba (scripts/services.sh) and root.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ldap3 import MODIFY_ADD, Connection

from kiosk.engine.config import parse_policy
from kiosk.engine.engine import Engine
from kiosk.engine.ldap_directory import LdapDirectory

# the throwaway servers of scripts/ (not a package)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import samba_dc
import slapd

TERMINAL = "console:bench"
CODE = re.compile(r"\b(\d{4}) (\d{4})\b")
START = "Meadow copper violin 5531"


def load_users(server: Any, count: int) -> list[str]:
    admin = Connection(server.url, slapd.ROOT_DN, slapd.ROOT_PW, auto_bind=True)
    for name, member in [("engineering", f"cn=nobody,{slapd.SUFFIX}"),
                         ("staff", f"cn=engineering,{slapd.GROUPS}"),
                         ("sspr-users", f"cn=staff,{slapd.GROUPS}")]:
        admin.add(f"cn={name},{slapd.GROUPS}", ["groupOfNames"], {"member": [member]})
    names = [f"bench{i:04d}" for i in range(count)]
    for uid in names:
        dn = f"uid={uid},{slapd.PEOPLE}"
        admin.add(dn, ["inetOrgPerson"], {
            "cn": f"Bench {uid}", "sn": "Bench", "givenName": uid, "mail": f"{uid}@example.org",
            "mobile": "+1 425 555 0142", "userPassword": START})
        admin.modify(f"cn=engineering,{slapd.GROUPS}", {"member": [(MODIFY_ADD, [dn])]})
    admin.unbind()
    return names


def make_engine(server: Any, workdir: Path, cache_seconds: float,
                ldap: dict[str, Any] | None = None) -> Engine:
    policy = parse_policy({
        "database": {"url": f"sqlite:///{workdir / f'bench-{cache_seconds}.db'}"},
        "demo": True, "directory": {"kind": "ldap"},
        "sspr": {"enabled": "selected", "groups": ["sspr-users"]},
        "throttle": {"terminal_sends": 1000, "terminal_failed_flows": 1000,
                     "terminal_verify_failures": 1000},
        "ldap": {"urls": [server.url], "bind_dn": slapd.SERVICE_DN,
                 "bind_password": slapd.SERVICE_PW, "user_base": slapd.PEOPLE,
                 "group_base": slapd.GROUPS, "cache_seconds": cache_seconds, **(ldap or {})}})
    return Engine(policy)


def code_for(engine: Engine, address: str) -> str:
    for message in engine.outbox_messages(20):
        if message.recipient == address:
            found = CODE.search(message.body)
            if found:
                return found.group(1) + found.group(2)
    raise RuntimeError("no code")


def reset(engine: Engine, uid: str, password: str) -> None:
    state = engine.session(TERMINAL).start("reset", uid)
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                               code_for(engine, f"{uid}@example.org"))
    state = engine.session(TERMINAL).set_password(state.flow_id, password)
    assert state.step.value == "done", state


def run(engine: Engine, names: list[str], flows: int, round_no: int) -> dict[str, float]:
    directory = engine.directory
    assert isinstance(directory, LdapDirectory)
    walls: list[float] = []
    ldap_shares: list[float] = []
    ops: list[int] = []
    for i in range(flows):
        uid = names[i % len(names)]
        calls0, spent0 = directory.stats()
        started = time.perf_counter()
        reset(engine, uid, f"Orbit lantern {round_no}-{i} kiosk")
        wall = time.perf_counter() - started
        calls1, spent1 = directory.stats()
        walls.append(wall)
        ldap_shares.append((spent1 - spent0) / wall)
        ops.append(calls1 - calls0)
    return {"p50_ms": statistics.median(walls) * 1000,
            "p95_ms": sorted(walls)[int(len(walls) * 0.95) - 1] * 1000,
            "p99_ms": sorted(walls)[max(0, int(len(walls) * 0.99) - 1)] * 1000,
            "ldap_share": statistics.mean(ldap_shares),
            "ldap_ms": statistics.mean(s * w for s, w in zip(ldap_shares, walls,
                                                                strict=True)) * 1000,
            "ops": statistics.mean(ops)}


def identify_times(engine: Engine, names: list[str], count: int) -> tuple[float, float]:
    real, unknown = [], []
    for i in range(count):
        for name, into in ((names[i % len(names)], real), (f"nobody{i:05d}", unknown)):
            started = time.perf_counter()
            state = engine.session(TERMINAL).start("reset", name)
            into.append(time.perf_counter() - started)
            engine.session(TERMINAL).cancel(state.flow_id)
    return statistics.median(real) * 1000, statistics.median(unknown) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--flows", type=int, default=50)
    args = parser.parse_args()
    if not slapd.available():
        print("slapd is not installed (apt-get install slapd ldap-utils)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, slapd.Slapd(Path(tmp) / "slapd", tls=False) \
            as server:
        names = load_users(server, args.users)
        print(f"slapd {server.url}: {args.users} users, {args.flows} resets per configuration")
        print(f"{'snapshot cache':<16}{'flow p50':>10}{'flow p95':>10}{'in LDAP':>10}"
              f"{'LDAP ms':>9}{'LDAP ops':>10}")
        results = {}
        for round_no, cache in enumerate((0.0, 5.0)):
            engine = make_engine(server, Path(tmp), cache)
            reset(engine, names[0], f"Warm up the pool {round_no} now")  # connections, imports
            r = results[cache] = run(engine, names, args.flows, round_no)
            label = "off" if cache == 0 else f"{cache:g} s"
            print(f"{label:<16}{r['p50_ms']:>8.1f}ms{r['p95_ms']:>8.1f}ms"
                  f"{r['ldap_share']:>9.0%} {r['ldap_ms']:>8.1f}{r['ops']:>10.1f}")
        engine = make_engine(server, Path(tmp), 5.0)
        real, unknown = identify_times(engine, names, min(args.flows, 100))
        print(f"identify p50: real user {real:.2f} ms, unknown (decoy) {unknown:.2f} ms, "
              f"ratio {real / unknown:.2f}")
        print(f"flow time, cache on vs off: "
              f"{results[5.0]['p50_ms'] / results[0.0]['p50_ms']:.2f}")
    if not samba_dc.available():
        print("Active Directory run skipped: samba is not installed (or not root)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        ad_run(Path(tmp), args, results[0.0])
    return 0


def load_ad_users(dc: Any, count: int) -> list[str]:
    admin = dc.admin()
    admin.add(f"CN=sspr-users,{samba_dc.GROUPS}", ["top", "group"],
              {"sAMAccountName": "sspr-users"})
    names = [f"bench{i:04d}" for i in range(count)]
    for sam in names:
        dn = f"CN={sam},{samba_dc.PEOPLE}"
        samba_dc.add_user(admin, dn, sam, START, mail=f"{sam}@example.org", sn="Bench",
                          givenName=sam, mobile="+1 425 555 0142")
        admin.modify(f"CN=sspr-users,{samba_dc.GROUPS}", {"member": [(MODIFY_ADD, [dn])]})
    admin.unbind()
    return names


def ad_run(workdir: Path, args: argparse.Namespace, openldap: dict[str, float]) -> None:
    """Resets with writeback against a Samba AD DC, set against OpenLDAP's (cache off)."""
    with samba_dc.SambaDC(workdir / "samba") as dc:
        names = load_ad_users(dc, args.users)
        engine = make_engine(dc, workdir, 0.0, {
            "flavour": "ad", "urls": [dc.ldaps_url], "ca_file": dc.ca_file,
            "bind_dn": samba_dc.SERVICE_DN, "bind_password": samba_dc.SERVICE_PW,
            "user_base": samba_dc.PEOPLE, "group_base": samba_dc.GROUPS,
            "username_attribute": "sAMAccountName"})
        reset(engine, names[0], "Warm up the pool AD now 1")
        r = run(engine, names, args.flows, 9)
        print(f"Samba AD {dc.ldaps_url} (LDAPS): {args.users} users, {args.flows} resets, "
              "snapshot cache off")
        print(f"{'':<16}{'flow p50':>10}{'flow p99':>10}{'in LDAP':>10}{'LDAP ms':>9}"
              f"{'LDAP ops':>10}")
        print(f"{'AD':<16}{r['p50_ms']:>8.1f}ms{r['p99_ms']:>8.1f}ms"
              f"{r['ldap_share']:>9.0%} {r['ldap_ms']:>8.1f}{r['ops']:>10.1f}")
        print(f"reset with writeback, AD vs OpenLDAP: p50 {r['p50_ms'] / openldap['p50_ms']:.2f}"
              f", p99 {r['p99_ms'] / openldap['p99_ms']:.2f}, time in the directory "
              f"{r['ldap_ms'] / openldap['ldap_ms']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
