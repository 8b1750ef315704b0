"""Every message the kiosk sends: verification codes, notifications to users, alerts to admins.

Plain functions returning a `Message`. Every sentence comes from `CATALOGUE` through a
translator (`_ = translate(language)`), so a language is added by adding one dict. Values are
inserted after translation; in HTML each value is escaped with `html.escape` first.

Notifications and alerts never take a code or a password as an argument, so they cannot carry one.
Each says what happened, when, at which terminal, and whom to contact if it was not expected.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from kiosk.backend import METHOD_KINDS, Channel
from kiosk.engine.config import Organization
from kiosk.engine.delivery_base import Message

Change = Literal["added", "updated", "removed"]

# Known `purpose_label` values for code_message (a key, or its English label such as
# "password reset"); anything else is used as given (already translated by the caller).
PURPOSE_LABELS: tuple[str, ...] = ("reset", "unlock", "change", "register", "confirm", "verify")

CATALOGUE: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello,",
        "footer": (
            "This is an automatic message from the {org} password self-service. "
            "Please do not reply."
        ),
        "minutes.one": "{n} minute",
        "minutes.other": "{n} minutes",
        "label.when": "When",
        "label.terminal": "Terminal",
        "short.when": "When: {when}, terminal: {terminal}.",
        "call.hello": "Hello, this is {org}.",
        "call.bye": "Goodbye.",
        "purpose.reset": "password reset",
        "purpose.unlock": "account unlock",
        "purpose.change": "password change",
        "purpose.register": "security info registration",
        "purpose.confirm": "confirmation",
        "purpose.verify": "verification",
        "code.subject": "{org}: your {purpose} code",
        "code.intro": "Your {purpose} code for {org} is:",
        "code.valid": "It is valid for {minutes} and works only once.",
        "code.never_share": (
            "Enter it only at the kiosk. Never tell it to anyone: "
            "the helpdesk will never ask for it."
        ),
        "code.not_you": (
            "If you did not ask for this code, ignore this message and tell the helpdesk: "
            "{helpdesk}"
        ),
        "code.not_you_default": (
            "If you did not ask for this code, ignore this message and tell your IT helpdesk."
        ),
        "code.text": ("{org}: your {purpose} code is {code}. Valid for {minutes}. Never share it."),
        "code.call": (
            "Your {purpose} code is: {digits}. I repeat: {digits}. The code is valid for {minutes}."
        ),
        "notice.not_you": "If this was not you, contact the helpdesk right away: {helpdesk}",
        "notice.not_you_default": "If this was not you, contact your IT helpdesk right away.",
        "alert.contact": "If this is unexpected, contact the helpdesk: {helpdesk}",
        "alert.contact_default": "If this is unexpected, contact your IT helpdesk.",
        "reset.subject": "{org}: your password was reset",
        "reset.what": "The password of your {org} account {username} was reset.",
        "unlock.subject": "{org}: your account was unlocked",
        "unlock.what": "Your {org} account {username} was unlocked.",
        "method.subject": "{org}: your security info was changed",
        "method.what": (
            "A verification method of your {org} account {username} was {change}: {method}."
        ),
        "change.added": "added",
        "change.updated": "changed",
        "change.removed": "removed",
        "method.email": "alternate email",
        "method.mobile": "mobile phone",
        "method.office": "office phone",
        "method.questions": "security questions",
        "method.authenticator": "authenticator app",
        "admin_reset.subject": "{org}: password of administrator {admin} was reset",
        "admin_reset.what": (
            "The password of the administrator account {admin} was reset through the "
            "password self-service."
        ),
        "admin_reset.why": "You receive this message because you are an administrator too.",
        "misuse.subject": "{org}: {username} blocked from password self-service",
        "misuse.what": (
            "The account {username} was blocked from password self-service after too many "
            "failed or repeated attempts."
        ),
        "misuse.subject_unknown": "{org}: an unknown name blocked from password self-service",
        "misuse.what_unknown": (
            "An unknown name (shown in the audit log) was blocked from password self-service "
            "after too many failed or repeated attempts."
        ),
        "misuse.until": "The block ends: {until}.",
        "misuse.support": (
            "Support code: {support_code} (the person at the kiosk sees the same code)."
        ),
        "operator.subject": "{org}: wrong operator passphrases at {terminal}",
        "operator.what": (
            "The operator exit of the kiosk terminal {terminal} was tried with a wrong "
            "passphrase {failures} times. Every attempt is in the audit log."
        ),
    },
    "de": {
        "greeting": "Guten Tag,",
        "footer": (
            "Dies ist eine automatische Nachricht der Passwort-Selbstbedienung von {org}. "
            "Bitte antworten Sie nicht darauf."
        ),
        "minutes.one": "{n} Minute",
        "minutes.other": "{n} Minuten",
        "label.when": "Zeitpunkt",
        "label.terminal": "Terminal",
        "short.when": "Zeitpunkt: {when}, Terminal: {terminal}.",
        "call.hello": "Guten Tag, hier ist {org}.",
        "call.bye": "Auf Wiederhören.",
        "purpose.reset": "die Passwortzurücksetzung",
        "purpose.unlock": "die Kontoentsperrung",
        "purpose.change": "die Passwortänderung",
        "purpose.register": "die Registrierung der Sicherheitsinformationen",
        "purpose.confirm": "die Bestätigung",
        "purpose.verify": "die Überprüfung",
        "code.subject": "{org}: Ihr Code für {purpose}",
        "code.intro": "Ihr Code für {purpose} bei {org} lautet:",
        "code.valid": "Er ist {minutes} gültig und funktioniert nur einmal.",
        "code.never_share": (
            "Geben Sie ihn nur am Kiosk ein. Nennen Sie ihn niemandem: "
            "Der Helpdesk wird Sie nie danach fragen."
        ),
        "code.not_you": (
            "Falls Sie diesen Code nicht angefordert haben, ignorieren Sie diese Nachricht "
            "und informieren Sie den Helpdesk: {helpdesk}"
        ),
        "code.not_you_default": (
            "Falls Sie diesen Code nicht angefordert haben, ignorieren Sie diese Nachricht "
            "und informieren Sie Ihren IT-Helpdesk."
        ),
        "code.text": (
            "{org}: Ihr Code für {purpose} lautet {code}. {minutes} gültig. "
            "Geben Sie ihn niemandem weiter."
        ),
        "code.call": (
            "Ihr Code für {purpose} lautet: {digits}. Ich wiederhole: {digits}. "
            "Der Code ist {minutes} gültig."
        ),
        "notice.not_you": (
            "Falls Sie das nicht waren, wenden Sie sich sofort an den Helpdesk: {helpdesk}"
        ),
        "notice.not_you_default": (
            "Falls Sie das nicht waren, wenden Sie sich sofort an Ihren IT-Helpdesk."
        ),
        "alert.contact": "Falls das unerwartet ist, wenden Sie sich an den Helpdesk: {helpdesk}",
        "alert.contact_default": "Falls das unerwartet ist, wenden Sie sich an Ihren IT-Helpdesk.",
        "reset.subject": "{org}: Ihr Passwort wurde zurückgesetzt",
        "reset.what": "Das Passwort Ihres Kontos {username} bei {org} wurde zurückgesetzt.",
        "unlock.subject": "{org}: Ihr Konto wurde entsperrt",
        "unlock.what": "Ihr Konto {username} bei {org} wurde entsperrt.",
        "method.subject": "{org}: Ihre Sicherheitsinformationen wurden geändert",
        "method.what": (
            "Für Ihr Konto {username} bei {org} wurde eine Überprüfungsmethode {change}: {method}."
        ),
        "change.added": "hinzugefügt",
        "change.updated": "geändert",
        "change.removed": "entfernt",
        "method.email": "alternative E-Mail-Adresse",
        "method.mobile": "Mobiltelefon",
        "method.office": "Bürotelefon",
        "method.questions": "Sicherheitsfragen",
        "method.authenticator": "Authenticator-App",
        "admin_reset.subject": "{org}: Passwort des Administrators {admin} zurückgesetzt",
        "admin_reset.what": (
            "Das Passwort des Administratorkontos {admin} wurde über die "
            "Passwort-Selbstbedienung zurückgesetzt."
        ),
        "admin_reset.why": "Sie erhalten diese Nachricht, weil Sie ebenfalls Administrator sind.",
        "misuse.subject": "{org}: {username} für die Passwort-Selbstbedienung gesperrt",
        "misuse.what": (
            "Das Konto {username} wurde nach zu vielen fehlgeschlagenen oder wiederholten "
            "Versuchen für die Passwort-Selbstbedienung gesperrt."
        ),
        "misuse.subject_unknown": (
            "{org}: ein unbekannter Name für die Passwort-Selbstbedienung gesperrt"
        ),
        "misuse.what_unknown": (
            "Ein unbekannter Name (siehe Audit-Protokoll) wurde nach zu vielen fehlgeschlagenen "
            "oder wiederholten Versuchen für die Passwort-Selbstbedienung gesperrt."
        ),
        "misuse.until": "Die Sperre endet: {until}.",
        "misuse.support": (
            "Support-Code: {support_code} (die Person am Kiosk sieht denselben Code)."
        ),
        "operator.subject": "{org}: falsche Betreiber-Passphrasen an {terminal}",
        "operator.what": (
            "Der Betreiber-Ausgang des Kiosk-Terminals {terminal} wurde {failures}-mal mit "
            "einer falschen Passphrase versucht. Jeder Versuch steht im Audit-Protokoll."
        ),
    },
}
LANGUAGES: tuple[str, ...] = tuple(CATALOGUE)


class Translator:
    """`_("key", name=value)`: the sentence in one language, values inserted after translation."""

    def __init__(self, language: str) -> None:
        # "de-AT" and "de_DE" use "de"; an unknown language falls back to English
        base = language.replace("_", "-").split("-")[0].lower()
        self.language = base if base in CATALOGUE else "en"
        self._texts = CATALOGUE[self.language]

    def template(self, key: str) -> str:
        # a key missing in a translation falls back to English; missing in English is a bug
        return self._texts.get(key) or CATALOGUE["en"][key]

    def __call__(self, key: str, /, **values: object) -> str:
        return self.template(key).format(**values)

    def html(self, key: str, /, **values: object) -> str:
        """The same sentence for HTML: the text and every value escaped."""
        safe = {name: html.escape(str(value)) for name, value in values.items()}
        return html.escape(self.template(key)).format(**safe)


def translate(language: str) -> Translator:
    return Translator(language)


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


def _purpose(_: Translator, label: str) -> str:
    # the English label is accepted too, so a caller holding English text still gets German
    english = {CATALOGUE["en"][f"purpose.{key}"]: key for key in PURPOSE_LABELS}
    key = label if label in PURPOSE_LABELS else english.get(label)
    return _(f"purpose.{key}") if key else label


def _minutes(_: Translator, minutes: int) -> str:
    return _("minutes.one" if minutes == 1 else "minutes.other", n=minutes)


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
    purpose_label: str,
    minutes_valid: int,
    language: str = "en",
    *,
    helpdesk: str = "",
) -> Message:
    """A verification code: spaced groups in email and text, digit by digit for a call.

    `purpose_label` is one of PURPOSE_LABELS or its English label (both translated here), or
    text used as given. `org` may be the policy's Organization: its name and its helpdesk
    contact (with phone, email and URL) are used unless `helpdesk` is given.
    """
    _ = translate(language)
    org_name, helpdesk = _org_and_helpdesk(org, helpdesk)
    purpose = _purpose(_, str(purpose_label))
    minutes = _minutes(_, minutes_valid)
    spaced = spaced_code(code)
    subject = _one_line(_("code.subject", org=org_name, purpose=purpose))
    if channel == "text":
        body = _("code.text", org=org_name, purpose=purpose, code=spaced, minutes=minutes)
        return Message("text", recipient, subject, body)
    if channel == "call":
        digits = spoken_code(code)
        parts = [
            _("call.hello", org=org_name),
            _("code.call", purpose=purpose, digits=digits, minutes=minutes),
            _("call.bye"),
        ]
        return Message("call", recipient, subject, " ".join(parts))

    not_you_key = "code.not_you" if helpdesk else "code.not_you_default"
    lines = [
        _("greeting"),
        _("code.intro", org=org_name, purpose=purpose),
        f"    {spaced}",
        _("code.valid", minutes=minutes) + " " + _("code.never_share"),
        _(not_you_key, helpdesk=helpdesk),
        "-- \n" + _("footer", org=org_name),
    ]
    paragraphs = [
        _.html("greeting"),
        _.html("code.intro", org=org_name, purpose=purpose),
        f'<span style="{_CODE_STYLE}">{html.escape(spaced)}</span>',
        _.html("code.valid", minutes=minutes) + " " + _.html("code.never_share"),
        _.html(not_you_key, helpdesk=helpdesk),
    ]
    page = _html_page(_, subject, paragraphs, _.html("footer", org=org_name))
    return Message("email", recipient, subject, "\n\n".join(lines) + "\n", html=page)


def _notice(
    _: Translator,
    channel: Channel,
    recipient: str,
    *,
    org: str,
    subject: str,
    what: list[tuple[str, dict[str, object]]],
    when: datetime,
    terminal: str,
    contact_key: str,
    helpdesk: str,
    purpose: str,
) -> Message:
    """The shared shape: what happened, when, where, whom to contact."""
    stamp = format_when(when)
    contact_key = contact_key if helpdesk else f"{contact_key}_default"
    if channel in ("text", "call"):
        parts = [_(key, **values) for key, values in what]
        parts.append(_("short.when", when=stamp, terminal=terminal))
        parts.append(_(contact_key, helpdesk=helpdesk))
        if channel == "call":
            parts = [_("call.hello", org=org), *parts, _("call.bye")]
        else:
            parts.insert(0, f"{org}:")
        return Message(channel, recipient, subject, " ".join(parts), purpose=purpose)

    when_line = f"{_('label.when')}: {stamp}\n{_('label.terminal')}: {terminal}"
    lines = [
        _("greeting"),
        " ".join(_(key, **values) for key, values in what),
        when_line,
        _(contact_key, helpdesk=helpdesk),
        "-- \n" + _("footer", org=org),
    ]
    when_html = (
        f"<strong>{_.html('label.when')}:</strong> {html.escape(stamp)}<br>\n"
        f"<strong>{_.html('label.terminal')}:</strong> {html.escape(terminal)}"
    )
    paragraphs = [
        _.html("greeting"),
        " ".join(_.html(key, **values) for key, values in what),
        when_html,
        _.html(contact_key, helpdesk=helpdesk),
    ]
    page = _html_page(_, subject, paragraphs, _.html("footer", org=org))
    body = "\n\n".join(lines) + "\n"
    return Message("email", recipient, subject, body, html=page, purpose=purpose)


def _account_notice(
    event: Literal["reset", "unlock"],
    channel: Channel,
    recipient: str,
    *,
    username: str,
    org: str | Organization,
    when: datetime,
    terminal: str,
    helpdesk: str,
    language: str,
) -> Message:
    """What happened to the account (catalogue keys `<event>.subject` / `<event>.what`)."""
    _ = translate(language)
    org_name, helpdesk = _org_and_helpdesk(org, helpdesk)
    values: dict[str, object] = {"org": org_name, "username": username}
    return _notice(
        _,
        channel,
        recipient,
        org=org_name,
        subject=_one_line(_(f"{event}.subject", org=org_name)),
        what=[(f"{event}.what", values)],
        when=when,
        terminal=terminal,
        contact_key="notice.not_you",
        helpdesk=helpdesk,
        purpose="notification",
    )


def password_reset_notice(
    channel: Channel,
    recipient: str,
    *,
    username: str,
    org: str | Organization,
    when: datetime,
    terminal: str,
    helpdesk: str = "",
    language: str = "en",
) -> Message:
    """To the user's registered contacts after their password was reset."""
    return _account_notice("reset", channel, recipient, username=username, org=org, when=when,
                           terminal=terminal, helpdesk=helpdesk, language=language)


def account_unlocked_notice(
    channel: Channel,
    recipient: str,
    *,
    username: str,
    org: str | Organization,
    when: datetime,
    terminal: str,
    helpdesk: str = "",
    language: str = "en",
) -> Message:
    """To the user's registered contacts after their account was unlocked."""
    return _account_notice("unlock", channel, recipient, username=username, org=org, when=when,
                           terminal=terminal, helpdesk=helpdesk, language=language)


def method_changed_notice(
    channel: Channel,
    recipient: str,
    kind: str,
    *,
    username: str,
    org: str | Organization,
    when: datetime,
    terminal: str,
    change: Change = "updated",
    helpdesk: str = "",
    language: str = "en",
) -> Message:
    """To the user's other contacts when a method (`kind`: a MethodKind value) changed."""
    _ = translate(language)
    org_name, helpdesk = _org_and_helpdesk(org, helpdesk)
    kind = str(getattr(kind, "value", kind))  # a MethodKind member or its value
    method = _(f"method.{kind}") if kind in METHOD_KINDS else kind
    values: dict[str, object] = {
        "org": org_name,
        "username": username,
        "method": method,
        "change": _(f"change.{change}"),
    }
    return _notice(
        _,
        channel,
        recipient,
        org=org_name,
        subject=_one_line(_("method.subject", org=org_name)),
        what=[("method.what", values)],
        when=when,
        terminal=terminal,
        contact_key="notice.not_you",
        helpdesk=helpdesk,
        purpose="notification",
    )


def admin_reset_alert(
    channel: Channel,
    recipient: str,
    admin_username: str,
    *,
    org: str | Organization,
    when: datetime,
    terminal: str,
    helpdesk: str = "",
    language: str = "en",
) -> Message:
    """To every other admin when an administrator reset their password."""
    _ = translate(language)
    org_name, helpdesk = _org_and_helpdesk(org, helpdesk)
    return _notice(
        _,
        channel,
        recipient,
        org=org_name,
        subject=_one_line(_("admin_reset.subject", org=org_name, admin=admin_username)),
        what=[("admin_reset.what", {"admin": admin_username}), ("admin_reset.why", {})],
        when=when,
        terminal=terminal,
        contact_key="alert.contact",
        helpdesk=helpdesk,
        purpose="alert",
    )


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


def misuse_alert(
    channel: Channel,
    recipient: str,
    username: str,
    support_code: str,
    *,
    known: bool,
    org: str | Organization,
    when: datetime,
    terminal: str,
    until: datetime | None = None,
    helpdesk: str = "",
    language: str = "en",
) -> Message:
    """To admins when a user was blocked (the engine sends at most one per block).

    A name typed at the kiosk is the visitor's text, not the organisation's: an account that
    does not exist (`known=False`) is never named ("an unknown name (shown in the audit
    log)"), and a known one is shown cleaned and cut (`alert_name`)."""
    _ = translate(language)
    org_name, helpdesk = _org_and_helpdesk(org, helpdesk)
    name = alert_name(username) if known else ""
    if known and name:
        subject = _("misuse.subject", org=org_name, username=name)
        what: list[tuple[str, dict[str, object]]] = [("misuse.what", {"username": name})]
    else:
        subject = _("misuse.subject_unknown", org=org_name)
        what = [("misuse.what_unknown", {})]
    if until is not None:
        what.append(("misuse.until", {"until": format_when(until)}))
    what.append(("misuse.support", {"support_code": support_code}))
    return _notice(
        _,
        channel,
        recipient,
        org=org_name,
        subject=_one_line(subject),
        what=what,
        when=when,
        terminal=terminal,
        contact_key="alert.contact",
        helpdesk=helpdesk,
        purpose="alert",
    )


def operator_exit_alert(
    channel: Channel,
    recipient: str,
    *,
    failures: int,
    org: str | Organization,
    when: datetime,
    terminal: str,
    helpdesk: str = "",
    language: str = "en",
) -> Message:
    """To admins when a terminal's operator exit saw many wrong passphrases (rate-limited by
    the engine: kiosk.engine.operator)."""
    _ = translate(language)
    org_name, helpdesk = _org_and_helpdesk(org, helpdesk)
    return _notice(
        _,
        channel,
        recipient,
        org=org_name,
        subject=_one_line(_("operator.subject", org=org_name, terminal=terminal)),
        what=[("operator.what", {"terminal": terminal, "failures": failures})],
        when=when,
        terminal=terminal,
        contact_key="alert.contact",
        helpdesk=helpdesk,
        purpose="alert",
    )
