"""The live rule checklist and the strength meter of the new-password screen."""

from __future__ import annotations

from typing import Any

from textual.markup import escape
from textual.widgets import Static

from kiosk import glyphs
from kiosk.backend import PasswordCheck
from kiosk.i18n import DEFAULT_LANGUAGE, catalogue, has, placeholders, t

MATCH_RULE = "match"  # checked by the UI: both entries are the same


def rule_text(rule: str, params: dict[str, Any], fallback: str = "") -> str:
    """The checklist line of a rule. A rule that is met carries no params (`PasswordCheck` has
    them only for violations), so a text that needs one falls back to its `.generic` form."""
    key = f"rule.{rule}"
    # a directory's refusal names its reason (passwordTooShort, passwordInHistory, ...)
    if isinstance(params.get("reason"), str) and has(f"{key}.{params['reason']}"):
        key = f"{key}.{params['reason']}"
    if not has(key):
        return fallback or rule.replace("_", " ")
    if placeholders(catalogue(DEFAULT_LANGUAGE)[key]) - params.keys() and has(f"{key}.generic"):
        key = f"{key}.generic"
    return t(key, **params)


class RuleChecklist(Static):
    """One line per rule: `✓ At least 12 characters` / `✗ Not a commonly used password`."""

    def __init__(self, base_params: dict[str, Any], **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.base_params = base_params
        self.check: PasswordCheck | None = None
        self.match = False
        self.typed = False

    def on_mount(self) -> None:
        self.refresh_lines()

    def show(self, check: PasswordCheck | None, match: bool, typed: bool) -> None:
        self.check, self.match, self.typed = check, match, typed
        self.refresh_lines()

    def refresh_lines(self) -> None:
        lines: list[str] = []
        check = self.check
        rules = list(check.rules) if check else []
        failed = {v.rule: v for v in check.violations} if check else {}
        # a violated rule the engine did not list still has to show
        rules += [rule for rule in failed if rule not in rules]
        for rule in rules:
            violation = failed.get(rule)
            params = dict(self.base_params)
            if violation is not None:
                params.update(violation.params)
            text = rule_text(rule, params, violation.message if violation else "")
            lines.append(self._line(None if not self.typed else violation is None, text))
        lines.append(self._line(None if not self.typed else self.match, t("rule.match")))
        self.update("\n".join(lines))

    @staticmethod
    def _line(ok: bool | None, text: str) -> str:
        """✓ met, ✗ not met, · nothing typed yet (the symbols carry it without colour)."""
        if ok is None:
            return f"[$text-muted]·[/] {escape(text)}"
        if ok:
            return f"[$success]{glyphs.ok()}[/] {escape(text)}"
        return f"[$error]{glyphs.no()}[/] {escape(text)}"


class StrengthMeter(Static):
    """`Strength: ■■■□□ good` from the zxcvbn score (0-4)."""

    LABELS = ("strength.0", "strength.1", "strength.2", "strength.3", "strength.4")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.score: int | None = None

    def on_mount(self) -> None:
        self.set_score(None)

    def set_score(self, score: int | None) -> None:
        self.score = score
        if score is None:
            bar, label = glyphs.bar(0, 5), t("strength.none")
        else:
            score = max(0, min(4, score))
            bar, label = glyphs.bar(score + 1, 4 - score), t(self.LABELS[score])
        colour = "$error" if score is None or score < 2 else "$warning" if score < 3 else "$success"
        self.update(f"{escape(t('strength.label'))} [{colour}]{bar}[/] {escape(label)}")
