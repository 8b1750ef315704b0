"""Running kiosks follow an edited policy file without dropping a visit.

The engine checks the file's identity (inode, size, mtime in ns) at the start of each new
visit (`Engine.start`): one stat call. When it changed, the file is read and validated like
at start; a valid policy is taken for the next calls (flows live in the database, so visits in
progress go on), an invalid one is logged once, one line naming the problems, and the policy in
force stays. Sections that hold connections, keys or the terminal's own settings need a restart;
a change to them is logged and kept for then.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from kiosk.engine.config import Policy, PolicyError, load_policy

log = logging.getLogger("kiosk.engine.reload")

# read once at start: the database and its key, the directory's connections, delivery's
# queue, argon2 cost (the directory's hasher), the terminal's own settings, demo mode
RESTART_SECTIONS = ("database", "secrets", "directory", "ldap", "delivery", "security",
                    "kiosk", "demo")

Stamp = tuple[int, int, int] | None


def _stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class PolicyWatch:
    """Reloads `path` when the file changed (see the module's docstring): `current` gives the
    policy in force, `use` takes the new one (the engine's, passed in so that this module does
    not import the engine back)."""

    def __init__(self, current: Callable[[], Policy], use: Callable[[Policy], None],
                 path: str | Path, load: Callable[[], Policy] | None = None) -> None:
        self.current, self.use = current, use
        self.path = Path(path)
        self.load = load or (lambda: load_policy(self.path))
        self._seen = _stamp(self.path)
        self._lock = threading.Lock()

    def check(self) -> bool:
        """Reload if the file changed since the last look; True when a new policy was taken."""
        stamp = _stamp(self.path)
        if stamp == self._seen or not self._lock.acquire(blocking=False):
            return False  # unchanged, or another visit's thread is reloading it right now
        try:
            self._seen = stamp  # a bad version is logged once, not at every visit
            if stamp is None:
                log.error("policy %s not reloaded: cannot read it; the policy in force stays",
                          self.path)
                return False
            try:
                policy = self.load()
            except PolicyError as exc:
                log.error("policy %s not reloaded, the policy in force stays: %s", self.path,
                          "; ".join(exc.problems))
                return False
            self.use(self._live_part(policy))
            log.info("policy %s reloaded", self.path)
            return True
        finally:
            self._lock.release()

    def _live_part(self, policy: Policy) -> Policy:
        old = self.current()
        later = [name for name in RESTART_SECTIONS if getattr(policy, name) != getattr(old, name)]
        if later:
            log.warning("policy %s: %s changed; restart the kiosk to apply %s", self.path,
                        ", ".join(later), "it" if len(later) == 1 else "them")
        return policy.model_copy(update={name: getattr(old, name) for name in later})
