"""The engine and the API server never import textual (they run headless, in servers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_engine_and_api_never_import_textual() -> None:
    modules = [
        f"kiosk.engine.{p.stem}" for p in (ROOT / "kiosk" / "engine").glob("*.py")
        if p.stem != "__init__"
    ] + ["kiosk.adapters.embedded", "kiosk.backend"]
    modules += [f"backend_stub.{p.stem}" for p in (ROOT / "backend_stub").glob("*.py")
                if p.stem not in ("__init__", "__main__")]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "", f"textual imported: {out.stdout}"


def test_no_textual_import_statement_in_headless_sources() -> None:
    for folder in ("kiosk/engine", "backend_stub"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "import textual" not in text and "from textual" not in text, path
