"""Every message the kiosk sends: verification codes, notifications to users, alerts to admins.

Plain functions returning a `Message`. Every sentence is a "msg.*" key of the kiosk's one
catalogue (kiosk/locale/<lang>.messages.json, read by kiosk.i18n, the screens' translator too),
rendered in the language the caller names: the flow's, or the recipient's preferred one. Values
are inserted after translation; in HTML each value is escaped with `html.escape` first.

Notifications and alerts never take a code or a password as an argument, so they cannot carry one.
Each says what happened, when, at which terminal, and whom to contact if it was not expected.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Literal, Required, TypedDict, Unpack

from kiosk.backend import METHOD_KINDS, Channel
from kiosk.engine.config import Organization
from kiosk.engine.delivery_base import Message
from kiosk.i18n import DEFAULT_LANGUAGE, Translator, resolve, translator

Change = Literal["added", "updated", "removed"]

# what a code is for (catalogue keys "msg.purpose.<key>"): a flow's Purpose value, or one of
# the narrower ones; stages pass these keys, never English text
PURPOSES: tuple[str, ...] = ("reset", "unlock", "change", "register", "confirm", "verify")

def default_language(org: Organization) -> str:
    """The organisation's language for messages nobody chose one for: English when offered."""
    return DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in org.languages else org.languages[0]


def message_language(org: Organization, language: str | None) -> str:
    """The language a message is written in: `language` ("de", "de-AT") when the organisation
    offers it, else the organisation's default."""
    return resolve(language or "", org.languages, default_language(org))


def spaced_code(code: str) -> str:
    """'12345678' -> '1234 5678': groups of 3-4, shorter ones first ('123 4567', '123 123 1234')."""
    code = "".join(code.split())
    if len(code) <= 4:
        return code
    count = -(-len(code) // 4)
    size, extra = divmod(len(code), count)
    groups, start = [], 0
    for index in range(count):
        length = size + (1 if index >= count - extra else 0)
        groups.append(code[start : start + length])
        start += length
    return " ".join(groups)


def spoken_code(code: str) -> str:
    """'12345678' -> '1, 2, 3, 4. 5, 6, 7, 8': read digit by digit, a pause per group."""
    return ". ".join(", ".join(group) for group in spaced_code(code).split(" "))


def helpdesk_contact(org: Organization) -> str:
    """The organisation's helpdesk text with whatever contact details it has."""
    details = [d for d in (org.helpdesk_phone, org.helpdesk_email, org.helpdesk_url) if d]
    if not details:
        return org.helpdesk
    # "Contact the IT helpdesk." + details -> "Contact the IT helpdesk (+49 30 1234, ...)"
    return f"{org.helpdesk.rstrip('. ')} ({', '.join(details)})"


def format_when(when: datetime) -> str:
    """'2026-01-05 09:00 UTC'; a naive time is taken as UTC (the engine's clock is UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return f"{when:%Y-%m-%d %H:%M} {when.tzname() or 'UTC'}"


def _org_and_helpdesk(org: str | Organization, helpdesk: str) -> tuple[str, str]:
    if isinstance(org, Organization):
        return org.name, helpdesk or helpdesk_contact(org)
    return org, helpdesk


def _one_line(text: str) -> str:
    # subjects become mail headers and SMS labels: no line breaks from an interpolated value
    return " ".join(text.split())


def _purpose(_: Translator, purpose: str) -> str:
    # a wrong purpose is a programming error: fail where the message is made
    if purpose not in PURPOSES:
        raise ValueError(f"code_message purpose must be one of {PURPOSES}, not {purpose!r}")
    return _(f"msg.purpose.{purpose}")


def _minutes(_: Translator, minutes: int) -> str:
    return _("msg.minutes.one" if minutes == 1 else "msg.minutes.other", n=minutes)


_HTML_HEAD = (
    '<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
    "</head>\n"
    '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;'
    'color:#1a1a1a;max-width:40em">\n'
)
_HTML_FOOT = '<p style="color:#666;font-size:12px">{footer}</p>\n</body></html>\n'
_CODE_STYLE = (
    "font-family:Consolas,Menlo,monospace;font-size:28px;font-weight:bold;letter-spacing:3px"
)


def _html_page(_: Translator, title: str, paragraphs: Iterable[str], footer: str) -> str:
    """Paragraphs are already-escaped HTML fragments."""
    head = _HTML_HEAD.format(lang=_.language, title=html.escape(title))
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return head + body + _HTML_FOOT.format(footer=footer)


def code_message(
    channel: Channel,
    recipient: str,
    code: str,
    org: str | Organization,
    purpose: str,
    minutes_valid: int,
    language: str = DEFAULT_LANGUAGE,
    *,
    helpdesk: str = "",
) -> Message:
    """A verification code: spaced groups in email and text, digit by digit for a call.

    `purpose` is one of PURPOSES (a key, translated here). `org` may be the policy's
    Organization: its name and its helpdesk contact (with phone, email and URL) are used
    unless `helpdesk` is given.
    """
    _ = translator(language)
    org_name, helpdesk = _org_and_helpdesk(org, helpdesk)
    purpose = _purpose(_, str(getattr(purpose, "value", purpose)))
    minutes = _minutes(_, minutes_valid)
    spaced = spaced_code(code)
    subject = _one_line(_("msg.code.subject", org=org_name, purpose=purpose))
    if channel == "text":
        body = _("msg.code.text", org=org_name, purpose=purpose, code=spaced, minutes=minutes)
        return Message(Channel.TEXT, recipient, subject, body)
    if channel == "call":
        digits = spoken_code(code)
        parts = [
            _("msg.call.hello", org=org_name),
            _("msg.code.call", purpose=purpose, digits=digits, minutes=minutes),
            _("msg.call.bye"),
        ]
        return Message(Channel.CALL, recipient, subject, " ".join(parts))

    not_you_key = "msg.code.not_you" if helpdesk else "msg.code.not_you_default"
    lines = [
        _("msg.greeting"),
        _("msg.code.intro", org=org_name, purpose=purpose),
        f"    {spaced}",
        _("msg.code.valid", minutes=minutes) + " " + _("msg.code.never_share"),
        _(not_you_key, helpdesk=helpdesk),
        "-- \n" + _("msg.footer", org=org_name),
    ]
    paragraphs = [
        _.html("msg.greeting"),
        _.html("msg.code.intro", org=org_name, purpose=purpose),
        f'<span style="{_CODE_STYLE}">{html.escape(spaced)}</span>',
        _.html("msg.code.valid", minutes=minutes) + " " + _.html("msg.code.never_share"),
        _.html(not_you_key, helpdesk=helpdesk),
    ]
    page = _html_page(_, subject, paragraphs, _.html("msg.footer", org=org_name))
    return Message(Channel.EMAIL, recipient, subject, "\n\n".join(lines) + "\n", html=page)


Said = tuple[str, dict[str, object]]  # a catalogue key and its values


class NoticeContext(TypedDict, total=False):
    """The keywords every notice and alert builder takes besides `org`."""

    when: Required[datetime]
    terminal: Required[str]
    helpdesk: str  # default: the Organization's contact, or a generic "your IT helpdesk"
    language: str  # a catalogue language; default English


def _notice(
    kind: Literal["notice", "alert"],
    channel: Channel,
    recipient: str,
    org: str | Organization,
    subject: Said,
    what: list[Said],
    context: NoticeContext,
) -> Message:
    """The shared shape: what happened, when, where, whom to contact. Every text gets `org`."""
    when, terminal = context["when"], context["terminal"]
    _ = translator(context.get("language") or DEFAULT_LANGUAGE)
    org, helpdesk = _org_and_helpdesk(org, context.get("helpdesk") or "")
    title = _one_line(_(subject[0], org=org, **subject[1]))
    purpose = "notification" if kind == "notice" else "alert"
    contact_key = "msg.notice.not_you" if kind == "notice" else "msg.alert.contact"
    contact_key = contact_key if helpdesk else f"{contact_key}_default"
    stamp = format_when(when)
    if channel in ("text", "call"):
        parts = [_(key, org=org, **values) for key, values in what]
        parts.append(_("msg.short.when", when=stamp, terminal=terminal))
        parts.append(_(contact_key, helpdesk=helpdesk))
        if channel == "call":
            parts = [_("msg.call.hello", org=org), *parts, _("msg.call.bye")]
        else:
            parts.insert(0, f"{org}:")
        return Message(channel, recipient, title, " ".join(parts), purpose=purpose)

    when_line = f"{_('msg.label.when')}: {stamp}\n{_('msg.label.terminal')}: {terminal}"
    lines = [
        _("msg.greeting"),
        " ".join(_(key, org=org, **values) for key, values in what),
        when_line,
        _(contact_key, helpdesk=helpdesk),
        "-- \n" + _("msg.footer", org=org),
    ]
    when_html = (
        f"<strong>{_.html('msg.label.when')}:</strong> {html.escape(stamp)}<br>\n"
        f"<strong>{_.html('msg.label.terminal')}:</strong> {html.escape(terminal)}"
    )
    paragraphs = [
        _.html("msg.greeting"),
        " ".join(_.html(key, org=org, **values) for key, values in what),
        when_html,
        _.html(contact_key, helpdesk=helpdesk),
    ]
    page = _html_page(_, title, paragraphs, _.html("msg.footer", org=org))
    body = "\n\n".join(lines) + "\n"
    return Message(Channel.EMAIL, recipient, title, body, html=page, purpose=purpose)


# Every builder below takes `org` (a name or the policy's Organization: its helpdesk contact is
# used unless `helpdesk` is given) and the NoticeContext keywords. None takes a code or a
# password.


# what happened to an account: a reset, an unlock, the helpdesk's temporary access pass
Event = Literal["reset", "unlock", "pass_issued", "pass_revoked", "pass_used", "pass_expired"]


def account_notice(event: Event, channel: Channel, recipient: str, *,
                   username: str, org: str | Organization,
                   **context: Unpack[NoticeContext]) -> Message:
    """To the user's registered contacts: what happened to the account (catalogue keys
    `msg.<event>.subject` / `msg.<event>.what`)."""
    return _notice("notice", channel, recipient, org, (f"msg.{event}.subject", {}),
                   [(f"msg.{event}.what", {"username": username})], context)


# to the user's registered contacts after their password was reset / their account unlocked
AccountNotice = Callable[..., Message]
password_reset_notice: AccountNotice = partial(account_notice, "reset")
account_unlocked_notice: AccountNotice = partial(account_notice, "unlock")


def method_changed_notice(channel: Channel, recipient: str, kind: str, *, username: str,
                          org: str | Organization, change: Change = "updated",
                          **context: Unpack[NoticeContext]) -> Message:
    """To the user's other contacts when a method (`kind`: a MethodKind value) changed."""
    _ = translator(context.get("language") or DEFAULT_LANGUAGE)
    kind = str(getattr(kind, "value", kind))  # a MethodKind member or its value
    values: dict[str, object] = {
        "username": username,
        "method": _(f"msg.method.{kind}") if kind in METHOD_KINDS else kind,
        "change": _(f"msg.change.{change}"),
    }
    return _notice("notice", channel, recipient, org, ("msg.method.subject", {}),
                   [("msg.method.what", values)], context)


def admin_reset_alert(channel: Channel, recipient: str, admin_username: str, *,
                      org: str | Organization, **context: Unpack[NoticeContext]) -> Message:
    """To every other admin when an administrator reset their password."""
    admin: dict[str, object] = {"admin": admin_username}
    return _notice("alert", channel, recipient, org, ("msg.admin_reset.subject", admin),
                   [("msg.admin_reset.what", admin), ("msg.admin_reset.why", {})], context)


# a name in an alert keeps none of: control, format (bidi overrides and isolates, zero-width),
# surrogate, private-use or unassigned characters, line or paragraph separators; and is cut
ALERT_NAME_MAX = 64
_NOT_SHOWN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def alert_name(username: str) -> str:
    """A name as an alert may show it: printing characters only, on one line, cut to
    ALERT_NAME_MAX characters (the last one then '…')."""
    kept = "".join(ch for ch in username if unicodedata.category(ch) not in _NOT_SHOWN)
    name = " ".join(kept.split())
    if len(name) > ALERT_NAME_MAX:
        name = name[: ALERT_NAME_MAX - 1] + "…"
    return name


def misuse_alert(channel: Channel, recipient: str, username: str, support_code: str, *,
                 known: bool, org: str | Organization, until: datetime | None = None,
                 **context: Unpack[NoticeContext]) -> Message:
    """To admins when a user was blocked (the engine sends at most one per block).

    A name typed at the kiosk is the visitor's text, not the organisation's: an account that
    does not exist (`known=False`) is never named ("an unknown name (shown in the audit
    log)"), and a known one is shown cleaned and cut (`alert_name`)."""
    name = alert_name(username) if known else ""
    subject: Said = ("msg.misuse.subject", {"username": name})
    what: list[Said] = [("msg.misuse.what", {"username": name})]
    if not name:
        subject, what = ("msg.misuse.subject_unknown", {}), [("msg.misuse.what_unknown", {})]
    if until is not None:
        what.append(("msg.misuse.until", {"until": format_when(until)}))
    what.append(("msg.misuse.support", {"support_code": support_code}))
    return _notice("alert", channel, recipient, org, subject, what, context)


def operator_exit_alert(channel: Channel, recipient: str, *, failures: int,
                        org: str | Organization, **context: Unpack[NoticeContext]) -> Message:
    """To admins when a terminal's operator exit saw many wrong passphrases (rate-limited by
    the engine: kiosk.engine.operator)."""
    terminal = context["terminal"]
    subject: Said = ("msg.operator.subject", {"terminal": terminal})
    return _notice("alert", channel, recipient, org, subject,
                   [("msg.operator.what", {"terminal": terminal, "failures": failures})], context)
