"""A value learnt from the database and read again every few minutes, never per request (the
decoys' shape, the sign-in forms): start-up and identify stay fast."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import Connection

REFRESH = timedelta(minutes=10)

T = TypeVar("T")


class Learnt(Generic[T]):
    """`learn(conn)`'s result, kept for REFRESH; safe to share between visits' threads."""

    def __init__(self, learn: Callable[[Connection], T]) -> None:
        self._learn = learn
        self._value: T | None = None
        self._at: datetime | None = None
        self._lock = threading.Lock()

    def get(self, conn: Connection, now: datetime) -> T:
        with self._lock:
            if self._value is None or self._at is None or now - self._at > REFRESH:
                self._value = self._learn(conn)
                self._at = now
            return self._value

    def fresh(self, now: datetime) -> T | None:
        """The value while it is still fresh, without a connection; else None."""
        with self._lock:
            value, at = self._value, self._at
        return value if value is not None and at is not None and now - at <= REFRESH else None

    def forget(self) -> None:
        with self._lock:
            self._value = None
