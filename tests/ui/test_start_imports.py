"""What `kiosk run --remote` and `kiosk demo` load before their first screen: a remote terminal
never loads the engine, SQLAlchemy or argon2, and the demo does not load click (its plain
arguments are read by kiosk.ui_commands.start_plain; httpx, which the remote client needs,
loads click itself). Each runs headless in a subprocess
through the console script's `main()`, until its first screen is up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
from kiosk.app import KioskApp
from kiosk.screens.outcome import ProblemScreen

first_screen = []
mount, run = KioskApp.on_mount, KioskApp.run

async def on_mount(self):
    await mount(self)
    def up():
        if self.ready or isinstance(self.screen, ProblemScreen):
            first_screen.append(type(self.screen).__name__)
            self.exit("operator")
    self.set_interval(0.02, up)

KioskApp.on_mount = on_mount
sys.argv = ["kiosk", *json.loads(sys.argv[1])]
from kiosk.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps({"screen": first_screen, "modules": sorted(sys.modules)}))
"""

NEVER_REMOTE = ("sqlalchemy", "argon2", "kiosk.engine.engine", "kiosk.engine.core",
                "kiosk.engine.db", "kiosk.adapters.embedded", "kiosk.adapters.deferred")


def started(args: list[str], cwd: Path) -> dict[str, list[str]]:
    env = {**os.environ, "TMPDIR": str(cwd)}  # the demo's throwaway directory goes there
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True,
                         text=True, check=True, cwd=cwd, timeout=300, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def test_a_remote_kiosk_loads_no_engine_sqlalchemy_or_argon2(tmp_path: Path) -> None:
    key = tmp_path / "api.key"
    key.write_text("kiosk_test_key\n", encoding="utf-8")
    key.chmod(0o600)
    result = started(["run", "--remote", "http://127.0.0.1:9", "--api-key-file", str(key),
                      "--log", str(tmp_path / "kiosk.log")], tmp_path)
    assert result["screen"] == ["ProblemScreen"]  # nothing listens there: service unavailable
    assert loaded(result["modules"], NEVER_REMOTE) == []
    assert "kiosk.adapters.remote" in result["modules"]


def test_the_demo_draws_its_welcome_screen_without_click(tmp_path: Path) -> None:
    result = started(["demo"], tmp_path)
    assert result["screen"] == ["WelcomeScreen"]
    assert loaded(result["modules"], ("click",)) == []
    assert list(tmp_path.glob("kiosk-demo-*")) == []  # its throwaway directory is gone

