"""The UI's layers: screens reach the app only through kiosk.screens.host (no import circle),
and the app and the help screen get what they need without the engine."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import kiosk

ROOT = Path(kiosk.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function or TYPE_CHECKING block."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_no_screen_imports_the_app() -> None:
    offenders = {path.name for path in (ROOT / "screens").glob("*.py")
                 if "kiosk.app" in imported_modules(path)}
    assert not offenders, f"screens importing kiosk.app: {sorted(offenders)}"


def test_the_app_imports_nothing_inside_its_functions() -> None:
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    local = [node.lineno for function in ast.walk(tree)
             if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
             for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom)]
    assert not local, f"function-local imports in kiosk/app.py at lines {local}"


def test_the_screens_load_without_the_engine() -> None:
    """A remote terminal's UI needs no engine: the demo users and the TOTP codes of the help
    screen come from kiosk.demo_users and kiosk.totp_code."""
    code = ("import sys, kiosk.app\n"
            "print(','.join(sorted(m for m in sys.modules if m.startswith('kiosk.engine'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT.parent)
    assert out.stdout.strip() == "", f"the UI imported: {out.stdout}"
