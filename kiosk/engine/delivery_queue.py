"""Queued delivery: `send` only enqueues; one worker thread talks to the relay.

The answer to "send me a code" must not depend on the relay: a real account and a decoy (which
sends nothing) answer in the same time and the same way, also when the relay is slow or down
(DESIGN.md, "Enumeration safety"). So the engine's real deliveries (SMTP, the phone gateway) are
wrapped in a `QueuedDelivery`: `send` puts the message on an in-process queue and returns at
once; a daemon worker, started on the first message, sends it through the inner delivery,
retries a failed try after a pause (1 s, then 4 s: three tries), and reports each final outcome
to `on_outcome(message, ok, reason)`. The engine's callback (`audit_outcomes`) writes it to the
audit log under the flow's correlation id (`Message.context`).

The outbox delivery (demo mode) is never wrapped: it is a database insert and the demo panel
shows the code at once.

A message body holds a code: nothing here logs or audits one. Failure reasons come from
`DeliveryError` (whose text never holds the body) and are scrubbed of the recipient and of any
long run of digits before they are audited.
"""

from __future__ import annotations

import atexit
import heapq
import itertools
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kiosk.engine import audit
from kiosk.engine.audit import Activity, Result
from kiosk.engine.delivery_base import Delivery, DeliveryError, Message

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from kiosk.engine.clock import Clock

log = logging.getLogger("kiosk.engine.delivery")

OutcomeCallback = Callable[[Message, bool, str], None]
RETRY_DELAYS: tuple[float, ...] = (1.0, 4.0)  # pauses before the second and the third try
SHUTDOWN_SECONDS = 10.0  # at interpreter exit, wait this long at most for queued messages

_queues: weakref.WeakSet[QueuedDelivery] = weakref.WeakSet()


class QueuedDelivery:
    """A Delivery whose `send` enqueues and returns; a worker thread sends, retries, reports.

    `delays` are the pauses before each retry (so `len(delays) + 1` tries); tests set shorter
    ones. Retries wait in the queue, not in the worker: a message whose relay is down does not
    hold up the next one. `drain(timeout)` waits until everything queued so far was sent or
    given up; `close(timeout)` drains and stops the worker (a later `send` starts a new one).
    """

    def __init__(
        self,
        inner: Delivery,
        *,
        on_outcome: OutcomeCallback | None = None,
        delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.inner = inner
        self.on_outcome = on_outcome
        self.delays: tuple[float, ...] = tuple(delays)
        self._reset()
        _queues.add(self)

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._cond = threading.Condition(threading.Lock())
        # (due on time.monotonic(), order, message, tries made so far)
        self._heap: list[tuple[float, int, Message, int]] = []
        self._order = itertools.count()
        self._pending = 0  # queued, waiting for a retry, or being sent
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ the Delivery interface
    def send(self, message: Message) -> None:
        if self._pid != os.getpid():
            # a forked child: the parent's worker (and maybe its lock) did not come along, and
            # what the parent queued is the parent's to send
            self._reset()
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic(), next(self._order), message, 0))
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="kiosk-delivery", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    # ------------------------------------------------------------ tests and shutdown
    @property
    def pending(self) -> int:
        with self._cond:
            return self._pending

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every message queued so far is delivered or given up; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float | None = SHUTDOWN_SECONDS) -> bool:
        """Let the worker finish what is queued (up to `timeout`), then stop it.

        True when everything was sent or given up. On a timeout the worker (a daemon thread)
        keeps going until the process ends."""
        with self._cond:
            self._stopping = True
            worker = self._thread
            self._cond.notify_all()
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)
        with self._cond:
            done = self._pending == 0
            if done:
                self._stopping = False
            return done

    # ------------------------------------------------------------ the worker
    def _next(self) -> tuple[Message, int] | None:
        """The next message that is due, or None when stopping with nothing left."""
        with self._cond:
            while True:
                if self._heap:
                    wait = self._heap[0][0] - time.monotonic()
                    if wait <= 0:
                        _, _, message, tries = heapq.heappop(self._heap)
                        return message, tries
                    self._cond.wait(wait)
                elif self._stopping:
                    self._thread = None
                    return None
                else:
                    self._cond.wait()

    def _work(self) -> None:
        while (item := self._next()) is not None:
            message, tries = item
            reason = self._try(message)
            tries += 1
            if reason is not None and tries <= len(self.delays):
                log.info("%s by %s: try %d failed, retrying in %g s: %s", message.purpose,
                         message.channel, tries, self.delays[tries - 1], reason)
                with self._cond:
                    due = time.monotonic() + self.delays[tries - 1]
                    heapq.heappush(self._heap, (due, next(self._order), message, tries))
                    self._cond.notify_all()
                continue
            if reason is not None:
                log.warning("%s by %s not delivered after %d tries: %s", message.purpose,
                            message.channel, tries, reason)
            self._report(message, reason is None, reason or "")
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()

    def _try(self, message: Message) -> str | None:
        """Send once: None when sent, else why not (never the body)."""
        try:
            self.inner.send(message)
        except DeliveryError as exc:
            return str(exc) or "delivery failed"
        except Exception as exc:  # a bug in a delivery must not kill the worker
            # the exception's text is not ours to trust (it might quote the message): type only
            return f"unexpected error ({type(exc).__name__})"
        return None

    def _report(self, message: Message, ok: bool, reason: str) -> None:
        if self.on_outcome is None:
            return
        try:
            self.on_outcome(message, ok, reason)
        except Exception as exc:
            log.warning("the outcome of a %s by %s was not recorded (%s)", message.purpose,
                        message.channel, type(exc).__name__)


@atexit.register
def _drain_at_exit() -> None:
    """Give queued messages (say, the notice of a reset just done) a moment to go out."""
    deadline = time.monotonic() + SHUTDOWN_SECONDS
    for queue in list(_queues):
        if queue._pid == os.getpid():
            queue.close(max(0.0, deadline - time.monotonic()))


# ---------------------------------------------------------------- the audit of each outcome

_LONG_NUMBER = re.compile(r"\+?\d[\d \-]{4,}\d")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
NOUNS = {"code": "code", "notification": "notice", "alert": "alert"}


def short_reason(message: Message, reason: str, limit: int = 160) -> str:
    """The failure, without the address, a phone number or anything that looks like a code."""
    text = _CONTROL.sub(" ", reason)
    if message.recipient:
        text = text.replace(message.recipient, "the recipient")
    text = _LONG_NUMBER.sub("…", text)
    text = " ".join(text.split())
    return (text[: limit - 1] + "…") if len(text) > limit else (text or "unknown reason")


def audit_outcomes(db: Engine, clock: Clock) -> OutcomeCallback:
    """The engine's outcome callback: one audit event per message that belongs to a flow."""

    def record(message: Message, ok: bool, reason: str) -> None:
        ctx = message.context
        if ctx is None:  # notices and alerts outside a flow: the log line is enough
            return
        noun = NOUNS.get(message.purpose, "message")
        detail = (f"{noun} delivered" if ok
                  else f"{noun} not delivered: {short_reason(message, reason)}")
        with db.begin() as conn:
            audit.record(conn, ctx, clock.now(), Activity.PROGRESS,
                         Result.SUCCEEDED if ok else Result.FAILED,
                         method=message.method or message.channel, detail=detail)

    return record
