"""Email over SMTP (stdlib smtplib): STARTTLS or implicit TLS, optional login, a timeout.

One connection per message: codes are rare and a fresh connection has no state to go stale,
which also makes `send` safe to call from several worker threads at once.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

from kiosk.engine.config import Smtp
from kiosk.engine.delivery_base import DeliveryError, Message
from kiosk.engine.secret_files import smtp_password

_ENHANCED = re.compile(rb"^\s*([245]\.\d{1,3}\.\d{1,3})")


def _mailbox(text: str, what: str) -> Address:
    """Exactly one mailbox ('a@b.org' or 'Name <a@b.org>'), or DeliveryError.

    A header holding two addresses would send to both, so lists are refused, not trimmed.
    """
    if "\r" in text or "\n" in text:
        raise DeliveryError(f"{what} address contains a line break")
    found = getaddresses([text])
    if len(found) != 1 or not found[0][1]:
        raise DeliveryError(f"{what} address is not a single email address")
    name, spec = found[0]
    try:
        # addr_spec parsing is strict: it refuses anything left over
        return Address(display_name=name, addr_spec=spec)
    except (ValueError, IndexError, HeaderParseError):
        raise DeliveryError(f"{what} address is not a valid email address") from None


def _recipient(text: str) -> Address:
    """A bare address, as the directory stores it: no display name, no list."""
    if "\r" in text or "\n" in text:
        raise DeliveryError("recipient address contains a line break")
    try:
        return Address(addr_spec=text.strip())
    except (ValueError, IndexError, HeaderParseError):
        raise DeliveryError("recipient address is not a single email address") from None


def build_email(message: Message, from_address: str) -> EmailMessage:
    """The MIME message: plain text, plus HTML as multipart/alternative when there is some."""
    sender = _mailbox(from_address, "sender (delivery.smtp.from_address)")
    recipient = _recipient(message.recipient)
    if "\r" in message.subject or "\n" in message.subject:
        raise DeliveryError("subject contains a line break")
    email = EmailMessage()
    email["From"] = sender
    email["To"] = recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(datetime.now(UTC))
    # make_msgid() would ask DNS for our FQDN; the sender's domain is known and is ours
    email["Message-ID"] = make_msgid(domain=sender.domain or "localhost")
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the kiosk
    # quoted-printable: safe through any relay, and a short line like "1234 5678" stays readable
    email.set_content(message.body, cte="quoted-printable")
    if message.html is not None:
        email.add_alternative(message.html, subtype="html", cte="quoted-printable")
    return email


def _reply(exc: smtplib.SMTPResponseException) -> str:
    """The status only: the server's text may quote what we sent."""
    raw = exc.smtp_error if isinstance(exc.smtp_error, bytes) else b""
    match = _ENHANCED.match(raw)
    return f"{exc.smtp_code} {match.group(1).decode()}" if match else str(exc.smtp_code)


class SmtpDelivery:
    def __init__(self, cfg: Smtp) -> None:
        self._cfg = cfg
        # password_file, KIOSK_SMTP_PASSWORD or password; a PolicyError names a bad file
        self._password = smtp_password(cfg)

    def _tls_context(self) -> ssl.SSLContext:
        # the default context verifies the certificate and the host name; ca_file replaces the
        # system trust store for sites whose relay uses a private CA
        return ssl.create_default_context(cafile=self._cfg.ca_file or None)

    def _open(self, context: ssl.SSLContext | None) -> smtplib.SMTP:
        cfg = self._cfg
        if cfg.security == "tls":
            return smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=context
            )
        return smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)

    def send(self, message: Message) -> None:
        cfg = self._cfg
        if message.channel != "email":
            raise DeliveryError(f"SMTP delivery cannot send a {message.channel!r} message")
        if not cfg.host:
            raise DeliveryError("email delivery is not configured (delivery.smtp.host is empty)")
        if cfg.username and cfg.security == "none":
            raise DeliveryError(
                "refusing to send SMTP credentials without TLS (delivery.smtp.security = 'none')"
            )
        where = f"SMTP {cfg.host}:{cfg.port}"
        stage = "compose"
        try:
            email = build_email(message, cfg.from_address)  # DeliveryError passes through
            stage = "TLS setup"
            context = self._tls_context() if cfg.security != "none" else None
            stage = "connect"
            with self._open(context) as smtp:
                if cfg.security == "starttls":
                    stage = "STARTTLS"
                    # raises SMTPNotSupportedError when not offered: never fall back to plain text
                    smtp.starttls(context=context)
                if cfg.username:
                    stage = "login"
                    smtp.login(cfg.username, self._password)
                stage = "send"
                smtp.send_message(email)
        except (OSError, ValueError) as exc:  # smtplib's and ssl's errors are OSErrors
            raise DeliveryError(f"{where}: {_why(exc, stage, cfg)}") from None


def _why(exc: OSError | ValueError, stage: str, cfg: Smtp) -> str:
    """What went wrong, in words an operator can act on (never the password); most specific
    class first, since smtplib's and ssl's errors are OSErrors."""
    # a read timeout: smtplib turns it into a disconnect
    timed_out = isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc)
    if timed_out or isinstance(exc, TimeoutError):
        return f"{stage} timed out after {cfg.timeout_seconds:g} s"
    match exc:
        case smtplib.SMTPRecipientsRefused():
            codes = ", ".join(sorted({str(code) for code, _ in exc.recipients.values()}))
            return f"recipient refused ({codes})"
        case smtplib.SMTPSenderRefused():
            return f"sender address refused ({_reply(exc)})"
        case smtplib.SMTPAuthenticationError():
            return f"login failed for user {cfg.username!r} ({_reply(exc)})"
        case smtplib.SMTPResponseException():
            return f"{stage} failed, server replied {_reply(exc)}"
        case smtplib.SMTPNotSupportedError():
            return f"{stage} failed, the server does not offer it"
        case smtplib.SMTPServerDisconnected():
            return f"{stage} failed, the server closed the connection"
        case smtplib.SMTPException():
            return f"{stage} failed ({type(exc).__name__})"
        case ssl.SSLCertVerificationError():
            return f"{stage} failed, certificate not trusted ({exc.verify_message})"
        case ssl.SSLError():
            return f"{stage} failed, TLS error ({exc.reason})"
        case socket.gaierror():
            return f"cannot resolve host {cfg.host!r}"
        case OSError():
            return f"{stage} failed ({exc.strerror or type(exc).__name__})"
    return f"{stage} failed (a value could not be encoded)"  # e.g. a name smtplib cannot encode
