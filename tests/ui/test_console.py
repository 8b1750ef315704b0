"""The helpdesk console (`kiosk console`) driven by Pilot, and a snapshot of every page.

The engine runs on a frozen clock with fixed support codes (the `deterministic` fixture) and a
fixed pass text; the board refreshes only on demand (refresh_seconds=0), so screens are
deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from textual.pilot import Pilot

from kiosk.console.app import ConsoleApp
from kiosk.console.source import EmbeddedDesk
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from tests.support.engine import block, make_engine
from tests.support.pilot import Drive, Kiosk, driving

SIZE = (110, 32)
KIOSK = "console:front-desk"
pytestmark = pytest.mark.usefixtures("deterministic")


@pytest.fixture
def engine(tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[Engine]:
    monkeypatch.setattr("kiosk.engine.passes.new_pass", lambda length: "KX7P4RTQ9MZA"[:length])
    engine = make_engine(tmp_path, clock, passes={"enabled": True})
    yield engine
    engine.db.dispose()


def block_alice(engine: Engine) -> str:
    """Alice's visit, blocked after too many wrong answers: its support code."""
    return block(engine, "alice", KIOSK)


def console(engine: Engine, **options: object) -> ConsoleApp:
    return ConsoleApp(EmbeddedDesk(engine, "ann"), refresh_seconds=0, where="test",
                      **options)  # type: ignore[arg-type]


def at_the_desk(engine: Engine, **options: object) -> AbstractAsyncContextManager[
        Kiosk[ConsoleApp]]:
    """`async with at_the_desk(engine) as k:` the console (agent ann) under Pilot at SIZE."""
    return driving(console(engine, **options), SIZE)


async def lift_alices_block(k: Kiosk[ConsoleApp], code: str) -> None:
    await k.type(code.lower())
    await k.enter()
    await k.sees("BLOCKED: user alice")
    await k.press("l")
    await k.sees("Lift the block of visit")
    await k.type("ID checked in person")
    await k.enter()
    await k.sees("1 block(s) lifted.")


async def test_a_blocked_visit_is_found_by_its_code_and_lifted(engine: Engine) -> None:
    code = block_alice(engine)
    async with at_the_desk(engine) as k:
        await lift_alices_block(k, code)
        assert "Nothing blocks this visit now." in k.text
    assert engine.session(KIOSK).start("reset", "alice").step == "choose_method"
    with engine.db.connect() as conn:
        from sqlalchemy import select

        from kiosk.engine.schema import audit_events

        rows = conn.execute(select(audit_events.c.result, audit_events.c.detail).where(
            audit_events.c.support_code == code)).all()
    assert ("contacted_admin", "case opened at the helpdesk by ann") in rows
    assert any(d.startswith("block lifted by ann") and "ID checked in person" in d
               for _, d in rows)


async def test_a_user_name_lists_the_visits_and_enter_opens_one(engine: Engine) -> None:
    code = block_alice(engine)
    async with at_the_desk(engine) as k:
        await k.type("Alice")
        await k.enter()
        await k.sees("1 visit(s), newest first")
        await k.enter()
        await k.sees(f"Visit {code} · user alice")
        await k.focus("#lookup")
        k.app.query_one("#lookup").value = ""  # type: ignore[attr-defined]
        await k.type("ZZZZ-ZZZZ")
        await k.enter()
        await k.sees("no visit with the support code ZZZZ-ZZZZ")


async def test_a_pass_is_issued_once_shown_and_erin_uses_it(engine: Engine) -> None:
    async with at_the_desk(engine) as k:
        await k.press("f3")
        await k.sees("Check the person's identity in person first.")
        await k.type("erin")
        await k.press("ctrl+s")
        await k.sees("Pass for erin: KX7P 4RTQ 9MZA")
        await k.press("ctrl+s")  # one active pass per user
        await k.sees("erin has an active pass; revoke it first")
    state = engine.session(KIOSK).start("reset", "erin")
    assert engine.session(KIOSK).verify_pass(state.flow_id, "kx7p 4rtq 9mza").step == "new_password"


async def test_the_board_shows_a_visit_step_and_lifts_a_user_block(engine: Engine) -> None:
    block_alice(engine)
    engine.session(KIOSK).start("reset", "bob")
    async with at_the_desk(engine) as k:
        await k.press("f4")
        await k.sees("choose_method")
        assert "bob" not in k.text  # no names on the board
        await k.sees("verify_failures")
        await k.focus("#blocks")
        await k.press("u")
        await k.sees("Lift the block of alice")
        await k.type("called back")
        await k.enter()
        await k.sees("0 user(s) blocked")


async def test_the_console_speaks_german(engine: Engine) -> None:
    async with at_the_desk(engine, language="de") as k:
        await k.sees("Fälle")
        await k.press("f9")
        await k.sees("Cases")


async def test_the_policy_explain_and_reports_pages_open_from_the_shell(
        engine: Engine, tmp_path: Path) -> None:
    from kiosk.console.policy.explain import ExplainScreen
    from kiosk.console.policy.pages import PolicyScreen
    from kiosk.console.reports.screen import ReportsScreen
    from kiosk.console.reports.source import EmbeddedData

    from .console_pages import POLICY_TEXT

    policy_file = tmp_path / "kiosk.toml"
    policy_file.write_text(POLICY_TEXT, encoding="utf-8")
    async with at_the_desk(engine, data=EmbeddedData(engine), policy_file=policy_file,
                           export_dir=tmp_path) as k:
        await k.sees("F6 Policy")
        await k.press("f6")
        await k.until(lambda: isinstance(k.app.screen, PolicyScreen), "the policy pages")
        await k.sees(f"Policy file {policy_file}")  # the file the console was started with
        await k.press("escape")  # back to the shell, on the page it left
        await k.sees("Type the support code the visitor reads out")
        await k.press("f7")
        await k.until(lambda: isinstance(k.app.screen, ExplainScreen), "the explain page")
        await k.type("frank")
        await k.enter()
        await k.sees("frank (Frank Fox)")
        await k.press("f8")  # another page's key goes there straight
        await k.until(lambda: isinstance(k.app.screen, ReportsScreen), "the reports page")
        await k.sees("Activity over 14 days")
        assert len(k.app.screen_stack) == 2
        await k.press("f4")  # a page of the shell
        await k.sees("0 user(s) blocked")
        assert len(k.app.screen_stack) == 1


async def test_without_a_policy_file_the_policy_page_says_so(engine: Engine) -> None:
    async with at_the_desk(engine) as k:
        await k.press("f6")
        await k.until(lambda: any("--policy FILE" in str(n.message)
                                  for n in k.app._notifications), "the notice")
        await k.press("f7")
        await k.until(lambda: any("database or API" in str(n.message)
                                  for n in k.app._notifications), "the notice")
        assert len(k.app.screen_stack) == 1


# ---------------------------------------------------------------- snapshots of every page


def run_cases(code: str):  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot) -> None:
        k = Kiosk(pilot.app, pilot)
        await k.type(code)
        await k.enter()
        await k.sees("BLOCKED: user alice")

    return run


async def run_passes(pilot: Pilot) -> None:
    k = Kiosk(pilot.app, pilot)
    await k.press("f3")
    await k.type("erin")
    await k.press("ctrl+s")
    await k.sees("Pass for erin")


async def run_board(pilot: Pilot) -> None:
    k = Kiosk(pilot.app, pilot)
    await k.press("f4")
    await k.sees("choose_method")
    await k.sees("verify_failures")


@pytest.mark.parametrize("theme", ["default", "high-contrast"])
@pytest.mark.parametrize("page", ["cases", "passes", "board"])
def test_console_page(page: str, theme: str, engine: Engine, snap_compare) -> None:  # type: ignore[no-untyped-def]
    code = block_alice(engine)
    engine.session(KIOSK).start("reset", "bob")
    run = {"cases": run_cases(code), "passes": run_passes, "board": run_board}[page]
    assert snap_compare(console(engine, theme=theme), terminal_size=SIZE, run_before=run)


# ---------------------------------------------------------------- the kiosk's pass screen


async def to_pass_screen(k: Kiosk) -> None:
    from kiosk.screens.access_pass import PassScreen
    from kiosk.screens.identify import IdentifyScreen
    from kiosk.screens.verify import ChooseMethodScreen
    from kiosk.screens.welcome import WelcomeScreen

    await k.at(WelcomeScreen)
    await k.press("1")
    await k.at(IdentifyScreen)
    await k.type("erin")
    await k.enter()
    chooser = await k.at(ChooseMethodScreen)
    number = [o for o in chooser.state.methods if not o.passed].index(  # type: ignore[attr-defined]
        next(o for o in chooser.state.methods if o.kind == "pass")) + 1  # type: ignore[attr-defined]
    await k.press(str(number))
    await k.at(PassScreen)


async def test_erin_enters_a_pass_at_the_kiosk(drive: Drive, engine: Engine) -> None:
    from kiosk.desk import PassRequest
    from kiosk.engine.helpdesk import Helpdesk
    from kiosk.screens.password import NewPasswordScreen

    Helpdesk(engine).issue_pass("ann", PassRequest(username="erin"))
    async with drive() as k:
        await to_pass_screen(k)
        await k.type("WRONG-PASS-1")
        await k.enter()
        await k.sees("That pass is not right, or it is no longer valid.")
        await k.type("kx7p-4rtq-9mza")
        await k.enter()
        await k.at(NewPasswordScreen)


def test_pass_screen(snap_compare, make_app) -> None:  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot) -> None:
        await to_pass_screen(Kiosk(pilot.app, pilot))

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run)
