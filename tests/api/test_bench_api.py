"""bench/api.py still runs: a real uvicorn process, kiosks through whole flows, the steady
window and the cold start reported. No figure is checked (benchmarks are read, not asserted):
only that the benchmark measures what it says, so the README's command keeps working."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "api.py"


def test_the_api_benchmark_runs_flows_and_reports_both_phases(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH), "--kiosks", "2", "--warmup", "1", "--duration", "6",
         "--scenarios", "sqlite", "--argon2", "owasp"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    row = re.search(r"^\s+2\s+sqlite, 1 instance\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(\S+)$",
                    out.stdout, re.MULTILINE)
    assert row, out.stdout
    flows, errors = int(row.group(1)), row.group(2)
    assert flows >= 1 and errors == "none"
    assert "light calls p99" in out.stdout
    assert re.search(r"cold start \(all 2 kiosks' first calls at once.*\((\d+) calls\)",
                     out.stdout)
