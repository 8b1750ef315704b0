"""The six demo users of DESIGN.md ("Demo data"): names, passwords, contacts and secrets.

The one source for both the engine's demo seed (kiosk.engine.demo) and the help screen's
list of demo users and their secrets; plain data, so the UI reads it without the engine.
Trainers and docs rely on these names and secrets; change them only together with DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BOB_TOTP_SECRET = "JBSWY3DPEHPK3PXP"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    shows: str
    password: str
    contacts: dict[str, str] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    totp_secret: str | None = None
    is_admin: bool = False
    locked: bool = False
    in_scope: bool = True


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("alice", "Alice Archer", "ordinary user: email, mobile, 3 questions",
             "Alice-demo-pass-1",
             contacts={"email": "alice@contoso.org", "mobile": "+14255550142"},
             answers={"pet": "rex", "city": "springfield", "nickname": "ally"}),
    DemoUser("bob", "Bob Baker", "authenticator app registered (required) + email",
             "Bob-demo-pass-1", contacts={"email": "bob@contoso.org"},
             totp_secret=BOB_TOTP_SECRET),
    DemoUser("carol", "Carol Clark", "administrator: two methods (email + mobile)",
             "Carol-demo-pass-1",
             contacts={"email": "carol@contoso.org", "mobile": "+14255550143"}, is_admin=True),
    DemoUser("dave", "Dave Dunn", "account locked: unlock flow", "Dave-demo-pass-1",
             contacts={"email": "dave@contoso.org"}, locked=True),
    DemoUser("erin", "Erin Evans",
             "nothing registered: no code arrives; registers with her password",
             "Erin-demo-pass-1"),
    DemoUser("frank", "Frank Fox", "not in the SSPR group: no code arrives (a decoy)",
             "Frank-demo-pass-1",
             contacts={"email": "frank@contoso.org", "mobile": "+14255550144"},
             in_scope=False),
)
