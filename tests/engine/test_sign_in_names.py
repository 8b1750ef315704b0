"""Sign-in names as people type them (issue 13): alice@contoso.org and CONTOSO\\alice are alice,
one account and one throttle counter; another domain or prefix stays an unknown name (a decoy)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.backend import Blocked, FlowState, KioskError
from kiosk.engine.clock import FrozenClock
from kiosk.engine.config import PolicyError, parse_policy
from kiosk.engine.demo import DEMO_POLICY, seed
from kiosk.engine.engine import Engine
from kiosk.engine.schema import flows, users
from kiosk.engine.signin import domains_of_dn
from tests.support.engine import CHEAP_ARGON2, TERMINAL, email_gate, make_engine


def engine_with(tmp_path: Path, directory: dict[str, list[str]]) -> Engine:
    """A demo engine whose policy has a [directory] section (build_demo_engine's own
    `directory` argument is the folder of its database)."""
    engine = Engine(parse_policy({**DEMO_POLICY, "security": CHEAP_ARGON2, "directory": directory,
                                  "database": {"url": f"sqlite:///{tmp_path / 'demo.db'}"}}),
                    clock=FrozenClock())
    seed(engine)
    return engine


def flow_row(engine: Engine, state: FlowState) -> tuple[int | None, str, str]:
    with engine.db.connect() as conn:
        row = conn.execute(select(flows.c.user_id, flows.c.subject, flows.c.username).where(
            flows.c.id == state.flow_id)).one()
    return row.user_id, row.subject, row.username


def user_id(engine: Engine, name: str) -> int:
    with engine.db.connect() as conn:
        return int(conn.execute(select(users.c.id).where(users.c.username == name)).scalar_one())


def masks(state: FlowState) -> list[tuple[str, str]]:
    return [(m.kind, m.masked) for m in state.methods]


@pytest.mark.parametrize("typed", ["alice@contoso.org", "CONTOSO\\alice", "Alice@Contoso.ORG",
                                   "contoso\\ALICE"])
def test_the_organisations_forms_reach_alice_and_her_counter(tmp_path: Path, typed: str) -> None:
    engine = make_engine(tmp_path)
    plain = engine.session("console:a").start("reset", "alice")
    state = engine.session(TERMINAL).start("reset", typed)
    alice = user_id(engine, "alice")
    assert flow_row(engine, state) == (alice, f"account:{alice}", "alice")
    assert masks(state) == masks(plain)
    # and a code really arrives: it is alice's own flow, not a decoy
    assert email_gate(engine, state).gates_passed == 1


def test_five_failures_across_the_forms_block_alice(tmp_path: Path) -> None:
    engine = make_engine(tmp_path)
    forms = ["alice", "alice@contoso.org", "CONTOSO\\alice", "ALICE@CONTOSO.ORG", "Contoso\\Alice"]
    for i, typed in enumerate(forms):
        state = engine.session(TERMINAL).questions(engine.session(TERMINAL).start("reset",
                                                                                  typed).flow_id)
        with pytest.raises(KioskError):
            engine.session(TERMINAL).answer(state.flow_id, [f"wrong{i}a", f"wrong{i}b",
                                                            f"wrong{i}c"])
    for typed in ("alice", "alice@contoso.org", "CONTOSO\\alice"):
        with pytest.raises(Blocked):
            engine.session("console:other").start("reset", typed)


@pytest.mark.parametrize("typed", ["alice@evil.example", "EVIL\\alice", "alice@contoso.org.evil",
                                   "alice@sub.contoso.org", "contoso\\alice@contoso.org"])
def test_other_domains_and_prefixes_stay_unknown_names(tmp_path: Path, typed: str) -> None:
    engine = make_engine(tmp_path)
    state = engine.session(TERMINAL).start("reset", typed)
    uid, subject, _ = flow_row(engine, state)
    assert uid is None and subject.startswith("user:")  # a decoy under the name as typed
    assert subject != f"account:{user_id(engine, 'alice')}"


def test_an_unknown_name_looks_the_same_in_every_accepted_form(tmp_path: Path) -> None:
    """zed and zed@contoso.org are one (unknown) name: the same decoy and the same counter, so
    comparing the forms tells nothing that comparing alice's forms would not."""
    engine = make_engine(tmp_path)
    states = [engine.session(f"console:{i}").start("reset", typed)
              for i, typed in enumerate(["zed", "zed@contoso.org", "CONTOSO\\zed"])]
    assert {flow_row(engine, s)[1] for s in states} == {"user:zed"}
    assert masks(states[1]) == masks(states[0]) == masks(states[2])


def test_the_forms_are_learnt_and_shown_in_the_branding(tmp_path: Path) -> None:
    engine = make_engine(tmp_path)
    branding = engine.branding()
    assert branding.sign_in_domains == ["contoso.org"]
    assert branding.sign_in_prefixes == ["CONTOSO"]


def test_the_policy_names_the_forms(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"domains": ["corp.example"], "netbios": ["CORP"]})
    assert engine.branding().sign_in_domains == ["corp.example"]
    assert engine.branding().sign_in_prefixes == ["CORP"]
    alice = user_id(engine, "alice")
    assert flow_row(engine, engine.session(TERMINAL).start("reset",
                                                           "alice@corp.example"))[0] == alice
    assert flow_row(engine, engine.session(TERMINAL).start("reset", "CORP\\alice"))[0] == alice
    # the learnt domain no longer counts once the policy names the organisation's own
    assert flow_row(engine, engine.session(TERMINAL).start("reset", "alice@contoso.org"))[0] is None


def test_netbios_defaults_to_the_first_label_of_each_domain(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"domains": ["fabrikam.com", "contoso.org"]})
    assert engine.branding().sign_in_prefixes == ["FABRIKAM", "CONTOSO"]
    alice = user_id(engine, "alice")
    assert flow_row(engine, engine.session(TERMINAL).start("reset", "fabrikam\\alice"))[0] == alice


def test_few_accounts_teach_no_domain(tmp_path: Path) -> None:
    """A personal address of one account is not the organisation's domain."""
    from kiosk.engine import registry

    engine = make_engine(tmp_path)
    with engine.db.begin() as conn:
        registry.set_method(conn, user_id(engine, "erin"), "email", "erin@mail.example",
                            engine.clock.now())
    engine.core.sign_in.forget()
    assert engine.branding().sign_in_domains == ["contoso.org"]
    state = engine.session(TERMINAL).start("reset", "erin@mail.example")
    assert flow_row(engine, state)[0] is None


def test_ldap_learns_the_domain_of_its_base_dn() -> None:
    assert domains_of_dn("ou=people,dc=contoso,dc=org") == ["contoso.org"]
    assert domains_of_dn("OU=Staff, DC=corp, DC=fabrikam, DC=com") == ["corp.fabrikam.com"]
    assert domains_of_dn("ou=people,o=example") == []


@pytest.mark.parametrize("section, message", [
    ({"domains": ["@contoso.org"]}, "directory.domains: '@contoso.org' is not a mail domain"),
    ({"domains": ["contoso..org"]}, "directory.domains"),
    ({"netbios": ["CON\\TOSO"]}, "directory.netbios"),
    ({"netbios": ["A-VERY-LONG-NETBIOS-NAME"]}, "directory.netbios"),
])
def test_wrong_forms_in_the_policy_name_the_key(section: dict[str, list[str]],
                                                message: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy({"directory": section})
    assert any(message in p for p in err.value.problems)
