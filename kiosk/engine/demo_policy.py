"""The demo policy, without the engine: `kiosk demo` draws its welcome screen from it before
the engine and the demo database are built (kiosk.engine.demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.engine.config import Policy, parse_policy

SSPR_GROUP = "sspr-users"
DEMO_POLICY: dict[str, Any] = {
    "demo": True,
    "organization": {
        "name": "Contoso (training)",
        "helpdesk": "IT helpdesk, room 1.12",
        "helpdesk_phone": "+1 425 555 0100",
        "helpdesk_email": "helpdesk@contoso.org",
    },
    # nested groups: sspr-users ⊃ staff ⊃ the ordinary users; frank is only a contractor
    "sspr": {"enabled": "selected", "groups": [SSPR_GROUP], "methods_required": 1},
    # OWASP's argon2id minimum (19 MiB, 2 passes): the demo starts fast and is no real secret
    "security": {"argon2_time_cost": 2, "argon2_memory_kib": 19456, "argon2_parallelism": 1},
}


def demo_policy(directory: Path, **overrides: Any) -> Policy:
    """The demo policy with its database in `directory` (demo.db)."""
    data = {**DEMO_POLICY, **overrides}
    data["database"] = {"url": f"sqlite:///{Path(directory) / 'demo.db'}"}
    return parse_policy(data)
