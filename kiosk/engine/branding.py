"""What the welcome screen shows, from the policy alone: the kiosk draws it before the engine
(database, schema, demo users) is built, then takes the engine's own answer. No pydantic at
import (the policy's models are named for the type checker only): `kiosk demo` draws its
first frame from kiosk.engine.demo_policy.demo_branding before pydantic is loaded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kiosk.backend import Branding

if TYPE_CHECKING:
    from kiosk.engine.config import Organization, Policy


def helpdesk_text(helpdesk: str, phone: str = "", email: str = "") -> str:
    """The helpdesk line: the policy's text, then its telephone and address when set."""
    return " · ".join(part for part in (helpdesk, phone, email) if part)


def helpdesk_line(org: Organization) -> str:
    return helpdesk_text(org.helpdesk, org.helpdesk_phone, org.helpdesk_email)


def policy_branding(policy: Policy, domains: Sequence[str] = (),
                    prefixes: Sequence[str] = ()) -> Branding:
    """The Backend's `branding()` answer; the sign-in forms (learned from the directory)
    are the engine's to add."""
    org = policy.organization
    return Branding(
        organization=org.name, helpdesk=helpdesk_line(org), helpdesk_url=org.helpdesk_url,
        languages=list(org.languages), theme=org.theme, demo=policy.demo,
        password_min_length=policy.password.min_length,
        password_max_length=policy.password.max_length,
        code_length=policy.codes.length,
        sign_in_domains=list(domains), sign_in_prefixes=list(prefixes))
