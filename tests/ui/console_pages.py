"""A minimal App that shows one console page, and the policy file the page tests edit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

POLICY_TEXT = """\
# Contoso's kiosk policy: kept by the helpdesk, reviewed every quarter
[organization]
name = "Contoso"                 # shown on every screen
helpdesk = "IT helpdesk, room 1.12"

[sspr]
enabled = "selected"             # none | selected | all
groups = ["sspr-users"]          # nested groups count
methods_required = 1             # administrators always need 2, never questions

[directory]
kind = "builtin"

[ldap]
urls = ["ldaps://dc1.contoso.org"]
bind_dn = "CN=kiosk,OU=Service,DC=contoso,DC=org"
bind_password = "Bind-S3cret-never-shown"
user_base = "OU=Staff,DC=contoso,DC=org"
"""


class PageApp(App[None]):
    """Pushes the page `make()` builds; nothing else (the console shell is another module)."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.make = make

    def on_mount(self) -> None:
        self.push_screen(self.make())


async def until(pilot: Pilot[Any], condition: Callable[[], bool], rounds: int = 200) -> None:
    """Wait for a state, one message round at a time (never a sleep)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause()
    raise AssertionError("the expected state never came")


def screen_text(app: App[Any]) -> str:
    """Every Static / Label / Checkbox text on the current screen."""
    from textual.widgets import Static

    return "\n".join(str(w.render()) for w in app.screen.query(Static))
