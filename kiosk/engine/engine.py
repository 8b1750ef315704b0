"""The Engine: every operation of the flow state machine in one object.

Split by concern across modules (service → verify → complete → registration), each adding
its steps to the one before; this class is the finished whole.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.backend import OperatorExitState
from kiosk.engine.config import Policy, load_policy
from kiosk.engine.operator import OperatorExits
from kiosk.engine.registration import Registration


class Engine(Registration):
    """Headless SSPR engine. Construct with a validated Policy (see kiosk.engine.config)."""

    # the kiosk's operator exit: this terminal's count, wait and audit trail (engine/operator.py)
    def operator_gate(self, terminal: str) -> OperatorExitState:
        return OperatorExits(self).gate(terminal)

    def operator_exit(self, terminal: str, ok: object) -> OperatorExitState:
        return OperatorExits(self).record(terminal, ok)


def open_engine(policy_file: str | Path | None = None, **overrides: object) -> Engine:
    policy: Policy = load_policy(policy_file, **overrides)
    return Engine(policy)
