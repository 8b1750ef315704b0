"""Password checks in worker processes, for a process that serves many visitors (the API).

zxcvbn (the Rust port too: it does not release the GIL) and the banned-list scan are CPU work
under the GIL. In one process, one kiosk pasting l33t-dense strings without pause made every
other kiosk's keystroke check wait for it: p99 6 → 21 ms (`bench/password.py --attack`). Each
worker process has its own GIL, so the server's threads only wait on a pipe while a check runs,
and one kiosk's checks occupy at most one worker at a time.

The embedded kiosk and each SSH session serve one visitor per process and check in-process
(an attacker there only slows down their own screen). `kiosk serve-api` calls `start()`.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache

from kiosk.backend import PasswordCheck
from kiosk.engine import passwords
from kiosk.engine.config import Password

log = logging.getLogger("kiosk.engine.passwords")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_size = 0


def default_workers() -> int:
    """One per core this process may use: checks are short and CPU-bound."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def start(workers: int | None = None) -> int:
    """Send this process's password checks to `workers` processes (0: check in-process).
    Returns the number started. The workers load the banned list before the first check."""
    global _pool, _size
    count = default_workers() if workers is None else max(0, workers)
    stop()
    if count == 0:
        return 0
    try:
        with _lock:
            # spawn, not fork: the server has threads (a forked child could inherit a held lock)
            _pool = _new_pool(count)
            _size = count
            warm = [_pool.submit(_ready) for _ in range(count)]  # every worker spawned now
        for future in warm:
            future.result()
    except (OSError, BrokenProcessPool) as exc:  # no /dev/shm in a container, a process limit
        log.warning("password checks stay in this process: no worker processes (%s)", exc)
        stop()
        return 0
    passwords.offload(_check_in_worker)
    atexit.unregister(stop)  # once, however often the workers were restarted
    atexit.register(stop)
    return count


def stop() -> None:
    """Check in-process again and end the workers."""
    global _pool
    passwords.offload(None)
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _restart(broken: ProcessPoolExecutor) -> None:
    """A worker died (killed, out of memory): a new pool for the next checks."""
    global _pool
    with _lock:
        if _pool is broken:
            _pool = _new_pool(_size)


def _new_pool(count: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"),
                               initializer=passwords.preload)


def _check_in_worker(policy: passwords.PasswordPolicy, password: str, user_terms: Sequence[str],
                     current_password: str | None) -> PasswordCheck:
    with _lock:
        pool = _pool
    if pool is not None:
        try:
            return pool.submit(_check, policy.cfg.model_dump_json(), policy.organization_name,
                               password, tuple(user_terms), current_password).result()
        except BrokenProcessPool:
            log.warning("a password check worker ended; starting new ones")
            _restart(pool)
    # no workers (stopped, or the pool just broke): the same check, in this process
    return policy.check_here(password, user_terms=user_terms, current_password=current_password)


def _ready() -> bool:
    return True


@lru_cache(maxsize=8)
def _policy(cfg_json: str, organization_name: str) -> passwords.PasswordPolicy:
    """A worker's policy per policy version (the policy file is re-read at each visit)."""
    return passwords.PasswordPolicy(Password.model_validate_json(cfg_json), organization_name)


def _check(cfg_json: str, organization_name: str, password: str, user_terms: tuple[str, ...],
           current_password: str | None) -> PasswordCheck:
    """Runs in a worker; `cfg_json` is the `[password]` section (the policy cache's key)."""
    return _policy(cfg_json, organization_name).check_here(
        password, user_terms=user_terms, current_password=current_password)
