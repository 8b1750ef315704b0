"""The policy pages: the policy file as an administrator walks it (properties, authentication
methods, registration, notifications, customization, on-premises integration). Every edit is
checked at once with the problems `kiosk admin policy check` reports; ctrl+s shows the diff
and saves the file with its comments kept (kiosk.engine.policy_file). Running kiosks take the
saved file at their next visit (kiosk.engine.reload).

    PolicyScreen(Path("kiosk.toml"))   # push it from any App
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from kiosk.engine.config import ALL_METHODS, Policy
from kiosk.engine.policy_file import PolicyFile, PolicyFileError
from kiosk.glyphs import no, ok, warn
from kiosk.i18n import t

STYLES = Path(__file__).with_name("policy.tcss")

# the pages: (id, title key, [(dotted key, kind)]); kind: int, text, list, bool, choice:a|b
PAGES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("properties", "console.policy.page.properties", [
        ("sspr.enabled", "choice:none|selected|all"), ("sspr.groups", "list")]),
    ("methods", "console.policy.page.methods", [
        ("sspr.methods_required", "int"), ("sspr.methods", "methods"),
        ("questions.to_register", "int"), ("questions.to_reset", "int"),
        ("questions.custom_allowed", "bool"), ("authenticator.required_if_registered", "bool")]),
    ("registration", "console.policy.page.registration", [
        ("registration.require", "bool"), ("registration.reconfirm_days", "int")]),
    ("notifications", "console.policy.page.notifications", [
        ("notifications.user_on_reset", "bool"), ("notifications.user_on_unlock", "bool"),
        ("notifications.user_on_method_change", "bool"),
        ("notifications.admins_on_admin_reset", "bool"),
        ("notifications.admins_on_block", "bool")]),
    ("customization", "console.policy.page.customization", [
        ("organization.name", "text"), ("organization.helpdesk", "text"),
        ("organization.helpdesk_url", "text"), ("organization.helpdesk_phone", "text"),
        ("organization.helpdesk_email", "text"),
        ("organization.theme", "choice:default|high-contrast|ansi")]),
]

# on-premises integration: shown, not edited here; secrets only as set / from a file
DIRECTORY_KEYS = ("directory.kind", "directory.domains", "directory.netbios", "ldap.flavour",
                  "ldap.urls", "ldap.starttls", "ldap.ca_file", "ldap.bind_dn", "ldap.user_base",
                  "ldap.user_filter", "ldap.username_attribute", "ldap.group_base",
                  "ldap.admin_group", "ldap.use_directory_contacts")
SECRET_KEYS = (("ldap.bind_password", "ldap.bind_password_file"),)


class Page(VerticalScroll, can_focus=False):
    """A page's fields: Tab goes from the tabs straight to the first field."""


def _default(policy: Policy, key: str) -> Any:
    node: Any = policy
    for part in key.split("."):
        node = getattr(node, part)
    return node


def _field_id(key: str) -> str:
    return "f-" + key.replace(".", "-")


class DiffScreen(ModalScreen[bool]):
    """The change as a unified diff; Enter or ctrl+s saves, Esc goes back to editing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", t("console.policy.back")),
        Binding("ctrl+s", "dismiss(True)", t("console.policy.save"), priority=True),
    ]

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        diff = Text()
        for line in self.lines:
            style = ("bold" if line.startswith(("---", "+++", "@@")) else
                     "green" if line.startswith("+") else
                     "red" if line.startswith("-") else "")
            diff.append(line + "\n", style=style)
        with Vertical(id="diff-box"):
            yield Label(t("console.policy.diff_title"), id="diff-title")
            with VerticalScroll():
                yield Static(diff, id="diff")
            with Horizontal(id="diff-buttons"):
                yield Button(t("console.policy.save_button"), id="save", variant="primary")
                yield Button(t("console.policy.back_button"), id="back")

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss(False)


class PolicyScreen(Screen[None]):
    """The policy file `path`, page by page."""

    CSS_PATH = STYLES
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "review", t("console.policy.review"), priority=True),
        Binding("escape", "app.pop_screen", t("console.policy.back")),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.defaults = Policy()
        try:
            self.file = PolicyFile(path)
        except PolicyFileError as exc:  # unreadable or not TOML: say so, edit nothing
            self.broken = str(exc)
        else:
            self.broken = ""

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        if self.broken:
            yield Label(self.broken, id="problems", classes="invalid")
            yield Footer()
            return
        yield Label(t("console.policy.title", path=str(self.file.path)), id="policy-title")
        with TabbedContent(id="pages"):
            for page_id, title, fields in PAGES:
                with TabPane(t(title), id=page_id), Page():
                    for key, kind in fields:
                        yield from self._field(key, kind)
            with TabPane(t("console.policy.page.directory"), id="directory"), Page():
                yield Static(self._directory_text(), id="directory-settings")
        yield Static(id="problems")
        yield Footer()

    def _field(self, key: str, kind: str) -> ComposeResult:
        value = self.file.get(key, _default(self.defaults, key))
        label = t(f"console.policy.key.{key}")
        yield Label(f"{label}  [dim]({key})[/]", classes="field-label")
        if kind == "bool":
            yield Checkbox(t("console.policy.on"), bool(value), name=key, id=_field_id(key),
                           classes="bool")
        elif kind == "methods":
            with Horizontal(classes="methods"):
                for method in ALL_METHODS:
                    yield Checkbox(t(f"kind.{method}"), method in value, name=key,
                                   id=f"method-{method}")
        elif kind.startswith("choice:"):
            options = kind.removeprefix("choice:").split("|")
            yield Select([(o, o) for o in options], value=value, allow_blank=False, name=key,
                         id=_field_id(key))
        else:
            text = ", ".join(value) if kind == "list" else str(value)
            yield Input(text, name=key, id=_field_id(key),
                        type="integer" if kind == "int" else "text", classes=kind)

    def _directory_text(self) -> Text:
        out = Text()
        for key in DIRECTORY_KEYS:
            value = self.file.get(key, _default(self.defaults, key))
            out.append(f"{key:<30}", style="bold")
            if isinstance(value, list):
                value = ", ".join(map(str, value))
            out.append(f"{value if value not in ('', None) else '-'}\n")
        for secret, file_key in SECRET_KEYS:
            out.append(f"{secret:<30}", style="bold")
            if self.file.get(file_key):
                out.append(t("console.policy.secret_file", path=self.file.get(file_key)) + "\n")
            elif self.file.get(secret):
                out.append(t("console.policy.secret_set") + "\n")
            else:
                out.append(t("console.policy.secret_unset") + "\n")
        out.append("\n" + t("console.policy.directory_note"), style="italic")
        return out

    def on_mount(self) -> None:
        if not self.broken:
            self._show_check()

    # ------------------------------------------------------------ edits
    @on(Input.Changed)
    def _input(self, event: Input.Changed) -> None:
        key = event.input.name or ""
        raw = event.value.strip()
        if "list" in event.input.classes:
            value: Any = [part.strip() for part in raw.split(",") if part.strip()]
        elif event.input.type == "integer":
            value = int(raw) if raw.lstrip("-").isdigit() else raw
        else:
            value = event.value
        self._edit(key, value)

    @on(Checkbox.Changed)
    def _checkbox(self, event: Checkbox.Changed) -> None:
        key = event.checkbox.name or ""
        if key == "sspr.methods":
            value: Any = [m for m in ALL_METHODS if self.query_one(f"#method-{m}", Checkbox).value]
        else:
            value = event.value
        self._edit(key, value)

    @on(Select.Changed)
    def _select(self, event: Select.Changed) -> None:
        self._edit(event.select.name or "", event.value)

    def _edit(self, key: str, value: Any) -> None:
        if key and self.file.get(key, _default(self.defaults, key)) != value:
            self.file.set(key, value)
        self._show_check()

    def _show_check(self) -> None:
        _, problems = self.file.check()
        out = Text()
        for problem in problems:
            out.append(f"{no()} {problem}\n", style="bold red")
        for warning in self.file.warnings():
            out.append(f"{warn()} {warning}\n", style="bold yellow")
        if not problems:
            key = "console.policy.changed" if self.file.changed else "console.policy.unchanged"
            out.append(f"{ok()} " + t(key), style="green")
        panel = self.query_one("#problems", Static)
        panel.update(out)
        panel.set_class(bool(problems), "invalid")

    # ------------------------------------------------------------ saving
    def action_review(self) -> None:
        if self.broken:
            return
        _, problems = self.file.check()
        if problems:
            self.notify(problems[0], title=t("console.policy.not_saved"), severity="error")
            return
        if not self.file.changed:
            self.notify(t("console.policy.nothing_to_save"))
            return
        self.app.push_screen(DiffScreen(self.file.diff()), self._saved)

    def _saved(self, save: bool | None) -> None:
        if not save:
            return
        try:
            self.file.save()
        except PolicyFileError as exc:
            self.notify(str(exc), title=t("console.policy.not_saved"), severity="error")
            return
        self._show_check()
        self.notify(t("console.policy.saved", path=str(self.file.path)))
