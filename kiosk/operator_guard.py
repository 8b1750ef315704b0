"""The UI side of the operator exit's limit.

The kiosk checks the passphrase itself (its argon2 hash is in the kiosk's own policy); the
engine keeps this terminal's count of wrong ones, the wait and the audit trail (Backend
`operator_gate` / `operator_exit`, kiosk/engine/operator.py), so neither closing the dialog
nor restarting the kiosk starts anything over. While the backend cannot answer, the kiosk
counts the tries it could not report in memory by the same rule, and the stricter of the two
waits holds.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pydantic models load when the operator asks, not before the first frame
    from kiosk.backend import Backend, OperatorExitState

log = logging.getLogger("kiosk.ui")

CALL_TIMEOUT = 15.0  # seconds; the remote backend gives up sooner on its own


@dataclass(frozen=True)
class OperatorExit:
    """The operator's way out: a key, then a passphrase checked against an argon2 hash."""

    key: str
    passphrase_hash: str

    def verify(self, passphrase: str) -> bool:
        # imported here: a kiosk on a remote API loads no argon2 unless the operator exit is used
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return PasswordHasher().verify(self.passphrase_hash, passphrase)
        except (VerificationError, InvalidHashError):
            return False


class OperatorGuard:
    def __init__(self, backend: Backend, clock: Callable[[], datetime]) -> None:
        self.backend = backend
        self.clock = clock
        self.unreported = 0  # wrong passphrases the backend did not record
        self.last_unreported: datetime | None = None

    async def gate(self) -> OperatorExitState:
        """Whether a passphrase may be checked now (`retry_after` 0)."""
        from kiosk.backend import OperatorExitState

        state = await self._ask(self.backend.operator_gate(), "operator_gate")
        local = self._local_wait()
        if state is None:
            return OperatorExitState(failures=self.unreported, retry_after=local)
        return state.model_copy(update={"retry_after": max(state.retry_after, local)})

    async def report(self, ok: bool) -> OperatorExitState:
        """Record one passphrase checked; `may_exit` says whether the kiosk may close."""
        from kiosk.backend import OperatorExitState

        state = await self._ask(self.backend.operator_exit(ok), "operator_exit")
        if state is None:
            log.warning("operator exit: %s passphrase not recorded (the backend did not "
                        "answer)", "right" if ok else "wrong")
            if ok and self._local_wait() == 0:
                state = OperatorExitState(may_exit=True)
            elif ok:
                state = OperatorExitState(failures=self.unreported,
                                          retry_after=self._local_wait())
            else:
                self.unreported += 1
                self.last_unreported = self.clock()
                state = OperatorExitState(failures=self.unreported,
                                          retry_after=self._local_wait())
        elif ok and not state.may_exit:
            state = state.model_copy(update={"retry_after": max(state.retry_after,
                                                                 self._local_wait())})
        if state.may_exit:
            self.unreported, self.last_unreported = 0, None
            log.info("operator exit: right passphrase")
        elif not ok:
            log.info("operator exit: wrong passphrase (%d in a row)", state.failures)
        return state

    @staticmethod
    async def _ask(call: Awaitable[OperatorExitState], what: str) -> OperatorExitState | None:
        try:
            return await asyncio.wait_for(call, timeout=CALL_TIMEOUT)
        except Exception as exc:  # never fail the exit over it: count here instead
            log.warning("operator exit: %s failed (%s)", what, type(exc).__name__)
            return None

    def _local_wait(self) -> int:
        if self.last_unreported is None:
            return 0
        from kiosk.engine.operator import wait_after  # the engine's rule (only when needed)

        left = (self.last_unreported - self.clock()).total_seconds()
        return max(0, math.ceil(left + wait_after(self.unreported)))
