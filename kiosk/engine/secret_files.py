"""Files that hold secrets: written 0600 whatever the umask, refused when group or others may
read them; and the policy's secrets that may come from a file or the environment (SMTP
password, gateway secret), like LDAP's `bind_password_file`."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from kiosk.engine.config import Gateway, PolicyError, Smtp

PRIVATE = 0o600
SMTP_PASSWORD_ENV = "KIOSK_SMTP_PASSWORD"
GATEWAY_SECRET_ENV = "KIOSK_GATEWAY_SECRET"


def create_private(path: Path) -> bool:
    """Make an empty file only its owner may read and write; False if it exists already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE)  # the umask only takes bits away; set exactly these
    finally:
        os.close(fd)
    return True


def write_private(path: Path, data: bytes, *, replace: bool = False) -> bool:
    """Write `data` to `path` (mode 0600 whatever the umask); the file appears whole or not
    at all. Without `replace` an existing file is left alone and False is returned."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), PRIVATE)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(temp, path)
        elif not _link(temp, path):
            return False
        _sync_dir(path.parent)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _link(temp: Path, path: Path) -> bool:
    """Put `temp` at `path` unless something is there (a hard link is atomic and exclusive)."""
    try:
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: exclusive create, then write
        if not create_private(path):
            return False
        path.write_bytes(temp.read_bytes())
        return True


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def exposure(path: str | Path) -> str | None:
    """What is wrong with a secret file: missing, not a file, or open to group or others."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"cannot read {path} ({exc.strerror})"
    if not stat.S_ISREG(info.st_mode):
        return f"{path} is not a file"
    mode = stat.S_IMODE(info.st_mode)
    if os.name == "posix" and mode & 0o077:
        return f"{path} may be read by group or others (mode {mode:o}); run: chmod 600 {path}"
    return None


def read_secret(path: str | Path, key: str) -> str:
    """The secret in a file (stripped); a PolicyError naming `key` when it is not fit."""
    problem = exposure(path)
    if problem is None:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            problem = f"cannot read {path} ({getattr(exc, 'strerror', None) or exc})"
        else:
            if value:
                return value
            problem = f"{path} is empty"
    raise PolicyError([f"{key}: {problem}"])


def policy_secret(value: str, file: str, env: str, key: str) -> str:
    """The file (`key`) if set, else the environment variable `env` if set, else `value`."""
    if file:
        return read_secret(file, key)
    return os.environ.get(env) or value


def smtp_password(cfg: Smtp) -> str:
    return policy_secret(cfg.password, cfg.password_file, SMTP_PASSWORD_ENV,
                         "delivery.smtp.password_file")


def gateway_secret(cfg: Gateway) -> str:
    return policy_secret(cfg.secret, cfg.secret_file, GATEWAY_SECRET_ENV,
                         "delivery.gateway.secret_file")


def write_secret_file(path: str | Path, value: str) -> None:
    """Write a key or token readable by its owner only (0600 whatever the umask), whole or not
    at all; a file that was there is replaced."""
    write_private(Path(path), (value + "\n").encode("utf-8"), replace=True)
