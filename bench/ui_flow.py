"""The full alice reset driven by Pilot against the real EmbeddedBackend on a demo database:
welcome → identify → email code → new password → done. Wall time per run, several runs.

The same walk is timed twice: "as typed" (every character a key press through Pilot, which
waits for the app to settle after each key, as a person's typing would) and "pasted" (codes and
passwords arrive as one bracketed paste, as a password manager or a careful tester would).

    .venv/bin/python bench/ui_flow.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from pathlib import Path

from textual import events

from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.app import KioskApp
from kiosk.engine.demo import build_demo_engine
from kiosk.screens.outcome import DoneScreen
from kiosk.screens.password import NewPasswordScreen
from kiosk.screens.verify import ChooseMethodScreen, EnterCodeScreen
from kiosk.screens.welcome import WelcomeScreen

NEW = "Harbour kiosk lantern 2041"
CODE = re.compile(r"\b(\d{4}) (\d{4})\b")


async def until(pilot, check, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError(str(check))
        await pilot.pause(0.005)


async def walk(typed: bool) -> float:
    """Seconds from the first key on the welcome screen to the done screen."""
    directory = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    engine = build_demo_engine(directory)
    backend = EmbeddedBackend(engine, terminal="console:bench")
    app = KioskApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.ready)

        async def enter_text(text: str) -> None:
            if typed:
                await pilot.press(*text)
            else:
                app.focused.post_message(events.Paste(text))  # type: ignore[union-attr]
                await pilot.pause()

        start = time.perf_counter()
        await pilot.press("1")
        await pilot.pause()
        await enter_text("alice")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ChooseMethodScreen))
        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, EnterCodeScreen))
        body = (await backend.outbox(1))[0].body
        found = CODE.search(body)
        assert found
        await enter_text(found.group(1) + found.group(2))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, NewPasswordScreen))
        screen = app.screen
        await enter_text(NEW)
        await pilot.press("enter")
        await enter_text(NEW)
        await until(pilot, lambda: screen.valid)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DoneScreen))
        elapsed = time.perf_counter() - start
    engine.db.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(walk(False))  # warm-up: imports, zxcvbn dictionaries, bytecode
    results: dict[str, list[float]] = {"pasted": [], "as typed": []}
    for _ in range(args.runs):  # alternated
        results["pasted"].append(asyncio.run(walk(False)))
        results["as typed"].append(asyncio.run(walk(True)))
    print(f"alice's reset through Pilot (welcome → done), {args.runs} runs each, "
          "real EmbeddedBackend on a demo database")
    for name, times in results.items():
        print(f"  {name:<9} median {statistics.median(times) * 1000:6.0f} ms   "
              f"min {min(times) * 1000:6.0f} ms   max {max(times) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
