"""One verifier per method kind, behind one small protocol.

Each kind says whether an account has it registered (what may be offered) and how its
contact is masked; its own module holds how a proof of it begins and is checked (codes are
sent and compared, questions drawn and hashed, authenticator codes matched to a time step).
Adding a kind means adding a module here, its screen and its strings.
"""

from __future__ import annotations

from typing import Protocol

from kiosk.backend import Channel, InvalidInput, MethodKind
from kiosk.backend.vocabulary import member
from kiosk.engine.config import Policy
from kiosk.engine.methods.access_pass import AccessPassMethod
from kiosk.engine.methods.authenticator import AuthenticatorMethod
from kiosk.engine.methods.codes import ContactMethod
from kiosk.engine.methods.questions import QuestionsMethod
from kiosk.engine.registry import Registered


class Method(Protocol):
    kind: str
    channels: list[Channel]  # how a code reaches the person (none: nothing is sent)

    def registered(self, reg: Registered, policy: Policy, *, before_proof: bool) -> bool:
        """Whether the account has this method, so that it may be offered."""
        ...

    def mask(self, value: str) -> str:
        """The registered value as shown before any proof ("" when there is none to show)."""
        ...


# one verifier per kind of the vocabulary, in its order (a test checks both)
METHODS: dict[str, Method] = {m.kind: m for m in (
    # the office phone is voice only and gets no notices
    ContactMethod(MethodKind.EMAIL, [Channel.EMAIL], notice=Channel.EMAIL),
    ContactMethod(MethodKind.MOBILE, [Channel.TEXT, Channel.CALL], notice=Channel.TEXT),
    ContactMethod(MethodKind.OFFICE, [Channel.CALL]),
    QuestionsMethod(),
    AuthenticatorMethod(),
    AccessPassMethod(),  # issued by the helpdesk, never registered
)}

CHANNELS_OF: dict[str, list[Channel]] = {kind: m.channels for kind, m in METHODS.items()}
# the channel notices take to each contact kind that gets them
NOTICE_CHANNELS: dict[str, Channel] = {kind: m.notice for kind, m in METHODS.items()
                                       if isinstance(m, ContactMethod) and m.notice}


def kind_and_channel(kind: object, channel: object, allowed: tuple[str, ...], field: str,
                     refusal: str) -> tuple[str, Channel]:
    """A method kind among `allowed` and one of its channels, or InvalidInput naming `field`."""
    try:
        method, chan = member(MethodKind, kind), member(Channel, channel)
    except ValueError:
        raise InvalidInput(f"unknown {field} or channel", field=field) from None
    if method.value not in allowed or chan not in CHANNELS_OF[method.value]:
        raise InvalidInput(refusal, field="channel")
    return method.value, chan
