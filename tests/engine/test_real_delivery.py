"""A reset completed with the code from a real SMTP server's mailbox (aiosmtpd on loopback),
and a dead server: the answer is the same as when it is up (delivery is queued), the person may
pick another method, and the failure is audited."""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message as EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from kiosk.backend import Step
from kiosk.engine.delivery_queue import QueuedDelivery
from kiosk.engine.engine import Engine
from kiosk.engine.schema import audit_events
from tests.support.engine import TERMINAL, make_engine


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def real_engine(tmp_path: Path, port: int) -> Engine:
    return make_engine(tmp_path, delivery={
        "kind": "real",
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none",
                 "from_address": "kiosk@contoso.org", "timeout_seconds": 5},
        "gateway": {"url": "http://127.0.0.1:9/", "secret": "s3cret", "timeout_seconds": 1},
    })


def drained(engine: Engine) -> None:
    """Wait for the delivery queue: real deliveries are sent by a worker thread."""
    assert isinstance(engine.delivery, QueuedDelivery)
    assert engine.delivery.drain(timeout=30)


def body_text(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()  # type: ignore[union-attr]
    raise AssertionError("no text part")


def test_reset_with_the_code_from_the_mailbox(tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    engine = real_engine(tmp_path, port)
    state = engine.session(TERMINAL).start("reset", "alice")
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    drained(engine)
    assert len(box.messages) == 1 and box.messages[0]["To"] == "alice@contoso.org"
    found = re.search(r"\b(\d{4}) (\d{4})\b", body_text(box.messages[0]))
    assert found
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,  # type: ignore[union-attr]
                               found.group(1) + found.group(2))
    state = engine.session(TERMINAL).set_password(state.flow_id, "Seven brass kiosk lanterns")
    assert state.result == "reset"
    drained(engine)
    # the reset notice went to her email too; it holds no code
    notice = body_text(box.messages[-1])
    assert len(box.messages) == 2 and not re.search(r"\d{4} \d{4}", notice)


def test_a_dead_mail_server_fails_softly(tmp_path: Path) -> None:
    engine = real_engine(tmp_path, free_port())  # nothing listens there
    state = engine.session(TERMINAL).start("reset", "alice")
    engine.delivery.delays = (0.01, 0.01)  # type: ignore[attr-defined]
    # answered like a success (and like a decoy): the relay's state is not the person's answer
    sent = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert sent.step == Step.VERIFY_CODE and sent.challenge is not None
    drained(engine)
    # the flow is intact: another method still works
    again = engine.session(TERMINAL).questions(state.flow_id)
    assert again.step == Step.ANSWER_QUESTIONS
    with engine.db.connect() as conn:
        details = conn.execute(select(audit_events.c.detail)).scalars().all()
    assert any(d.startswith("code not delivered: SMTP 127.0.0.1") for d in details)


def subject_of(message: EmailMessage) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_a_german_session_gets_its_code_and_notice_in_german_by_mail(
        tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    engine = real_engine(tmp_path, port)
    state = engine.session(TERMINAL).start("reset", "alice", "de")
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    drained(engine)
    [code_mail] = box.messages
    assert subject_of(code_mail) == "Contoso (training): Ihr Code für die Passwortzurücksetzung"
    text = body_text(code_mail)
    assert text.startswith("Guten Tag,") and "Hello" not in text
    html_part = next(p for p in code_mail.walk() if p.get_content_type() == "text/html")
    assert '<html lang="de">' in html_part.get_payload(decode=True).decode()  # type: ignore[union-attr]
    found = re.search(r"\b(\d{4}) (\d{4})\b", text)
    assert found
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,  # type: ignore[union-attr]
                               found.group(1) + found.group(2))
    engine.session(TERMINAL).set_password(state.flow_id, "Seven brass kiosk lanterns")
    drained(engine)
    notice = box.messages[-1]
    assert subject_of(notice) == "Contoso (training): Ihr Passwort wurde zurückgesetzt"
    assert "Falls Sie das nicht waren" in body_text(notice)
