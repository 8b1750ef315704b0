"""The demo outbox panel: only codes are codes (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.backend import Channel, OutboxMessage
from kiosk.engine.messages import code_message
from kiosk.widgets.outbox import OutboxPanel, code_in

HELPDESK = "IT helpdesk, +1 425 555 0100"


def message(channel: str, body: str, subject: str = "Contoso") -> OutboxMessage:
    return OutboxMessage(id=1, created_at=datetime.now(UTC), channel=Channel(channel),
                         recipient="alice@contoso.org", subject=subject, body=body)


@pytest.mark.parametrize("channel", ["email", "text"])
@pytest.mark.parametrize("code", ["12345678", "1234567890", "123456"])
def test_a_code_message_shows_its_code(channel: str, code: str) -> None:
    sent = code_message(channel, "alice", code, "Contoso", "reset", 10, helpdesk=HELPDESK)
    found = code_in(message(channel, sent.body, sent.subject))
    assert found.replace(" ", "") == code


@pytest.mark.parametrize("channel", ["email", "text"])
def test_a_notice_with_the_helpdesk_phone_has_no_code(channel: str) -> None:
    body = ("Hello,\n\nYour password was changed.\n\nWhen: 14:02\n\n"
            f"If this was not you, contact the helpdesk right away: {HELPDESK}\n"
            if channel == "email" else
            f"Contoso: Your password was changed. Contact the helpdesk right away: {HELPDESK}")
    notice = message(channel, body, "Contoso: your password was changed")
    assert code_in(notice) == ""
    shown = OutboxPanel.render_messages([notice])
    assert "425 555 0100" not in shown and "your password was changed" in shown
