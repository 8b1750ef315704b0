"""The `kiosk` command stays light: `kiosk demo` / `kiosk run` never import the admin
machinery, and `kiosk admin` imports the engine only when a command runs."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from kiosk.cli import SUBCOMMANDS
SUBCOMMANDS[sys.argv[1]][0]()
print(json.dumps(sorted(m for m in sys.modules
                        if m.startswith(("kiosk.engine", "kiosk.cli.", "sqlalchemy")))))
"""


def loaded_by(command: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, command], capture_output=True,
                         text=True, check=True)
    return list(json.loads(out.stdout))


def test_the_kiosk_commands_do_not_load_the_admin_cli() -> None:
    for command in ("demo", "run"):
        loaded = loaded_by(command)
        assert not [m for m in loaded if m.startswith(("kiosk.cli.", "kiosk.engine.admin"))]


def test_kiosk_admin_loads_its_commands_but_not_the_engine() -> None:
    loaded = loaded_by("admin")
    assert "kiosk.cli.users" in loaded and "kiosk.cli.terminals" in loaded
    assert not [m for m in loaded if m.startswith(("kiosk.engine", "sqlalchemy"))]
