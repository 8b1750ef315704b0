"""The one place that maps a flow step to a screen, and decides how it joins the stack.

The engine decides the order of steps; the UI only shows the step it is told. The stack is
arranged so Escape means "back one step":

    Welcome → Identify → flow screen (choose method / sign in / new password / ...)
                                   └→ verification screen (code, questions, authenticator)

A verification screen sits on top of the method choice, so Escape returns to it to pick
another method. Every other step replaces what is above the Identify screen; Escape there
cancels the flow (back to the username). Registration keeps its overview underneath the
add-contact, questions and authenticator screens.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App
from textual.screen import Screen

from kiosk.backend import Step
from kiosk.screens.base import FlowScreen
from kiosk.screens.host import StartOver
from kiosk.screens.identify import IdentifyScreen

if TYPE_CHECKING:
    from kiosk.backend import FlowState


@cache
def flow_screens() -> dict[Step, type[FlowScreen]]:
    """Each step's screen. The flow's screens (and the pydantic models they use) are imported
    on the first flow step: the welcome screen's first frame needs none of them."""
    from kiosk.screens.outcome import DoneScreen, UnlockScreen
    from kiosk.screens.password import NewPasswordScreen, SignInScreen
    from kiosk.screens.register import RegistrationScreen
    from kiosk.screens.verify import (
        ChooseMethodScreen,
        EnterCodeScreen,
        QuestionsScreen,
        TotpScreen,
    )

    return {
        Step.SIGN_IN: SignInScreen,
        Step.CHOOSE_METHOD: ChooseMethodScreen,
        Step.VERIFY_CODE: EnterCodeScreen,
        Step.ANSWER_QUESTIONS: QuestionsScreen,
        Step.VERIFY_TOTP: TotpScreen,
        Step.NEW_PASSWORD: NewPasswordScreen,
        Step.UNLOCK: UnlockScreen,
        Step.REGISTER: RegistrationScreen,
        Step.DONE: DoneScreen,
    }

S = TypeVar("S", bound=Screen)

VERIFY = (Step.VERIFY_CODE, Step.ANSWER_QUESTIONS, Step.VERIFY_TOTP)


async def place_for_state(app: App[Any], state: FlowState) -> None:
    from kiosk.screens.register import AddContactScreen, RegistrationScreen
    from kiosk.screens.verify import ChooseMethodScreen, EnterCodeScreen

    screens = flow_screens()
    top = app.screen
    step = state.step

    # the same step again (a new question set, a resent code): redraw in place
    if isinstance(top, FlowScreen) and type(top) is screens.get(step) and step != Step.REGISTER:
        await top.update_state(state)
        return

    if step in VERIFY:
        if not isinstance(top, ChooseMethodScreen):
            await _replace_above_anchor(app, ChooseMethodScreen(state))
        await app.push_screen(screens[step](state))
        return

    if step == Step.REGISTER:
        # a contact was added: confirm it with the code that was just sent
        if state.challenge is not None and isinstance(top, AddContactScreen):
            await app.push_screen(EnterCodeScreen(state, confirm=True, resend=top.resend))
            return
        if isinstance(top, EnterCodeScreen) and top.confirm and state.challenge is not None:
            await top.update_state(state)
            return
        if any(isinstance(s, RegistrationScreen) for s in app.screen_stack):
            hub = await _pop_to(app, RegistrationScreen)
            await hub.update_state(state)
            return

    if step == Step.CHOOSE_METHOD and any(
        isinstance(s, ChooseMethodScreen) for s in app.screen_stack
    ):
        # a gate was passed and another is needed: back to the choice, redrawn
        chooser = await _pop_to(app, ChooseMethodScreen)
        await chooser.update_state(state)
        return

    screen_type = screens.get(step)
    if screen_type is None:
        app.post_message(StartOver())
        return
    await _replace_above_anchor(app, screen_type(state))


async def _pop_to(app: App[Any], screen_type: type[S]) -> S:
    """Pop screens until the one of `screen_type` (which is on the stack) is on top."""
    screen = app.screen
    while not isinstance(screen, screen_type):
        await app.pop_screen()
        screen = app.screen
    return screen


async def _replace_above_anchor(app: App[Any], screen: FlowScreen) -> None:
    """Drop every flow screen above the Identify screen, then show `screen`."""
    if any(isinstance(s, IdentifyScreen) for s in app.screen_stack):
        while not isinstance(app.screen, IdentifyScreen):
            await app.pop_screen()
    await app.push_screen(screen)
