"""`kiosk admin demo reset`: a fresh demo database and the policy file that points at it."""

from __future__ import annotations

from pathlib import Path

from kiosk.engine.admin.errors import Invalid
from kiosk.engine.toml_writer import to_toml

DEMO_POLICY_FILE = "kiosk.toml"
DEMO_POLICY_MARK = "# The demo policy, written by `kiosk admin demo reset`"


def demo_reset(directory: Path) -> tuple[Path, Path]:
    """A fresh demo database in `directory` (the old demo.db and its WAL files are removed),
    plus a policy file there that points at it, for `kiosk admin --policy DIR/kiosk.toml`."""
    from kiosk.engine.demo import DEMO_POLICY, build_demo_engine  # only this command needs it

    directory = directory.resolve()
    if directory.exists() and not directory.is_dir():
        raise Invalid(f"{directory} is not a directory")
    policy_file = directory / DEMO_POLICY_FILE
    if policy_file.exists() and not policy_file.read_text(
            encoding="utf-8", errors="replace").startswith(DEMO_POLICY_MARK):
        raise Invalid(f"{policy_file} exists and is not a demo policy: refusing to replace it "
                      "(choose another --directory)")
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "demo.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        target = database.with_name(database.name + suffix)
        if target.is_dir():
            raise Invalid(f"{target} is a directory: refusing to replace it")
        target.unlink(missing_ok=True)
    engine = build_demo_engine(directory)
    engine.db.dispose()
    policy = {**DEMO_POLICY, "database": {"url": f"sqlite:///{database}"}}
    policy_file.write_text(f"{DEMO_POLICY_MARK} (kiosk.engine.demo.DEMO_POLICY)\n"
                           + to_toml(policy), encoding="utf-8")
    return database, policy_file
