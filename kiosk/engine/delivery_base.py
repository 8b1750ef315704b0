"""What every delivery shares: the message, the error, the protocol.

Kept apart from `delivery.py` so the SMTP and gateway modules can import it without a cycle;
import these names from `kiosk.engine.delivery`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from kiosk.backend import Channel

if TYPE_CHECKING:
    from kiosk.engine.audit import AuditContext

CHANNELS: frozenset[str] = frozenset(channel.value for channel in Channel)
PURPOSES: frozenset[str] = frozenset({"code", "notification", "alert"})


@dataclass(frozen=True)
class Message:
    channel: Channel
    recipient: str  # email address or E.164 phone number
    subject: str  # email subject; short label for text/call
    body: str  # plain text (for "call": the script read out by the voice gateway)
    html: str | None = None  # email only
    purpose: str = "code"  # "code" | "notification" | "alert"
    # the flow it belongs to, for the audit of its delivery (a queued delivery reports later);
    # `method` is the registered method it goes to ("email", "mobile", ...); both optional
    context: AuditContext | None = None
    method: str = ""

    def __post_init__(self) -> None:
        # a wrong channel or purpose is a programming error: fail where the message is made
        if self.channel not in CHANNELS:
            raise ValueError(f"Message.channel must be one of {sorted(CHANNELS)}")
        if self.purpose not in PURPOSES:
            raise ValueError(f"Message.purpose must be one of {sorted(PURPOSES)}")
        if self.html is not None and self.channel != "email":
            raise ValueError("Message.html is for email only")

    def __repr__(self) -> str:
        # the body carries the code: keep it out of logs and tracebacks
        return (
            f"Message(channel={self.channel!r}, recipient={self.recipient!r}, "
            f"subject={self.subject!r}, purpose={self.purpose!r})"
        )


class DeliveryError(Exception):
    """A message could not be sent. The text says what failed and never holds the body."""


@runtime_checkable
class Delivery(Protocol):
    def send(self, message: Message) -> None:
        """Send synchronously; raise DeliveryError. (The engine wraps real deliveries in a
        QueuedDelivery, so the relay's time and failures never reach the person's answer.)"""
        ...
