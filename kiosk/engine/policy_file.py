"""Editing the policy file in place: its keys changed one at a time, each edit validated with
the problems `kiosk admin policy check` reports (the same functions: parse_policy, then the
secret files), the change shown as a diff, and the file written back with its comments and
layout kept (tomlkit), atomically and with the same file mode.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.items import Table

from kiosk.engine.admin.policy_check import secret_file_problems
from kiosk.engine.config import Policy, PolicyError, parse_policy
from kiosk.engine.explain import policy_warnings

NEW_FILE_MODE = 0o640  # a policy names secret files: not for every local user


class PolicyFileError(Exception):
    """The file cannot be read or written; one line for the operator."""


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` whole or not at all (a temporary file beside it, then a rename), keeping
    the file's mode and owner (new files get NEW_FILE_MODE). A kiosk reading it sees the old
    or the new file, never half of one."""
    path = path.resolve()  # a symlinked policy stays a symlink: its target is replaced
    try:
        before: os.stat_result | None = path.stat()
    except FileNotFoundError:
        before = None
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, stat.S_IMODE(before.st_mode) if before else NEW_FILE_MODE)
        if before is not None and (before.st_uid, before.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(PermissionError):  # root editing the kiosk's file
                os.chown(temp, before.st_uid, before.st_gid)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class PolicyFile:
    """One policy file being edited: the text on disk and the edited document."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.reload()

    def reload(self) -> None:
        try:
            self.saved_text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.saved_text = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyFileError(f"{self.path}: cannot read ({exc})") from None
        try:
            self.doc = tomlkit.parse(self.saved_text)
        except ParseError as exc:
            raise PolicyFileError(f"{self.path}: not valid TOML ({exc})") from None

    # ------------------------------------------------------------ keys
    def get(self, key: str, default: Any = None) -> Any:
        """The value of a dotted key as plain Python, or `default` when the file leaves it out."""
        node: Any = self.doc
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node.unwrap() if hasattr(node, "unwrap") else node

    def set(self, key: str, value: Any) -> None:
        """Set a dotted key, adding its tables when the file has none (comments stay)."""
        *tables, name = key.split(".")
        node: Any = self.doc
        for part in tables:
            if part not in node:
                node[part] = tomlkit.table()
            node = node[part]
        if isinstance(node, Table | dict) and node.get(name) == value:
            return  # unchanged: keep the file's own spelling of it
        node[name] = value

    # ------------------------------------------------------------ checks
    @property
    def text(self) -> str:
        return tomlkit.dumps(self.doc)

    def data(self) -> dict[str, Any]:
        return self.doc.unwrap()

    def check(self) -> tuple[Policy | None, list[str]]:
        """The policy and the problems `kiosk admin policy check` would print (without the
        file name in front); no policy when there are problems."""
        try:
            policy = parse_policy(self.data())
        except PolicyError as exc:
            return None, list(exc.problems)
        problems = secret_file_problems(policy)
        return (None, problems) if problems else (policy, [])

    def warnings(self) -> list[str]:
        policy, _ = self.check()
        return policy_warnings(policy) if policy is not None else []

    @property
    def changed(self) -> bool:
        return self.text != self.saved_text

    def diff(self) -> list[str]:
        return list(difflib.unified_diff(
            self.saved_text.splitlines(), self.text.splitlines(),
            f"{self.path} (saved)", f"{self.path} (edited)", lineterm=""))

    def save(self) -> None:
        """Write the edited file (refused while it has problems)."""
        _, problems = self.check()
        if problems:
            raise PolicyFileError(f"{self.path}: not saved, {problems[0]}")
        text = self.text
        try:
            on_disk = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        except (OSError, UnicodeDecodeError):
            on_disk = None
        if on_disk != self.saved_text:  # never overwrite someone else's edit unseen
            raise PolicyFileError(f"{self.path}: changed on disk since it was opened; "
                                  "reopen it and edit again")
        try:
            write_atomically(self.path, text)
        except OSError as exc:
            raise PolicyFileError(f"{self.path}: cannot write ({exc.strerror})") from None
        self.saved_text = text
