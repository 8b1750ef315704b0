"""The Backend protocol: everything the UI may ask of the engine.

The UI never touches storage; it only calls these methods. `EmbeddedBackend`
(kiosk.adapters.embedded) serves them in-process, `RemoteBackend` (kiosk.adapters.remote) over
the HTTP API. Both follow the operation table (kiosk.backend.operations), which names each
call's route, so the two serve the same calls one to one.

No pydantic here (the answers' models are named for the type checker only): the UI builds
its backend before its first frame, so the deferred backend (kiosk.adapters.deferred) and the
remote client get their methods from the protocol's call names (`implement_calls`), and load
the table when a call needs it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from kiosk.backend.vocabulary import Channel, MethodKind, Purpose

if TYPE_CHECKING:
    from kiosk.backend.branding import Branding
    from kiosk.backend.types import (
        AuthenticatorEnrollment,
        FlowState,
        OperatorExitState,
        OutboxMessage,
        PasswordCheck,
        Question,
        QuestionAnswer,
    )

T = TypeVar("T")


@runtime_checkable
class Backend(Protocol):
    """What the UI calls. Every call checks the flow's step on the engine side."""

    async def branding(self) -> Branding: ...

    async def start(self, purpose: Purpose, username: str,
                    language: str | None = None) -> FlowState:
        """Identify the user; raises NotEligible / NotRegistered / Blocked. `language`: the
        visitor's, for the flow's codes and notices (None: the organisation's default)."""

    async def send_code(self, flow_id: str, method: MethodKind, channel: Channel) -> FlowState: ...

    async def verify_code(self, flow_id: str, challenge_id: str, code: str) -> FlowState: ...

    async def questions(self, flow_id: str) -> FlowState:
        """Draw (or return the current) question set."""

    async def answer(self, flow_id: str, answers: list[str]) -> FlowState: ...

    async def verify_totp(self, flow_id: str, code: str) -> FlowState: ...

    async def verify_pass(self, flow_id: str, access_pass: str) -> FlowState:
        """A temporary access pass from the helpdesk: one proof (see kiosk.engine.passes).
        Offered to everybody when the policy allows passes; a wrong one counts like a wrong
        code, and an account without a pass answers the same."""

    async def check_password(self, flow_id: str, password: str) -> PasswordCheck: ...

    async def set_password(self, flow_id: str, password: str) -> FlowState: ...

    async def unlock(self, flow_id: str) -> FlowState: ...

    async def cancel(self, flow_id: str) -> FlowState: ...

    # registration (purpose=register, after sign_in); sign_in also serves purpose=change
    async def sign_in(self, flow_id: str, password: str) -> FlowState: ...

    async def question_pool(self, flow_id: str) -> list[Question]: ...

    async def add_email(self, flow_id: str, address: str) -> FlowState: ...

    async def add_phone(
        self, flow_id: str, kind: MethodKind, number: str, channel: Channel
    ) -> FlowState: ...

    async def confirm_contact(self, flow_id: str, challenge_id: str, code: str) -> FlowState: ...

    async def set_questions(self, flow_id: str, entries: list[QuestionAnswer]) -> FlowState: ...

    async def begin_authenticator(self, flow_id: str) -> AuthenticatorEnrollment: ...

    async def confirm_authenticator(self, flow_id: str, code: str) -> FlowState: ...

    async def finish_registration(self, flow_id: str) -> FlowState: ...

    # the operator exit: the UI checks the passphrase (its hash is the kiosk's own), the
    # engine keeps this terminal's count, its wait and the audit trail
    async def operator_gate(self) -> OperatorExitState:
        """Whether a passphrase may be checked now (`retry_after` 0) or not yet."""

    async def operator_exit(self, ok: bool) -> OperatorExitState:
        """Record one passphrase tried (`ok`: it was right); the kiosk closes only when the
        answer's `may_exit` is true."""

    # demo / training mode only
    async def outbox(self, limit: int = 20) -> list[OutboxMessage]:
        """Messages the outbox delivery kept; raises NotAvailable outside demo mode."""

    async def close(self) -> None: ...


# the protocol's calls by name (all but `close`); the operation table has one row for each
CALLS: tuple[str, ...] = tuple(name for name, member in vars(Backend).items()
                               if inspect.iscoroutinefunction(member) and name != "close")


def implement_calls(factory: Callable[[str], Callable[..., Awaitable[Any]]]
                    ) -> Callable[[type[T]], type[T]]:
    """A class decorator: the class gets one method per call, made by `factory` from the
    call's name, and named, documented and signed like the protocol's own. (Adapters built
    from the operation table use kiosk.backend.operations.implement, which comes here.)"""
    def build(cls: type[T]) -> type[T]:
        for name in CALLS:
            declared = getattr(Backend, name)
            method = factory(name)
            method.__name__ = name
            method.__qualname__ = f"{cls.__qualname__}.{name}"
            method.__doc__ = declared.__doc__
            vars(method)["__signature__"] = inspect.signature(declared)  # not in typeshed
            setattr(cls, name, method)
        return cls
    return build


def as_backend(adapter: object) -> Backend:
    """An adapter built by `implement_calls` as the protocol it serves: a type checker cannot
    see the methods the decorator adds, so this checks them at run time instead."""
    if not isinstance(adapter, Backend):
        raise TypeError(f"{type(adapter).__name__} does not serve the Backend protocol")
    return adapter


def arguments(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """A call's arguments by name, defaults filled in (TypeError when they do not fit, as for
    any method)."""
    bound = inspect.signature(getattr(Backend, name)).bind(None, *args, **kwargs)
    bound.apply_defaults()
    return dict(list(bound.arguments.items())[1:])  # without `self`
