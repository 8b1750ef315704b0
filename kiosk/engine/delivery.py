"""Message delivery: the interface the engine sends through, and the real implementations.

- `SmtpDelivery` (kiosk.engine.delivery_smtp): email.
- `GatewayDelivery` (kiosk.engine.delivery_gateway): texts and voice calls over a signed HTTP POST.
- `RoutingDelivery`: one Delivery for all channels, routing by `Message.channel`.
- The outbox (messages kept in the database for demo mode) lives with the engine's storage.

Every failure is a `DeliveryError` whose text is safe to audit and show an operator: it names what
failed (host, stage, status) and never holds the body, hence never the code.
"""

from __future__ import annotations

from kiosk.engine import config
from kiosk.engine.delivery_base import CHANNELS, PURPOSES, Delivery, DeliveryError, Message
from kiosk.engine.delivery_gateway import GatewayDelivery
from kiosk.engine.delivery_smtp import SmtpDelivery

__all__ = [
    "CHANNELS",
    "PURPOSES",
    "Delivery",
    "DeliveryError",
    "GatewayDelivery",
    "Message",
    "RoutingDelivery",
    "SmtpDelivery",
    "build_delivery",
]


class RoutingDelivery:
    """Email to one delivery, texts and calls to another."""

    def __init__(self, email: Delivery, phone: Delivery) -> None:
        self.email = email
        self.phone = phone

    def send(self, message: Message) -> None:
        target = self.email if message.channel == "email" else self.phone
        target.send(message)


def build_delivery(cfg: config.Delivery, outbox: Delivery) -> Delivery:
    """The delivery the policy asks for: the engine's outbox, or SMTP + the phone gateway."""
    if cfg.kind == "outbox":
        return outbox
    return RoutingDelivery(SmtpDelivery(cfg.smtp), GatewayDelivery(cfg.gateway))
