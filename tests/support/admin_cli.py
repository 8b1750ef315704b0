"""`kiosk admin` under test: one installation (a policy file with cheap argon2 and a SQLite
database) and a CliRunner that runs the real `kiosk` entry point against it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from kiosk.cli import main
from kiosk.engine.admin import Admin
from kiosk.engine.config import load_policy
from kiosk.engine.engine import Engine

POLICY = """\
[organization]
name = "Test Org"

[sspr]
enabled = "selected"
groups = ["sspr"]
methods_required = 1

[security]
argon2_time_cost = 1
argon2_memory_kib = 1024
argon2_parallelism = 1

[database]
url = "sqlite:///{db}"
"""


@dataclass
class Kiosk:
    """One test installation: its policy file, database and a runner for `kiosk admin`."""

    tmp_path: Path
    policy_file: Path
    database: Path

    def run(self, *args: str, input: str | bytes | None = None,
            env: dict[str, str | None] | None = None) -> Result:
        runner = CliRunner(env={"KIOSK_POLICY": str(self.policy_file),
                                "KIOSK_DATABASE_URL": None, "KIOSK_DEBUG": None,
                                **(env or {})})
        return runner.invoke(main, ["admin", *args], input=input, prog_name="kiosk")

    def ok(self, *args: str, input: str | bytes | None = None) -> Result:
        result = self.run(*args, input=input)
        assert result.exit_code == 0, (result.output, result.exception)
        return result

    def fails(self, *args: str, code: int = 1, input: str | bytes | None = None) -> Result:
        result = self.run(*args, input=input)
        assert result.exit_code == code, (result.output, result.exception)
        assert "Traceback" not in result.output
        return result

    def engine(self) -> Engine:
        return Engine(load_policy(self.policy_file))

    def admin(self) -> Admin:
        return Admin(self.engine())
