"""What a remote kiosk (`kiosk run --remote URL`) needs before its first frame, without httpx.

- `read_api_key` and `api_base`: the key file and the URL are checked before the app starts,
  so a typo is said on the command line, not as "service unavailable".
- The branding cache: the last `branding` the API gave this terminal, kept on disk. The next
  start draws its welcome screen from it while httpx loads and the API is asked (right after
  the first frame); an answer that differs redraws the untouched welcome screen, a failure
  shows "service unavailable" as at any start (KioskApp._confirm_branding). A first start, or
  a cache that cannot be read, asks the API before the first screen, as always. The branding
  is what the welcome screen shows to anyone (organisation, helpdesk, languages, theme):
  nothing in the file is secret, and it is checked field by field when read.
- `remote_after_first_frame`: the RemoteBackend (and httpx) made on the first call.

Start-up time is benchmarked: bench/startup.py (`kiosk run --remote`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.backend.branding import Branding, read_branding

if TYPE_CHECKING:
    from kiosk.backend import Backend

log = logging.getLogger("kiosk.remote")

CACHE_LIMIT = 64 * 1024  # a branding is well under 1 KiB: anything larger is not one


def read_api_key(key_file: str | Path) -> str:
    """The key from its file (surrounding white space dropped); warns when others may read it."""
    path = Path(key_file)
    try:
        mode = path.stat().st_mode
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read the API key file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"the API key file {path} is not text") from None
    if not key:
        raise ValueError(f"the API key file {path} is empty")
    if os.name == "posix" and mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("the API key file %s is readable by other users (chmod 600 it)", path)
    return key


def api_base(url: str) -> str:
    """The API's base URL (without a trailing / or /v1); ValueError unless http(s)."""
    base = url.rstrip("/").removesuffix("/v1")
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"the API URL must start with http:// or https:// (got {url!r})")
    return base


def branding_cache_file(url: str, cache_home: str | Path | None = None) -> Path:
    """Where the branding of the API at `url` is kept: one file per API, under
    $XDG_CACHE_HOME (else ~/.cache)/helpdesk-kiosk."""
    home = cache_home or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    name = hashlib.sha256(api_base(url).encode()).hexdigest()[:16]
    return Path(home) / "helpdesk-kiosk" / f"branding-{name}.json"


def cached_branding(file: Path) -> Branding | None:
    """The branding kept in `file`, or None (none yet, unreadable, not a branding)."""
    try:
        with file.open("rb") as handle:
            raw = handle.read(CACHE_LIMIT + 1)
        if len(raw) > CACHE_LIMIT:
            return None
        return read_branding(json.loads(raw))
    except (OSError, ValueError):  # ValueError: not JSON, not UTF-8
        return None


def remember_branding(file: Path, branding: Branding) -> None:
    """Keep `branding` in `file` (replaced whole, never half-written); a cache that cannot be
    written (a read-only home on a locked-down terminal) costs only the next start's speed."""
    if cached_branding(file) == branding:
        return  # unchanged: no write at every start
    data = {**asdict(branding), "purposes": [purpose.value for purpose in branding.purposes]}
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    try:
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".branding-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, file)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    except OSError as exc:
        log.info("the branding cache %s cannot be written: %s", file, exc.strerror)


def remote_after_first_frame(url: str, key_file: str | Path,
                             cache: Path | None = None) -> Callable[[], Backend]:
    """A backend for each run of the app: a RemoteBackend, made on the app's first call (its
    module, with httpx, imported in a thread): after the first frame when the branding was
    cached. A key file gone since the start is "service unavailable", and said in the log."""
    from kiosk.adapters.deferred import Build, DeferredBackend
    from kiosk.backend import ServiceUnavailable
    from kiosk.backend.protocol import as_backend

    def remote(module: Any) -> Backend:
        try:
            return as_backend(module.open_remote_backend(url, key_file, branding_cache=cache))
        except ValueError as exc:  # the key file's path and why: no secret
            log.error("%s", exc)
            raise ServiceUnavailable("the service is not available") from None

    module: Build[Any] = Build(lambda: importlib.import_module("kiosk.adapters.remote"))
    return lambda: as_backend(DeferredBackend(module, remote))
