"""The first frame before the engine (issue 14): the welcome screen is drawn from the policy's
branding while the engine is built in a thread (kiosk.adapters.deferred); a visitor faster than
the build waits on the first call with the busy state, and a build that fails shows the
"service unavailable" screen, never a traceback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App

from kiosk.adapters.deferred import Build, DeferredBackend
from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.backend import Backend
from kiosk.engine.branding import policy_branding
from kiosk.engine.demo_policy import demo_branding, demo_policy
from kiosk.engine.engine import Engine
from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.outcome import ProblemScreen
from kiosk.screens.verify import ChooseMethodScreen
from kiosk.screens.welcome import WelcomeScreen
from tests.support.pilot import TERMINAL, Drive


async def until(check: Callable[[], bool], timeout: float = 10) -> None:
    """Wait for a state without Pilot (whose pause waits for a busy screen to be idle)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def deferred(build: Build[Any]) -> DeferredBackend:
    def embedded(engine: Engine) -> Backend:
        return EmbeddedBackend(engine, terminal=TERMINAL)

    return DeferredBackend(build, embedded)


async def test_a_fast_visitor_waits_on_the_first_call_for_the_engine(
        drive: Drive, engine: Engine) -> None:
    built = threading.Event()

    def slow_build() -> Engine:
        built.wait(timeout=20)
        return engine

    build: Build[Engine] = Build(slow_build)
    async with drive(backend=deferred(build), branding=policy_branding(engine.policy)) as k:
        await k.at(WelcomeScreen)
        await k.sees("Contoso (training)")
        assert build.built() is None  # drawn before the engine exists
        await k.press("1")
        await k.at(IdentifyScreen)
        await k.type("alice")
        k.enter_while_busy()  # the screen is busy until the build is done
        await until(lambda: k.app._busy)  # waiting on the build, on the same screen
        assert isinstance(k.app.screen, IdentifyScreen)
        assert k.app.screen.query("Button.-busy")
        assert build.built() is None
        built.set()
        await k.at(ChooseMethodScreen)
        assert build.built() is engine


async def test_a_database_error_in_the_build_is_service_unavailable_then_retried(
        drive: Drive, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-directory"
    policy = demo_policy(missing)  # SQLite cannot create demo.db there: OperationalError
    build: Build[Engine] = Build(lambda: Engine(policy))
    async with drive(backend=deferred(build), branding=policy_branding(policy)) as k:
        screen = await k.at(ProblemScreen)
        assert screen.kind == "service_unavailable"
        await k.sees("The service is not available")
        await k.sees(policy_branding(policy).organization)  # whose kiosk, whom to call
        missing.mkdir()  # the database can be opened now: "try again" builds again
        await k.enter()
        await k.at(WelcomeScreen)
        engine = build.built()
        assert engine is not None
        engine.db.dispose()
    logged = (tmp_path / "kiosk.log").read_text(encoding="utf-8")
    assert "OperationalError" in logged
    assert "unable to open" not in logged and "Traceback" not in logged  # type only


async def test_the_sign_in_forms_follow_once_the_engine_is_built(
        drive: Drive, engine: Engine) -> None:
    """The demo's forms (jsmith@contoso.org) are learned from its directory, by the engine."""
    built = threading.Event()
    build: Build[Engine] = Build(lambda: (built.wait(timeout=20), engine)[1])
    async with drive(backend=deferred(build), branding=policy_branding(engine.policy)) as k:
        await k.at(WelcomeScreen)
        await k.press("1")
        await k.at(IdentifyScreen)
        await k.sees("without a domain")  # no forms known yet
        built.set()
        await k.sees("jsmith@contoso.org or CONTOSO\\jsmith")
        assert isinstance(k.app.screen, IdentifyScreen)


async def test_a_build_failing_under_a_visitor_is_retried_after_the_problem_screen(
        drive: Drive, tmp_path: Path) -> None:
    """The visitor's own call and the app's first branding call fail on the same build; either
    problem screen leads, once the database can be opened, to the engine's own branding."""
    missing = tmp_path / "no-such-directory"
    policy = demo_policy(missing)
    waiting = threading.Event()

    def build() -> Engine:
        waiting.wait(timeout=20)  # until the visitor's call waits too
        return Engine(policy)

    engine_build: Build[Engine] = Build(build)
    async with drive(backend=deferred(engine_build), branding=policy_branding(policy)) as k:
        await k.at(WelcomeScreen)
        await k.press("1")
        await k.at(IdentifyScreen)
        await k.type("alice")
        k.enter_while_busy()
        await until(lambda: k.app._busy)
        waiting.set()  # now the build fails, under both calls
        screen = await k.at(ProblemScreen)
        assert screen.kind == "service_unavailable"
        missing.mkdir()
        await k.enter()  # "try again" or "start over": either asks the backend again
        await until(lambda: not k.app.starting)
        await k.at(WelcomeScreen)
        engine = engine_build.built()
        assert engine is not None
        engine.db.dispose()


def test_the_demos_first_frame_is_drawn_from_the_branding_its_engine_answers(
        tmp_path: Path) -> None:
    """`kiosk demo` reads its first frame's branding straight from the demo policy (no
    pydantic before that frame): it is the engine's own answer, but for the sign-in forms the
    engine learns from its directory (so the welcome screen is not drawn again)."""
    assert demo_branding() == policy_branding(demo_policy(tmp_path))


async def test_the_first_welcome_screen_is_not_held_back_later_visits_are(
        drive: Drive, monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual holds all drawing for 50 ms at a mode switch to mask the change of screens
    (App.delay_update). The first visit's switch comes from the blank start-up screen: nothing
    to mask, so the first frame is not held (bench/startup.py); later visits keep the mask."""
    held: list[int] = []
    textual_delay = App.delay_update

    def noting(app: App[Any], delay: float = 0.05) -> None:
        held.append(getattr(app, "_visit", -1))
        textual_delay(app, delay)

    monkeypatch.setattr(App, "delay_update", noting)
    async with drive() as k:
        await k.at(WelcomeScreen)
        await until(lambda: k.app.ready)
        assert held == []
        await k.press("1")
        await k.at(IdentifyScreen)
        await k.app._new_visit()  # the next visitor
        await k.at(WelcomeScreen)
        assert held == [2]
