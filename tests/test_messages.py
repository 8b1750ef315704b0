"""The message templates: codes readable, notifications code-free, HTML escaped, German complete."""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kiosk.engine.config import Organization
from kiosk.engine.delivery import Message
from kiosk.engine.messages import (
    METHOD_KINDS,
    PURPOSES,
    account_unlocked_notice,
    admin_reset_alert,
    code_message,
    format_when,
    helpdesk_contact,
    method_changed_notice,
    misuse_alert,
    password_reset_notice,
    spaced_code,
    spoken_code,
)
from kiosk.i18n import LANGUAGES, Translator, catalogue, placeholders

CODE = "48213957"
WHEN = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
TERMINAL = "console:front-desk"
HELPDESK = "IT Service Desk, ext. 4444"
HOSTILE = '<script>alert("x")</script> & Co'
RECIPIENTS = {"email": "alice@example.net", "text": "+4915112345678", "call": "+4915112345678"}


def notifications(
    channel: str, language: str, org: str | Organization = "Example Corp", **extra: str
) -> dict[str, Message]:
    """Every notification and alert, rendered with the same context."""
    ctx: dict = {"org": org, "when": WHEN, "terminal": TERMINAL, "language": language, **extra}
    to = RECIPIENTS[channel]
    user = extra.get("username", "alice")
    ctx.pop("username", None)
    return {
        "reset": password_reset_notice(channel, to, username=user, **ctx),  # type: ignore[arg-type]
        "unlock": account_unlocked_notice(channel, to, username=user, **ctx),  # type: ignore[arg-type]
        "method": method_changed_notice(channel, to, "mobile", username=user, **ctx),  # type: ignore[arg-type]
        "admin": admin_reset_alert(channel, to, "carol", **ctx),  # type: ignore[arg-type]
        "misuse": misuse_alert(  # type: ignore[arg-type]
            channel, to, user, "K7Q-2M4", known=True, until=WHEN + timedelta(hours=24), **ctx
        ),
    }


def all_text(message: Message) -> str:
    return "\n".join([message.subject, message.body, message.html or ""])


# --- codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "spaced", "spoken"),
    [
        ("123456", "123 456", "1, 2, 3. 4, 5, 6"),
        ("1234567", "123 4567", "1, 2, 3. 4, 5, 6, 7"),
        ("12345678", "1234 5678", "1, 2, 3, 4. 5, 6, 7, 8"),
        ("123456789", "123 456 789", "1, 2, 3. 4, 5, 6. 7, 8, 9"),
        ("1234567890", "123 456 7890", "1, 2, 3. 4, 5, 6. 7, 8, 9, 0"),
        ("1234", "1234", "1, 2, 3, 4"),
    ],
)
def test_code_groups(code: str, spaced: str, spoken: str) -> None:
    assert spaced_code(code) == spaced
    assert spoken_code(code) == spoken


def test_email_code_message() -> None:
    message = code_message("email", "alice@example.net", CODE, "Example Corp", "reset", 10)
    assert message.channel == "email" and message.purpose == "code"
    assert message.recipient == "alice@example.net"
    assert message.subject == "Example Corp: your password reset code"
    assert "4821 3957" in message.body
    assert message.html is not None and "4821 3957" in message.html
    assert "10 minutes" in message.body and "10 minutes" in message.html
    assert "4821" not in message.subject


def test_text_code_message_is_short() -> None:
    message = code_message("text", "+4915112345678", CODE, "Example Corp", "unlock", 1)
    assert message.html is None
    assert "4821 3957" in message.body and "1 minute." in message.body
    assert "account unlock" in message.body
    assert len(message.body) <= 160  # one SMS


def test_call_code_message_spells_the_digits_twice() -> None:
    message = code_message("call", "+4915112345678", CODE, "Example Corp", "reset", 10)
    spoken = "4, 8, 2, 1. 3, 9, 5, 7"
    assert message.body.count(spoken) == 2
    assert "I repeat: " + spoken in message.body
    assert CODE not in message.body and "4821 3957" not in message.body


def test_the_purpose_is_a_key_translated_here() -> None:
    message = code_message("text", "+4915112345678", CODE, "Acme", "reset", 10, "de")
    assert message.body.startswith("Acme: Ihr Code für die Passwortzurücksetzung lautet")
    # keys travel from the stages, never English text (which no other language could show)
    for label in ("password reset", "badge pickup", ""):
        with pytest.raises(ValueError, match="purpose"):
            code_message("text", "+4915112345678", CODE, "Acme", label, 10, "de")


def test_code_message_escapes_a_hostile_org_name() -> None:
    message = code_message("email", "a@example.net", CODE, HOSTILE, "reset", 10, helpdesk=HOSTILE)
    assert message.html is not None
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in message.html
    assert HOSTILE in message.body  # plain text carries it verbatim: nothing renders it


def test_subject_never_spans_lines() -> None:
    message = code_message("email", "a@example.net", CODE, "Evil\r\nBcc: x@y.z", "reset", 10)
    assert "\n" not in message.subject and "\r" not in message.subject


# --- notifications ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", ["email", "text", "call"])
def test_notifications_say_what_when_where_and_whom_to_call(channel: str, language: str) -> None:
    for name, message in notifications(channel, language, helpdesk=HELPDESK).items():
        text = all_text(message)
        assert message.channel == channel, name
        assert message.purpose == ("alert" if name in {"admin", "misuse"} else "notification")
        assert "2026-01-05 09:30 UTC" in message.body, name
        assert TERMINAL in message.body, name
        assert HELPDESK in message.body, name
        assert "Example Corp" in text, name
        assert (message.html is not None) == (channel == "email"), name
        # no code: no run of 6+ digits (the stamp and terminal have none), no spaced code
        assert not re.search(r"\d{6,}|\d{3,4} \d{3,4}", message.body), name


def test_notifications_never_take_a_code() -> None:
    # a code cannot leak into a notification it was never given
    for fn in (
        password_reset_notice,
        account_unlocked_notice,
        method_changed_notice,
        admin_reset_alert,
        misuse_alert,
    ):
        assert not {"code", "password"} & set(inspect.signature(fn).parameters), fn
    for name, message in notifications("email", "en").items():
        assert "password is" not in message.body.lower(), name


def test_user_notices_name_the_account_and_the_change() -> None:
    found = notifications("email", "en", helpdesk=HELPDESK)
    assert "The password of your Example Corp account alice was reset." in found["reset"].body
    assert "Your Example Corp account alice was unlocked." in found["unlock"].body
    assert "was changed: mobile phone." in found["method"].body
    assert (
        "If this was not you, contact the helpdesk right away: " + HELPDESK in found["reset"].body
    )
    added = method_changed_notice(
        "text",
        "+4915112345678",
        "authenticator",
        username="alice",
        org="Example Corp",
        when=WHEN,
        terminal=TERMINAL,
        change="added",
    )
    assert "was added: authenticator app." in added.body


def test_admin_alerts() -> None:
    found = notifications("email", "en", helpdesk=HELPDESK)
    assert "administrator account carol was reset" in found["admin"].body
    assert "carol" in found["admin"].subject
    misuse = found["misuse"]
    assert misuse.subject == "Example Corp: alice blocked from password self-service"
    assert "Support code: K7Q-2M4" in misuse.body
    assert "The block ends: 2026-01-06 09:30 UTC." in misuse.body


INJECTION = "urgent - your admin account will be disabled - call 0800 999 321"
BIDI = "ali\u202ece\u202c\u2066\u2069\u200b\u200f\u2028\u2029\x00\x1b\x85"


def misuse(username: str, *, known: bool, language: str = "en",
           channel: str = "email") -> Message:
    return misuse_alert(channel, RECIPIENTS[channel], username, "K7Q-2M4", known=known,  # type: ignore[arg-type]
                        org="Example Corp", when=WHEN, terminal=TERMINAL, helpdesk=HELPDESK,
                        until=WHEN + timedelta(hours=24), language=language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", ["email", "text", "call"])
def test_misuse_alerts_never_name_an_unknown_account(language: str, channel: str) -> None:
    for name in (INJECTION, BIDI, "alice"):
        text = all_text(misuse(name, known=False, language=language, channel=channel))
        assert "urgent" not in text and "999 321" not in text and "alice" not in text, name
        assert "K7Q-2M4" in text and "2026-01-06 09:30 UTC" in text
    english = misuse(INJECTION, known=False)
    assert english.subject == "Example Corp: an unknown name blocked from password self-service"
    assert english.body.count("An unknown name (shown in the audit log) was blocked") == 1
    assert "unbekannter Name (siehe Audit-Protokoll)" in misuse("x", known=False,
                                                                language="de").body


def test_misuse_alerts_show_a_known_name_without_control_or_bidi_characters() -> None:
    message = misuse(BIDI, known=True)
    assert message.subject == "Example Corp: alice blocked from password self-service"
    assert "The account alice was blocked" in message.body
    hidden = {chr(c) for c in (*range(0x20), 0x7F, 0x85, 0x200B, 0x200F, 0x202C, 0x202E, 0x2028,
                               0x2029, 0x2066, 0x2069)} - {"\n"}
    assert not hidden & set(all_text(message))
    long = misuse("x" * 300, known=True)
    assert "x" * 63 + "…" in long.subject and "x" * 64 not in all_text(long)
    # a known name that is nothing but invisible characters is not named either
    assert "unknown name" in misuse("\u202e\u200b", known=True).subject


def test_organization_gives_name_and_helpdesk() -> None:
    org = Organization(name="Acme", helpdesk="Call the service desk.", helpdesk_phone="+49 30 1234")
    assert helpdesk_contact(org) == "Call the service desk (+49 30 1234)"
    for message in notifications("email", "en", org=org).values():
        assert "Acme" in message.subject
        assert "Call the service desk (+49 30 1234)" in message.body
    code = code_message("email", "a@example.net", CODE, org, "reset", 10)
    assert "Call the service desk (+49 30 1234)" in code.body


def test_no_helpdesk_still_tells_whom_to_contact() -> None:
    for message in notifications("text", "en").values():
        assert "IT helpdesk" in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_notifications_escape_every_value_in_html(language: str) -> None:
    found = notifications("email", language, org=HOSTILE, username=HOSTILE, terminal=HOSTILE)
    found["admin"] = admin_reset_alert(
        "email",
        "a@example.net",
        HOSTILE,
        org=HOSTILE,
        when=WHEN,
        terminal=HOSTILE,
        helpdesk=HOSTILE,
        language=language,
    )
    for name, message in found.items():
        assert message.html is not None
        assert "<script>" not in message.html, name
        assert "&lt;script&gt;" in message.html, name
        assert "& Co" not in message.html, name  # the bare ampersand is escaped too


def test_format_when() -> None:
    assert format_when(datetime(2026, 1, 5, 9, 30)) == "2026-01-05 09:30 UTC"  # naive = UTC
    cet = timezone(timedelta(hours=1), "CET")
    assert format_when(datetime(2026, 1, 5, 10, 30, tzinfo=cet)) == "2026-01-05 10:30 CET"


# --- translations ----------------------------------------------------------------------------


MESSAGE_KEYS = {key for key in catalogue("en") if key.startswith("msg.")}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_language_has_every_message_key_with_the_same_placeholders(language: str) -> None:
    english, texts = catalogue("en"), catalogue(language)
    assert MESSAGE_KEYS, "no msg.* keys in the English catalogue"
    missing = sorted(MESSAGE_KEYS - set(texts))
    assert not missing, f"{language} lacks message keys: {missing}"
    for key in MESSAGE_KEYS:
        assert texts[key].strip(), (language, key)
        assert placeholders(texts[key]) == placeholders(english[key]), (language, key)
    for purpose in PURPOSES:
        assert f"msg.purpose.{purpose}" in english
    for kind in METHOD_KINDS:
        assert f"msg.method.{kind}" in english


def _every_template(channel: str, language: str) -> list[Message]:
    to = RECIPIENTS[channel]
    code = code_message(channel, to, CODE, "Example Corp", "reset", 10, language)  # type: ignore[arg-type]
    return [code, *notifications(channel, language, helpdesk=HELPDESK).values()]


@pytest.mark.parametrize("channel", ["email", "text", "call"])
def test_german_versions_exist_for_every_template(channel: str) -> None:
    english = _every_template(channel, "en")
    german = _every_template(channel, "de")
    assert len(english) == len(german) == 6
    for en, de in zip(english, german, strict=True):
        assert en.subject != de.subject
        assert en.body != de.body
        # no English sentence survives in the German text
        for marker in ("Hello", "your ", "If this", "When:", "Goodbye"):
            assert marker not in de.body, (de.subject, marker)
        if de.html is not None:
            assert '<html lang="de">' in de.html


def test_german_code_and_notice_wording() -> None:
    code = code_message("call", "+4915112345678", CODE, "Acme", "reset", 10, "de")
    assert "Ich wiederhole: 4, 8, 2, 1. 3, 9, 5, 7" in code.body
    assert "10 Minuten" in code.body
    notice = password_reset_notice(
        "email",
        "a@example.net",
        username="alice",
        org="Acme",
        when=WHEN,
        terminal=TERMINAL,
        language="de",
    )
    assert notice.subject == "Acme: Ihr Passwort wurde zurückgesetzt"
    assert "Zeitpunkt: 2026-01-05 09:30 UTC" in notice.body


def test_language_resolution() -> None:
    assert Translator("de-AT").language == "de"
    assert Translator("de_DE").language == "de"
    assert Translator("fr").language == "en"  # unknown: English rather than nothing
    assert Translator("de")("msg.call.bye") == "Auf Wiederhören."
