"""Feedback wording shared by several screens: an error's text, tries left before a block, a
block's end."""

from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.backend import KioskError
from kiosk.i18n import t, t_or


def error_text(err: KioskError) -> str:
    """An error said on the current screen, translated by its code (with tries left)."""
    params = {k: v for k, v in err.params.items() if isinstance(v, str | int | float)}
    return with_tries_left(t_or(f"error.{err.code}", t("error.generic"), **params), err)


def with_tries_left(text: str, err: KioskError) -> str:
    """A wrong proof's message, with how many tries are left before a block (when the
    engine says so: it counts alike for every account, real or decoy)."""
    left = err.params.get("remaining")
    if not isinstance(left, int) or isinstance(left, bool) or left <= 0:
        return text
    return f"{text} {t('error.tries_left.one' if left == 1 else 'error.tries_left', n=left)}"


def block_until(err: KioskError | None, now: datetime) -> str:
    """"until 14:05" (today) / "until 14:05 tomorrow" / "until 14:05 on 2025-03-12", in the
    terminal's local time zone; empty when the error names no end."""
    raw = err.params.get("until") if err is not None else None
    if not isinstance(raw, str):
        return ""
    try:
        until = datetime.fromisoformat(raw)
    except ValueError:
        return ""
    if until.tzinfo is None:
        return ""
    local = until.astimezone()
    today = now.astimezone(local.tzinfo).date() if now.tzinfo else local.date()
    time = local.strftime("%H:%M")
    if local.date() == today:
        return t("problem.blocked.until.today", time=time)
    if local.date() == today + timedelta(days=1):
        return t("problem.blocked.until.tomorrow", time=time)
    return t("problem.blocked.until.date", time=time, date=local.date().isoformat())
