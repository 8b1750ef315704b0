"""What `kiosk run --remote` and `kiosk demo` load before their first screen: a remote terminal
never loads the engine, SQLAlchemy or argon2, and the demo does not load click (its plain
arguments are read by kiosk.ui_commands.start_plain; httpx, which the remote client needs,
loads click itself). Neither loads pydantic, SQLAlchemy, argon2 or the engine before its
welcome screen is mounted (issue 14: start-up time, bench/startup.py); the demo builds its
engine after that. Each runs headless in a subprocess through the console script's `main()`,
until its first screen is up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

PROBE = """
import gc, json, sys
from kiosk.app import KioskApp
from kiosk.screens.outcome import ProblemScreen
from kiosk.screens.welcome import WelcomeScreen

first_screen, at_welcome, collector = [], [], {}
mount, run = KioskApp.on_mount, KioskApp.run
welcome_mount, first_frame_out = WelcomeScreen.on_mount, KioskApp._first_frame_out
until_first_frame_out = json.loads(sys.argv[2])

def on_welcome_mount(self):
    if not at_welcome:  # what was loaded when the first welcome screen was mounted
        at_welcome.append(sorted(sys.modules))
        collector["at_welcome"] = gc.isenabled()
    welcome_mount(self)

def on_first_frame_out(self):
    first_frame_out(self)
    collector.setdefault("after_first_frame", gc.isenabled())

KioskApp._first_frame_out = on_first_frame_out

WelcomeScreen.on_mount = on_welcome_mount

async def on_mount(self):
    await mount(self)
    def up():
        if until_first_frame_out and "after_first_frame" not in collector:
            return
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
print(json.dumps({"screen": first_screen, "modules": sorted(sys.modules),
                  "at_welcome": at_welcome[0] if at_welcome else None, "gc": collector}))
"""

NEVER_REMOTE = ("sqlalchemy", "argon2", "kiosk.engine", "kiosk.adapters.embedded")
# nothing of these before the first welcome screen (the first frame), remote or demo
NOT_BEFORE_WELCOME = ("pydantic", "pydantic_core", "sqlalchemy", "argon2",
                      "kiosk.engine.engine", "kiosk.engine.config", "kiosk.backend.types",
                      "kiosk.backend.operations")
BRANDING = {"organization": "Contoso", "helpdesk": "IT helpdesk, room 1.12"}


class StandInApi(BaseHTTPRequestHandler):
    """The API's `branding` (all a remote kiosk asks before its welcome screen); 503 else."""

    def do_GET(self) -> None:
        found = self.path == "/v1/branding"
        body = json.dumps(BRANDING if found else {"code": "service_unavailable"}).encode()
        self.send_response(200 if found else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def api_key(tmp_path: Path) -> Path:
    key = tmp_path / "api.key"
    key.write_text("kiosk_test_key\n", encoding="utf-8")
    key.chmod(0o600)
    return key


def started(args: list[str], cwd: Path, *, until_first_frame_out: bool = False
            ) -> dict[str, Any]:
    # the demo's throwaway directory goes there; and the remote kiosk's branding cache
    env = {**os.environ, "TMPDIR": str(cwd), "XDG_CACHE_HOME": str(cwd / "cache")}
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args),
                          json.dumps(until_first_frame_out)], capture_output=True,
                         text=True, check=True, cwd=cwd, timeout=300, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def test_a_remote_kiosk_loads_no_engine_sqlalchemy_or_argon2(tmp_path: Path) -> None:
    result = started(["run", "--remote", "http://127.0.0.1:9", "--api-key-file",
                      str(api_key(tmp_path)), "--log", str(tmp_path / "kiosk.log")], tmp_path)
    assert result["screen"] == ["ProblemScreen"]  # nothing listens there: service unavailable
    assert loaded(result["modules"], NEVER_REMOTE) == []
    assert "kiosk.adapters.remote" in result["modules"]


def test_the_demo_draws_its_welcome_screen_without_click(tmp_path: Path) -> None:
    result = started(["demo"], tmp_path)
    assert result["screen"] == ["WelcomeScreen"]
    assert loaded(result["modules"], ("click",)) == []
    assert list(tmp_path.glob("kiosk-demo-*")) == []  # its throwaway directory is gone



def test_a_remote_kiosk_draws_its_welcome_screen_before_pydantic(
        tmp_path: Path, api: str) -> None:
    """The API's branding is read without pydantic (kiosk.backend.branding.read_branding): the
    operation table and its validators load with the first call that needs them."""
    result = started(["run", "--remote", api, "--api-key-file", str(api_key(tmp_path)),
                      "--log", str(tmp_path / "kiosk.log")], tmp_path)
    assert result["screen"] == ["WelcomeScreen"]
    assert loaded(result["at_welcome"], NOT_BEFORE_WELCOME) == []
    assert "httpx" in result["at_welcome"]  # the branding came over HTTP
    assert list((tmp_path / "cache" / "helpdesk-kiosk").glob("branding-*.json"))


def test_a_remote_kiosk_draws_its_next_welcome_screen_before_httpx(
        tmp_path: Path, api: str) -> None:
    """From its second start on, from the branding its API gave last time
    (kiosk.adapters.remote_start): httpx and the API's answer come after the first frame."""
    args = ["run", "--remote", api, "--api-key-file", str(api_key(tmp_path)),
            "--log", str(tmp_path / "kiosk.log")]
    started(args, tmp_path)  # the first start asks the API first, and keeps its branding
    result = started(args, tmp_path)
    assert result["screen"] == ["WelcomeScreen"]
    assert loaded(result["at_welcome"], ("httpx", "httpcore", *NOT_BEFORE_WELCOME)) == []


def test_the_demo_draws_its_welcome_screen_before_pydantic_and_its_engine(
        tmp_path: Path) -> None:
    """The demo's first frame comes from kiosk.engine.demo_policy.demo_branding; the policy's
    models, the engine, SQLAlchemy and argon2 load in the build thread after that frame."""
    result = started(["demo"], tmp_path)
    assert result["screen"] == ["WelcomeScreen"]
    assert loaded(result["at_welcome"], NOT_BEFORE_WELCOME) == []


def test_the_garbage_collector_waits_for_the_first_frame(tmp_path: Path) -> None:
    """Collections of the start-up's objects cost 35-45 ms of a 300 ms start (one full
    collection in the middle of the first frame): `kiosk demo` and `kiosk run` hold the cyclic
    collector back until the first frame is out, then it runs as usual."""
    result = started(["demo"], tmp_path, until_first_frame_out=True)
    assert result["screen"] == ["WelcomeScreen"]
    assert result["gc"] == {"at_welcome": False, "after_first_frame": True}
