"""The demo policy, without the engine: `kiosk demo` draws its welcome screen from it before
the engine and the demo database are built (kiosk.engine.demo), and before pydantic is loaded
(the policy's models, kiosk.engine.config, load with the engine, after the first frame)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.backend import LANGUAGES, Branding
from kiosk.engine.branding import helpdesk_text

if TYPE_CHECKING:
    from kiosk.engine.config import Policy

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
    from kiosk.engine.config import parse_policy  # pydantic: not before the first frame

    data = {**DEMO_POLICY, **overrides}
    data["database"] = {"url": f"sqlite:///{Path(directory) / 'demo.db'}"}
    return parse_policy(data)


def demo_branding() -> Branding:
    """The demo's welcome screen before its engine exists: policy_branding(demo_policy(...))
    read straight from DEMO_POLICY, without validating the policy (pydantic). The rest of the
    policy's defaults are Branding's own; a test checks the two answers are equal."""
    org = DEMO_POLICY["organization"]
    return Branding(organization=org["name"],
                    helpdesk=helpdesk_text(org["helpdesk"], org["helpdesk_phone"],
                                           org["helpdesk_email"]),
                    languages=list(LANGUAGES), demo=True)
