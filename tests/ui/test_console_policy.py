"""The console's policy pages and explain page, driven with Pilot in a minimal App."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from textual.widgets import Checkbox, Input, Static, TabbedContent

from kiosk.cli import main
from kiosk.console.policy.explain import ExplainScreen
from kiosk.console.policy.pages import PAGES, DiffScreen, PolicyScreen
from kiosk.console.reports.source import EmbeddedData
from kiosk.engine.engine import Engine

from .console_pages import POLICY_TEXT, PageApp, screen_text, until

SIZE = (80, 24)


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy" / "kiosk.toml"
    path.parent.mkdir()
    path.write_text(POLICY_TEXT, encoding="utf-8")
    return path


def problems(app: PageApp) -> str:
    return str(app.screen.query_one("#problems", Static).render())


def policy_check(text: str, tmp_path: Path) -> list[str]:
    """What `kiosk admin policy check` prints for a file with this text (without the name)."""
    checked = tmp_path / "checked.toml"
    checked.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["admin", "policy", "check", str(checked)])
    return [line.removeprefix(f"{checked}: ") for line in result.stdout.splitlines()]


async def test_every_page_is_reached_with_the_keyboard(policy_file: Path) -> None:
    app = PageApp(lambda: PolicyScreen(policy_file))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PolicyScreen))
        tabs = app.screen.query_one(TabbedContent)
        seen = [tabs.active]
        for _ in range(len(PAGES)):
            app.screen.query_one("Tabs").focus()
            await pilot.press("right")
            await until(pilot, lambda seen=seen: tabs.active != seen[-1])
            seen.append(tabs.active)
        assert seen == [page for page, _, _ in PAGES] + ["directory"]
        # on-premises integration shows the directory settings, never a secret
        shown = str(app.screen.query_one("#directory-settings", Static).render())
        assert "ldaps://dc1.contoso.org" in shown and "OU=Staff,DC=contoso,DC=org" in shown
        assert "ldap.bind_password" in shown and "set in the policy file (not shown)" in shown
        assert "Bind-S3cret" not in screen_text(app)


async def test_an_invalid_edit_shows_the_policy_check_error_then_a_valid_one_is_saved(
        policy_file: Path, tmp_path: Path) -> None:
    app = PageApp(lambda: PolicyScreen(policy_file))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PolicyScreen))
        app.screen.query_one(TabbedContent).active = "methods"
        field = app.screen.query_one("#f-sspr-methods_required", Input)
        field.focus()
        await pilot.press("end", "backspace", "3")
        expected = policy_check(POLICY_TEXT.replace("methods_required = 1 ",
                                                    "methods_required = 3 "), tmp_path)
        assert expected[0] == "sspr.methods_required: must be between 1 and 2 (got 3)"
        await until(pilot, lambda: expected[0] in problems(app))
        await pilot.press("ctrl+s")  # refused: nothing is written while a problem is shown
        await pilot.pause()
        assert not isinstance(app.screen, DiffScreen)
        assert policy_file.read_text(encoding="utf-8") == POLICY_TEXT

        await pilot.press("backspace", "2")
        await until(pilot, lambda: "Unsaved changes" in problems(app))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, DiffScreen))
        diff = str(app.screen.query_one("#diff", Static).render())
        assert "-methods_required = 1             # administrators always need 2" in diff
        assert "+methods_required = 2             # administrators always need 2" in diff
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "No unsaved changes" in problems(app))
    saved = policy_file.read_text(encoding="utf-8")
    assert saved == POLICY_TEXT.replace("methods_required = 1 ", "methods_required = 2 ")
    assert saved.startswith("# Contoso's kiosk policy: kept by the helpdesk")


async def test_escape_in_the_diff_keeps_editing_and_writes_nothing(policy_file: Path) -> None:
    app = PageApp(lambda: PolicyScreen(policy_file))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PolicyScreen))
        app.screen.query_one(TabbedContent).active = "registration"
        app.screen.query_one("#f-registration-reconfirm_days", Input).focus()
        await pilot.press("end", "backspace", "backspace", "backspace", "9", "0")
        await until(pilot, lambda: "Unsaved changes" in problems(app))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, DiffScreen))
        assert "+reconfirm_days = 90" in str(app.screen.query_one("#diff", Static).render())
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PolicyScreen))
    assert policy_file.read_text(encoding="utf-8") == POLICY_TEXT


async def test_leaving_administrators_only_email_and_questions_is_warned(
        policy_file: Path) -> None:
    app = PageApp(lambda: PolicyScreen(policy_file))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PolicyScreen))
        app.screen.query_one(TabbedContent).active = "methods"
        for method in ("mobile", "office", "authenticator"):
            box = app.screen.query_one(f"#method-{method}", Checkbox)
            box.focus()
            await pilot.press("space")
            await until(pilot, lambda box=box: not box.value)
        await until(pilot, lambda: "no administrator can reset" in problems(app))


async def test_a_broken_policy_file_is_one_line_and_nothing_to_edit(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[sspr\n", encoding="utf-8")
    app = PageApp(lambda: PolicyScreen(broken))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PolicyScreen))
        assert "not valid TOML" in problems(app)
        assert not app.screen.query(Input)


async def test_explain_a_user(engine: Engine) -> None:
    app = PageApp(lambda: ExplainScreen(EmbeddedData(engine)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ExplainScreen))
        app.screen.query_one("#user", Input).focus()
        await pilot.press(*"frank", "enter")
        shown = lambda: str(app.screen.query_one("#explanation", Static).render())  # noqa: E731
        await until(pilot, lambda: "frank (Frank Fox)" in shown())
        assert "reset:    no: not in scope" in shown()
        app.screen.query_one("#user", Input).value = ""
        await pilot.press(*"carol", "enter")
        await until(pilot, lambda: "carol (Carol Clark): administrator" in shown())
