"""EmbeddedBackend: the Backend protocol served in-process by the engine.

Engine calls are synchronous (database, argon2); each runs in a worker thread so the UI's
event loop never stalls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from kiosk.backend import (
    AuthenticatorEnrollment,
    Branding,
    Channel,
    FlowState,
    MethodKind,
    OperatorExitState,
    OutboxMessage,
    PasswordCheck,
    Purpose,
    Question,
    QuestionAnswer,
)
from kiosk.engine.engine import Engine

T = TypeVar("T")


class EmbeddedBackend:
    def __init__(self, engine: Engine, terminal: str = "console:local") -> None:
        self.engine = engine
        self.terminal = terminal

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.to_thread(fn, *args)

    async def branding(self) -> Branding:
        return self.engine.branding()

    async def start(self, purpose: Purpose, username: str) -> FlowState:
        return await self._run(self.engine.start, purpose, username, self.terminal)

    async def send_code(self, flow_id: str, method: MethodKind, channel: Channel) -> FlowState:
        return await self._run(self.engine.send_code, flow_id, self.terminal, method, channel)

    async def verify_code(self, flow_id: str, challenge_id: str, code: str) -> FlowState:
        return await self._run(self.engine.verify_code, flow_id, self.terminal, challenge_id,
                               code)

    async def questions(self, flow_id: str) -> FlowState:
        return await self._run(self.engine.questions, flow_id, self.terminal)

    async def answer(self, flow_id: str, answers: list[str]) -> FlowState:
        return await self._run(self.engine.answer, flow_id, self.terminal, answers)

    async def verify_totp(self, flow_id: str, code: str) -> FlowState:
        return await self._run(self.engine.verify_totp, flow_id, self.terminal, code)

    async def verify_pass(self, flow_id: str, access_pass: str) -> FlowState:
        return await self._run(self.engine.verify_pass, flow_id, self.terminal, access_pass)

    async def check_password(self, flow_id: str, password: str) -> PasswordCheck:
        return await self._run(self.engine.check_password, flow_id, self.terminal, password)

    async def set_password(self, flow_id: str, password: str) -> FlowState:
        return await self._run(self.engine.set_password, flow_id, self.terminal, password)

    async def unlock(self, flow_id: str) -> FlowState:
        return await self._run(self.engine.unlock, flow_id, self.terminal)

    async def cancel(self, flow_id: str) -> FlowState:
        return await self._run(self.engine.cancel, flow_id, self.terminal)

    async def sign_in(self, flow_id: str, password: str) -> FlowState:
        return await self._run(self.engine.sign_in, flow_id, self.terminal, password)

    async def question_pool(self, flow_id: str) -> list[Question]:
        return await self._run(self.engine.question_pool, flow_id, self.terminal)

    async def add_email(self, flow_id: str, address: str) -> FlowState:
        return await self._run(self.engine.add_email, flow_id, self.terminal, address)

    async def add_phone(self, flow_id: str, kind: MethodKind, number: str,
                        channel: Channel) -> FlowState:
        return await self._run(self.engine.add_phone, flow_id, self.terminal, kind, number,
                               channel)

    async def confirm_contact(self, flow_id: str, challenge_id: str, code: str) -> FlowState:
        return await self._run(self.engine.confirm_contact, flow_id, self.terminal,
                               challenge_id, code)

    async def set_questions(self, flow_id: str, entries: list[QuestionAnswer]) -> FlowState:
        return await self._run(self.engine.set_questions, flow_id, self.terminal, entries)

    async def begin_authenticator(self, flow_id: str) -> AuthenticatorEnrollment:
        return await self._run(self.engine.begin_authenticator, flow_id, self.terminal)

    async def confirm_authenticator(self, flow_id: str, code: str) -> FlowState:
        return await self._run(self.engine.confirm_authenticator, flow_id, self.terminal, code)

    async def finish_registration(self, flow_id: str) -> FlowState:
        return await self._run(self.engine.finish_registration, flow_id, self.terminal)

    async def operator_gate(self) -> OperatorExitState:
        return await self._run(self.engine.operator_gate, self.terminal)

    async def operator_exit(self, ok: bool) -> OperatorExitState:
        return await self._run(self.engine.operator_exit, self.terminal, ok)

    async def outbox(self, limit: int = 20) -> list[OutboxMessage]:
        return await self._run(self.engine.outbox_messages, limit)

    async def close(self) -> None:
        # queued messages (a reset notice sent in the visit's last seconds) go out first: an
        # SSH session's process ends with os._exit, which skips the queue's exit-time drain
        close_delivery = getattr(self.engine.delivery, "close", None)
        if close_delivery is not None:
            await self._run(close_delivery, 10)
        await self._run(self.engine.db.dispose)
