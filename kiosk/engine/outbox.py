"""The outbox delivery: messages kept in the database instead of sent (demo, training, tests)."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select

from kiosk.engine.clock import Clock
from kiosk.engine.delivery_base import Message
from kiosk.engine.schema import outbox


class OutboxDelivery:
    def __init__(self, db: Engine, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def send(self, message: Message) -> None:
        with self._db.begin() as conn:
            conn.execute(insert(outbox).values(
                created_at=self._clock.now(), channel=message.channel,
                recipient=message.recipient, subject=message.subject, body=message.body,
                purpose=message.purpose))

    def latest(self, limit: int = 20) -> list[dict[str, object]]:
        with self._db.connect() as conn:
            rows = conn.execute(select(outbox).order_by(outbox.c.id.desc()).limit(limit))
            return [dict(r._mapping) for r in rows]
