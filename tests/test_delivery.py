"""Real delivery against real loopback servers: aiosmtpd for SMTP, http.server for the gateway."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import re
import socket
import ssl
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from kiosk.backend import Step
from kiosk.engine import audit
from kiosk.engine.config import Delivery as DeliveryConfig
from kiosk.engine.config import Gateway, Smtp
from kiosk.engine.delivery import (
    DeliveryError,
    GatewayDelivery,
    Message,
    RoutingDelivery,
    SmtpDelivery,
    build_delivery,
)
from kiosk.engine.delivery_queue import QueuedDelivery, short_reason
from kiosk.engine.demo import build_demo_engine
from kiosk.engine.engine import Engine
from kiosk.engine.messages import code_message
from kiosk.engine.schema import flows

CODE = "48213957"
SPACED = "4821 3957"
HOST = "127.0.0.1"
EMAIL = "alice@example.net"
PHONE = "+4915112345678"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def assert_no_code(error: BaseException) -> None:
    # The server's own address is ours to show; its random port can hold "4821" by chance.
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", str(error))
    assert CODE not in text and SPACED not in text and "4821" not in text


# --- a throwaway certificate for 127.0.0.1 ---------------------------------------------------


@dataclass
class Cert:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@pytest.fixture(scope="session")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kiosk test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Cert(cert_file, key_file)


# --- SMTP ------------------------------------------------------------------------------------


@dataclass
class Received:
    envelope: Envelope
    tls: bool
    login: bytes | None


@dataclass
class Inbox:
    received: list[Received] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)  # recipients to refuse
    delay: float = 0.0  # seconds each message takes (a slow relay)
    defer: int = 0  # answer the next this many messages "451 try again later"
    attempts: int = 0

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.unknown:
            return f"550 5.1.1 <{address}>: unknown user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.defer:
            self.defer -= 1
            return "451 4.3.0 try again later"
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        tls = server.transport.get_extra_info("ssl_object") is not None  # STARTTLS or implicit
        self.received.append(Received(envelope, tls, login))
        return "250 Message accepted for delivery"

    def only(self) -> tuple[Received, EmailMessage]:
        assert len(self.received) == 1
        raw = self.received[0].envelope.original_content
        assert isinstance(raw, bytes)
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return self.received[0], parsed


def authenticate(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data == (b"kiosk", b"s3cret pass")
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """A factory: start an aiosmtpd server with the given options; all stopped at the end."""
    started: list[Controller] = []

    def start(**kwargs: Any) -> tuple[Inbox, int]:
        inbox, port = Inbox(), free_port()
        controller = Controller(inbox, hostname=HOST, port=port, ready_timeout=5, **kwargs)
        controller.start()
        started.append(controller)
        return inbox, port

    yield start
    for controller in started:
        controller.stop()


def email_code() -> Message:
    return code_message("email", EMAIL, CODE, "Example Corp", "reset", 10)


def test_plain_smtp_delivers_code_in_both_parts(smtp_server: Any) -> None:
    inbox, port = smtp_server()
    cfg = Smtp(host=HOST, port=port, security="none", from_address="Kiosk <kiosk@example.org>")
    SmtpDelivery(cfg).send(email_code())

    received, mail = inbox.only()
    assert received.envelope.mail_from == "kiosk@example.org"
    assert received.envelope.rcpt_tos == [EMAIL]
    assert mail["From"] == "Kiosk <kiosk@example.org>"
    assert mail["To"] == EMAIL
    assert mail["Subject"] == "Example Corp: your password reset code"
    assert CODE not in mail["Subject"] and "4821" not in mail["Subject"]
    assert mail["Date"].datetime.tzinfo is not None
    assert re.fullmatch(r"<[^@>]+@example\.org>", mail["Message-ID"])
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    plain, rich = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and rich is not None
    assert SPACED in plain.get_content()
    assert SPACED in rich.get_content()
    # the code a person would read off the message is the code that was sent
    found = re.search(r"\b(\d{4}) (\d{4})\b", plain.get_content())
    assert found and found.group(1) + found.group(2) == CODE


def test_german_subject_survives_the_wire(smtp_server: Any) -> None:
    inbox, port = smtp_server()
    message = code_message("email", EMAIL, CODE, "Bäckerei Müller", "unlock", 5, "de")
    SmtpDelivery(Smtp(host=HOST, port=port, security="none")).send(message)
    _, mail = inbox.only()
    assert mail["Subject"] == "Bäckerei Müller: Ihr Code für die Kontoentsperrung"
    assert "5 Minuten" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_starttls_with_login(smtp_server: Any, cert: Cert) -> None:
    inbox, port = smtp_server(
        tls_context=cert.server_context(),
        require_starttls=True,
        auth_required=True,
        authenticator=authenticate,
    )
    cfg = Smtp(
        host=HOST,
        port=port,
        security="starttls",
        username="kiosk",
        password="s3cret pass",
        ca_file=str(cert.cert_file),
        timeout_seconds=5,
    )
    SmtpDelivery(cfg).send(email_code())
    received, mail = inbox.only()
    assert received.tls
    assert received.login == b"kiosk"
    assert SPACED in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_wrong_password_is_a_delivery_error(smtp_server: Any, cert: Cert) -> None:
    inbox, port = smtp_server(
        tls_context=cert.server_context(), auth_required=True, authenticator=authenticate
    )
    cfg = Smtp(
        host=HOST,
        port=port,
        username="kiosk",
        password="wrong",
        ca_file=str(cert.cert_file),
    )
    with pytest.raises(DeliveryError, match="login failed for user 'kiosk' \\(535") as caught:
        SmtpDelivery(cfg).send(email_code())
    assert "wrong" not in str(caught.value)
    assert_no_code(caught.value)
    assert inbox.received == []


def test_untrusted_certificate_is_refused(smtp_server: Any, cert: Cert) -> None:
    inbox, port = smtp_server(tls_context=cert.server_context())
    cfg = Smtp(host=HOST, port=port, security="starttls", timeout_seconds=5)  # system CAs only
    with pytest.raises(DeliveryError, match="STARTTLS failed, certificate not trusted") as caught:
        SmtpDelivery(cfg).send(email_code())
    assert_no_code(caught.value)
    assert inbox.received == []


def test_starttls_missing_never_falls_back_to_plain(smtp_server: Any) -> None:
    inbox, port = smtp_server()  # no tls_context: STARTTLS not offered
    cfg = Smtp(host=HOST, port=port, security="starttls", timeout_seconds=5)
    with pytest.raises(DeliveryError, match="STARTTLS failed, the server does not offer it"):
        SmtpDelivery(cfg).send(email_code())
    assert inbox.received == []


def test_implicit_tls(smtp_server: Any, cert: Cert) -> None:
    inbox, port = smtp_server(ssl_context=cert.server_context())
    cfg = Smtp(host=HOST, port=port, security="tls", ca_file=str(cert.cert_file))
    SmtpDelivery(cfg).send(email_code())
    received, mail = inbox.only()
    assert received.tls
    assert SPACED in mail.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_refused_recipient(smtp_server: Any) -> None:
    inbox, port = smtp_server()
    inbox.unknown.add(EMAIL)
    with pytest.raises(DeliveryError, match=r"recipient refused \(550\)") as caught:
        SmtpDelivery(Smtp(host=HOST, port=port, security="none")).send(email_code())
    assert_no_code(caught.value)
    assert inbox.received == []


def test_dead_smtp_server_fails_fast_without_the_code() -> None:
    cfg = Smtp(host=HOST, port=free_port(), security="starttls", timeout_seconds=2)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=f"SMTP {HOST}:\\d+: connect failed") as caught:
        SmtpDelivery(cfg).send(email_code())
    assert time.monotonic() - started < 1.5
    assert_no_code(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_silent_smtp_server_times_out() -> None:
    # accepts the TCP connection but never greets
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen()
        cfg = Smtp(host=HOST, port=listener.getsockname()[1], timeout_seconds=0.3)
        with pytest.raises(DeliveryError, match=r"connect timed out after 0\.3 s") as caught:
            SmtpDelivery(cfg).send(email_code())
    assert_no_code(caught.value)


@pytest.mark.parametrize(
    ("cfg", "message", "expected"),
    [
        (Smtp(host=""), email_code(), "not configured"),
        (Smtp(host=HOST, security="none", username="u"), email_code(), "without TLS"),
        (
            Smtp(host=HOST),
            code_message("email", "a@example.net, b@evil.example", CODE, "X", "reset", 10),
            "recipient address is not a single email address",
        ),
        (
            Smtp(host=HOST),
            code_message("email", "a@example.net\r\nBcc: b@evil.example", CODE, "X", "reset", 10),
            "line break",
        ),
        (Smtp(host=HOST), code_message("text", PHONE, CODE, "X", "reset", 10), "cannot send"),
    ],
)
def test_smtp_refuses_before_connecting(cfg: Smtp, message: Message, expected: str) -> None:
    with pytest.raises(DeliveryError, match=expected) as caught:
        SmtpDelivery(cfg).send(message)
    assert_no_code(caught.value)


# --- the phone gateway -----------------------------------------------------------------------

SECRET = "gateway-shared-secret"


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes


class GatewayServer:
    """A loopback HTTP server that answers from a script: a status, or ("sleep", seconds)."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.script: list[int | tuple[str, float]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.hits.append(Hit(dict(self.headers.items()), body))
                step = outer.script.pop(0) if outer.script else 200
                if isinstance(step, tuple):
                    time.sleep(step[1])
                    step = 200
                # echo the body on errors: the kiosk must not quote it back
                payload = body if step >= 400 else b'{"ok":true}'
                try:
                    self.send_response(step)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out while we slept: expected

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{HOST}:{self.httpd.server_address[1]}/v1/send"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def gateway() -> Iterator[GatewayServer]:
    server = GatewayServer()
    yield server
    server.stop()


def gateway_delivery(url: str, timeout: float = 2) -> GatewayDelivery:
    return GatewayDelivery(Gateway(url=url, secret=SECRET, timeout_seconds=timeout), retry_delay=0)


def text_code() -> Message:
    return code_message("text", PHONE, CODE, "Example Corp", "reset", 10)


def test_gateway_posts_signed_json(gateway: GatewayServer) -> None:
    gateway_delivery(gateway.url).send(text_code())
    assert len(gateway.hits) == 1
    hit = gateway.hits[0]
    expected = hmac.new(SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
    assert hit.headers["X-Kiosk-Signature"] == f"sha256={expected}"
    assert abs(int(hit.headers["X-Kiosk-Timestamp"]) - time.time()) < 5
    assert hit.headers["Content-Type"] == "application/json"
    payload = json.loads(hit.body)
    assert set(payload) == {"channel", "to", "body", "id"}
    assert payload["channel"] == "text"
    assert payload["to"] == PHONE
    assert SPACED in payload["body"]
    assert re.fullmatch(r"[0-9a-f-]{36}", payload["id"])


def test_gateway_places_a_call_with_the_spoken_code(gateway: GatewayServer) -> None:
    message = code_message("call", PHONE, CODE, "Example Corp", "reset", 10)
    gateway_delivery(gateway.url).send(message)
    payload = json.loads(gateway.hits[0].body)
    assert payload["channel"] == "call"
    spoken = "4, 8, 2, 1. 3, 9, 5, 7"
    assert payload["body"].count(spoken) == 2 and "I repeat" in payload["body"]


def test_gateway_body_is_ascii_json(gateway: GatewayServer) -> None:
    message = code_message("text", PHONE, CODE, "Bäckerei Müller", "reset", 10, "de")
    gateway_delivery(gateway.url).send(message)
    raw = gateway.hits[0].body
    assert raw.isascii()
    assert json.loads(raw)["body"].startswith("Bäckerei Müller: Ihr Code für die Passwort")


def test_gateway_retries_once_on_500_with_the_same_id(gateway: GatewayServer) -> None:
    gateway.script = [503, 200]
    gateway_delivery(gateway.url).send(text_code())
    assert len(gateway.hits) == 2
    first, second = (json.loads(hit.body) for hit in gateway.hits)
    assert first == second  # same id: the gateway can drop the duplicate
    assert (
        gateway.hits[0].headers["X-Kiosk-Signature"] == gateway.hits[1].headers["X-Kiosk-Signature"]
    )


def test_gateway_gives_up_after_one_retry(gateway: GatewayServer) -> None:
    gateway.script = [500, 502, 200]
    with pytest.raises(DeliveryError, match="HTTP 502, also on the retry") as caught:
        gateway_delivery(gateway.url).send(text_code())
    assert len(gateway.hits) == 2
    assert_no_code(caught.value)


def test_gateway_does_not_retry_a_4xx(gateway: GatewayServer) -> None:
    gateway.script = [400]
    with pytest.raises(DeliveryError, match="rejected with HTTP 400") as caught:
        gateway_delivery(gateway.url).send(text_code())
    assert len(gateway.hits) == 1
    assert_no_code(caught.value)  # the server echoed the body; the error does not


def test_gateway_timeout_is_retried_then_reported(gateway: GatewayServer) -> None:
    gateway.script = [("sleep", 0.6), ("sleep", 0.6)]
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=r"timed out after 0\.2 s, also on the retry") as caught:
        gateway_delivery(gateway.url, timeout=0.2).send(text_code())
    assert time.monotonic() - started < 1.2
    assert len(gateway.hits) == 2
    assert_no_code(caught.value)


def test_gateway_slow_once_then_fine(gateway: GatewayServer) -> None:
    gateway.script = [("sleep", 0.5), 200]
    gateway_delivery(gateway.url, timeout=0.2).send(text_code())
    assert len(gateway.hits) == 2
    assert json.loads(gateway.hits[0].body)["id"] == json.loads(gateway.hits[1].body)["id"]


def test_gateway_down_is_a_delivery_error() -> None:
    url = f"http://{HOST}:{free_port()}/send"
    expected = r"connection failed \(ConnectError\), also on the retry"
    with pytest.raises(DeliveryError, match=expected) as caught:
        gateway_delivery(url).send(text_code())
    assert_no_code(caught.value)


@pytest.mark.parametrize(
    ("cfg", "message", "expected"),
    [
        (Gateway(url="", secret=SECRET), text_code(), "not configured"),
        (Gateway(url="https://gw.example/send", secret=""), text_code(), "unsigned"),
        (Gateway(url="http://gw.example/send", secret=SECRET), text_code(), "must use https"),
        (
            Gateway(url="https://gw.example/send", secret=SECRET),
            code_message("text", "015112345678", CODE, "X", "reset", 10),
            "E.164",
        ),
        (Gateway(url="https://gw.example/send", secret=SECRET), email_code(), "cannot send"),
    ],
)
def test_gateway_refuses_before_sending(cfg: Gateway, message: Message, expected: str) -> None:
    with pytest.raises(DeliveryError, match=expected) as caught:
        GatewayDelivery(cfg).send(message)
    assert_no_code(caught.value)


# --- routing and construction ----------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)


def test_routing_by_channel() -> None:
    email, phone = Recorder(), Recorder()
    router = RoutingDelivery(email, phone)
    for channel, recipient in (("email", EMAIL), ("text", PHONE), ("call", PHONE)):
        router.send(code_message(channel, recipient, CODE, "X", "reset", 10))  # type: ignore[arg-type]
    assert [m.channel for m in email.sent] == ["email"]
    assert [m.channel for m in phone.sent] == ["text", "call"]


def test_build_delivery() -> None:
    outbox = Recorder()
    assert build_delivery(DeliveryConfig(), outbox) is outbox
    real = build_delivery(DeliveryConfig(kind="real"), outbox)
    assert isinstance(real, RoutingDelivery)
    assert isinstance(real.email, SmtpDelivery)
    assert isinstance(real.phone, GatewayDelivery)


def test_message_repr_hides_the_body() -> None:
    assert CODE not in repr(email_code()) and SPACED not in repr(email_code())
    with pytest.raises(ValueError, match="channel"):
        Message("fax", EMAIL, "s", "b")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="html"):
        Message("text", PHONE, "s", "b", html="<p>b</p>")


# --- the engine's queued delivery: a real account and a decoy answer alike (issue 10, item 4) ---

ENGINE_CHEAP = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
ENGINE_TERMINAL = "console:delivery-test"
ALICE_EMAIL = "alice@contoso.org"
ANY_CODE = re.compile(r"\d{4}\s?\d{4}")
ROOMY_THROTTLE = {"sends": 100, "failed_flows": 100, "verify_failures": 100,
                  "terminal_sends": 1000, "terminal_failed_flows": 1000,
                  "terminal_verify_failures": 1000}


def smtp_engine(tmp_path: Path, port: int) -> Engine:
    return build_demo_engine(
        tmp_path, security=ENGINE_CHEAP, throttle=ROOMY_THROTTLE,
        delivery={
            "kind": "real",
            "smtp": {"host": HOST, "port": port, "security": "none",
                     "from_address": "kiosk@contoso.org", "timeout_seconds": 5},
            "gateway": {"url": f"http://{HOST}:9/", "secret": "s3cret", "timeout_seconds": 1},
        })


def queue_of(engine: Engine) -> QueuedDelivery:
    assert isinstance(engine.delivery, QueuedDelivery)  # a real relay is always queued
    return engine.delivery


def decoy_with_email(engine: Engine) -> str:
    """An unknown name whose decoy offers an email code (the server key is new each run)."""
    return next(name for name in (f"ghost{n}" for n in range(60)) if "email" in [
        m.kind.value for m in engine.session(ENGINE_TERMINAL).start("reset", name).methods])


def flow_events(engine: Engine, flow_id: str) -> list[dict[str, Any]]:
    with engine.db.connect() as conn:
        correlation = conn.execute(
            select(flows.c.correlation_id).where(flows.c.id == flow_id)).scalar_one()
        return audit.events_for(conn, correlation)


def delivery_events(engine: Engine, flow_id: str) -> list[dict[str, Any]]:
    return [e for e in flow_events(engine, flow_id)
            if str(e["detail"]).startswith(("code delivered", "code not delivered"))]


def test_send_code_takes_as_long_for_a_real_account_as_for_a_decoy(
    tmp_path: Path, smtp_server: Any
) -> None:
    inbox, port = smtp_server()
    inbox.delay = 0.2  # a relay that takes 200 ms a message
    engine = smtp_engine(tmp_path, port)
    decoy = decoy_with_email(engine)

    def timed(name: str) -> float:
        state = engine.session(ENGINE_TERMINAL).start("reset", name)
        began = time.perf_counter()
        engine.session(ENGINE_TERMINAL).send_code(state.flow_id, "email", "email")
        return time.perf_counter() - began

    try:
        for _ in range(2):  # warm caches and connections
            timed("alice"), timed(decoy)
        real, fake = [], []
        for _ in range(15):  # interleaved, so machine noise hits both alike
            real.append(timed("alice"))
            fake.append(timed(decoy))
        real_p50, fake_p50 = statistics.median(real), statistics.median(fake)
        print(f"send_code p50: alice {real_p50 * 1000:.1f} ms, decoy {fake_p50 * 1000:.1f} ms")
        assert abs(real_p50 - fake_p50) < 0.020, (real_p50, fake_p50)
    finally:
        if isinstance(engine.delivery, QueuedDelivery):
            engine.delivery.close(timeout=30)
    assert len(inbox.received) == 17  # every real code still arrived, later


def test_a_dead_relay_answers_like_a_decoy_and_audits_the_failure(tmp_path: Path) -> None:
    engine = smtp_engine(tmp_path, free_port())  # nothing listens there
    queue_of(engine).delays = (0.01, 0.01)
    decoy = decoy_with_email(engine)
    real_start = engine.session(ENGINE_TERMINAL).start("reset", "alice")
    fake_start = engine.session(ENGINE_TERMINAL).start("reset", decoy)
    real = engine.session(ENGINE_TERMINAL).send_code(real_start.flow_id, "email", "email")
    fake = engine.session(ENGINE_TERMINAL).send_code(fake_start.flow_id, "email", "email")
    assert real.step == fake.step == Step.VERIFY_CODE
    assert real.challenge is not None and fake.challenge is not None
    assert set(real.model_dump()) == set(fake.model_dump())
    assert real.challenge.model_dump().keys() == fake.challenge.model_dump().keys()

    assert queue_of(engine).drain(timeout=10)
    events = delivery_events(engine, real.flow_id)
    assert [(e["result"], str(e["detail"]).split(":")[0]) for e in events] == [
        ("failed", "code not delivered")]
    detail = str(events[0]["detail"])
    assert "connect failed" in detail
    assert ALICE_EMAIL not in detail and "alice" not in detail and not ANY_CODE.search(detail)
    assert delivery_events(engine, fake.flow_id) == []  # a decoy sends nothing
    # the flow is intact: she can still choose another way
    assert engine.session(ENGINE_TERMINAL).questions(real.flow_id).step == Step.ANSWER_QUESTIONS
    queue_of(engine).close()


def test_a_slow_relay_still_delivers_and_the_delivery_is_audited(
    tmp_path: Path, smtp_server: Any
) -> None:
    inbox, port = smtp_server()
    inbox.delay = 1.0
    engine = smtp_engine(tmp_path, port)
    state = engine.session(ENGINE_TERMINAL).start("reset", "alice")
    began = time.perf_counter()
    state = engine.session(ENGINE_TERMINAL).send_code(state.flow_id, "email", "email")
    assert time.perf_counter() - began < 0.5  # the answer did not wait for the relay
    assert queue_of(engine).drain(timeout=10)
    received, mail = inbox.only()
    assert received.envelope.rcpt_tos == [ALICE_EMAIL]
    found = ANY_CODE.search(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert found
    events = delivery_events(engine, state.flow_id)
    assert [(e["result"], e["detail"], e["method"]) for e in events] == [
        ("succeeded", "code delivered", "email")]
    # and the code that arrived works
    assert state.challenge is not None
    done = engine.session(ENGINE_TERMINAL).verify_code(state.flow_id, state.challenge.id,
                              found.group(0).replace(" ", ""))
    assert done.step == Step.NEW_PASSWORD
    queue_of(engine).close()


def test_a_deferred_message_is_retried_and_delivered_once(
    tmp_path: Path, smtp_server: Any
) -> None:
    inbox, port = smtp_server()
    inbox.defer = 1  # the first try gets "451 try again later"
    engine = smtp_engine(tmp_path, port)
    queue_of(engine).delays = (0.05, 0.05)
    state = engine.session(ENGINE_TERMINAL).start("reset", "alice")
    state = engine.session(ENGINE_TERMINAL).send_code(state.flow_id, "email", "email")
    assert queue_of(engine).drain(timeout=10)
    assert inbox.attempts == 2
    inbox.only()
    assert [(e["result"], e["detail"]) for e in delivery_events(engine, state.flow_id)] == [
        ("succeeded", "code delivered")]
    queue_of(engine).close()


# --- QueuedDelivery on its own ----------------------------------------------------------------


class Flaky:
    """Fails the first `failures` tries (or always, for `always`); can be slow; records sends."""

    def __init__(self, failures: int = 0, delay: float = 0.0,
                 always: frozenset[str] = frozenset(), error: Exception | None = None) -> None:
        self.failures, self.delay, self.always, self.error = failures, delay, always, error
        self.tries: list[str] = []
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.tries.append(message.recipient)
        time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        if message.recipient in self.always or self.failures > 0:
            self.failures -= 1
            raise DeliveryError("gateway: HTTP 503")
        self.sent.append(message)


class Outcomes:
    def __init__(self) -> None:
        self.seen: list[tuple[str, bool, str]] = []

    def __call__(self, message: Message, ok: bool, reason: str) -> None:
        self.seen.append((message.recipient, ok, reason))


def test_queued_send_returns_at_once_and_reports_the_outcome() -> None:
    inner, outcomes = Flaky(delay=0.3), Outcomes()
    queue = QueuedDelivery(inner, on_outcome=outcomes)
    began = time.perf_counter()
    queue.send(email_code())
    assert time.perf_counter() - began < 0.05
    assert queue.drain(timeout=5)
    assert [m.recipient for m in inner.sent] == [EMAIL]
    assert outcomes.seen == [(EMAIL, True, "")]
    assert queue.close(timeout=5)


def test_queued_retries_then_gives_up_without_logging_the_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG", logger="kiosk.engine")
    inner, outcomes = Flaky(failures=2), Outcomes()
    queue = QueuedDelivery(inner, on_outcome=outcomes, delays=(0.01, 0.01))
    queue.send(email_code())  # fails twice, the third try goes through
    assert queue.drain(timeout=5)
    assert len(inner.tries) == 3 and len(inner.sent) == 1
    assert outcomes.seen == [(EMAIL, True, "")]

    inner.failures = 5  # more than the three tries
    queue.send(email_code())
    assert queue.drain(timeout=5)
    assert len(inner.tries) == 6 and len(inner.sent) == 1
    assert outcomes.seen[-1] == (EMAIL, False, "gateway: HTTP 503")
    assert "not delivered after 3 tries" in caplog.text
    assert CODE not in caplog.text and SPACED not in caplog.text and EMAIL not in caplog.text
    queue.close(timeout=5)


def test_a_message_waiting_for_a_retry_does_not_hold_up_the_next() -> None:
    inner, outcomes = Flaky(always=frozenset({"dead@example.net"})), Outcomes()
    queue = QueuedDelivery(inner, on_outcome=outcomes, delays=(0.3, 0.3))
    queue.send(code_message("email", "dead@example.net", CODE, "X", "reset", 10))
    queue.send(email_code())
    assert queue.drain(timeout=5)
    assert [(r, ok) for r, ok, _ in outcomes.seen] == [(EMAIL, True), ("dead@example.net", False)]
    queue.close(timeout=5)


def test_a_broken_delivery_or_callback_does_not_stop_the_worker(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = RuntimeError(f"boom {CODE}")  # an exception text is not trusted: it may quote
    inner, outcomes = Flaky(error=secret), Outcomes()
    queue = QueuedDelivery(inner, on_outcome=outcomes, delays=())
    queue.send(email_code())
    assert queue.drain(timeout=5)
    assert outcomes.seen == [(EMAIL, False, "unexpected error (RuntimeError)")]
    assert CODE not in caplog.text

    def broken(message: Message, ok: bool, reason: str) -> None:
        raise ValueError(message.body)

    inner.error = None
    queue.on_outcome = broken
    queue.send(email_code())
    queue.send(email_code())
    assert queue.drain(timeout=5)
    assert len(inner.sent) == 2 and CODE not in caplog.text
    queue.close(timeout=5)


def test_close_stops_the_worker_and_a_later_send_starts_another() -> None:
    inner = Flaky(delay=0.1)
    queue = QueuedDelivery(inner)
    queue.send(email_code())
    queue.send(email_code())
    worker = queue._thread
    assert worker is not None and worker.is_alive()
    assert queue.close(timeout=5)  # waits for what was queued
    assert len(inner.sent) == 2 and not worker.is_alive()
    queue.send(email_code())
    assert queue.drain(timeout=5) and len(inner.sent) == 3
    assert queue.close(timeout=5)


def test_short_reason_keeps_the_address_and_codes_out() -> None:
    message = email_code()
    reason = f"SMTP {HOST}:2525: recipient <{EMAIL}> refused ({SPACED}, +4915112345678)\r\nX"
    text = short_reason(message, reason)
    assert EMAIL not in text and SPACED not in text and "4915112345678" not in text
    assert "\r" not in text and "\n" not in text
    assert text.startswith(f"SMTP {HOST}:2525: recipient <the recipient> refused")
    assert len(short_reason(message, "x" * 1000)) <= 160


def test_queued_messages_go_out_before_the_interpreter_exits(tmp_path: Path) -> None:
    """`kiosk admin` notifies and exits at once: the queue is drained at exit."""
    import subprocess
    import sys

    marker = tmp_path / "sent.txt"
    script = f"""
import pathlib, time
from kiosk.engine.delivery_queue import QueuedDelivery
from kiosk.engine.messages import code_message

class Slow:
    def send(self, message):
        time.sleep(0.3)
        pathlib.Path({str(marker)!r}).write_text(message.recipient)

QueuedDelivery(Slow()).send(code_message("email", "a@example.net", "12345678", "X", "reset", 10))
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    assert marker.read_text() == "a@example.net"
