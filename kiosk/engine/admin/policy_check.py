"""`kiosk admin policy check` beyond the schema: the secret files a policy names."""

from __future__ import annotations

from pathlib import Path

from kiosk.engine.config import Policy, PolicyError
from kiosk.engine.keys import read_key_file
from kiosk.engine.secret_files import read_secret


def secret_file_problems(policy: Policy) -> list[str]:
    """Each secret file that is missing or open to others (a key file that does not exist yet
    is made at the first start)."""
    files = {"delivery.smtp.password_file": policy.delivery.smtp.password_file,
             "delivery.gateway.secret_file": policy.delivery.gateway.secret_file,
             "ldap.bind_password_file": policy.ldap.bind_password_file}
    problems = []
    for key, path in files.items():
        try:
            if path:
                read_secret(path, key)
        except PolicyError as exc:
            problems += exc.problems
    try:
        if policy.secrets.key_file:
            read_key_file(Path(policy.secrets.key_file))
    except PolicyError as exc:
        problems += exc.problems
    return problems
