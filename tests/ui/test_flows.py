"""Every path of every demo user, driven through the real EmbeddedBackend with Pilot."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk.backend import Purpose
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.engine.totp import code_at
from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.outcome import DoneScreen, ProblemScreen, UnlockScreen
from kiosk.screens.password import NewPasswordScreen, SignInScreen
from kiosk.screens.register import (
    AddContactScreen,
    AuthenticatorScreen,
    RegistrationScreen,
    SetQuestionsScreen,
)
from kiosk.screens.verify import (
    ChannelDialog,
    ChooseMethodScreen,
    EnterCodeScreen,
    QuestionsScreen,
    TotpScreen,
)
from kiosk.screens.welcome import WelcomeScreen
from kiosk.widgets.inputs import CodeInput, KioskInput, SecureInput
from tests.support.pilot import (
    ANSWERS,
    BOB_TOTP_SECRET,
    NEW_PASSWORD,
    Drive,
    Kiosk,
    last_code,
    wrong,
)

ACTION = {Purpose.RESET: "1", Purpose.UNLOCK: "2", Purpose.REGISTER: "3", Purpose.CHANGE: "4"}


async def identify(k: Kiosk, purpose: Purpose, username: str) -> None:
    await k.at(WelcomeScreen)
    await k.press(ACTION[purpose])
    await k.at(IdentifyScreen)
    await k.type(username)
    await k.enter()


async def enter_code(k: Kiosk, code: str) -> None:
    await k.at(EnterCodeScreen)
    await k.type(code)
    await k.enter()


async def new_password(k: Kiosk, password: str = NEW_PASSWORD) -> None:
    await k.at(NewPasswordScreen)
    await k.paste(password)
    await k.enter()  # moves to the second field
    await k.paste(password)
    screen = k.app.screen
    assert isinstance(screen, NewPasswordScreen)
    await k.until(lambda: screen.valid, "the password to be valid")
    await k.enter()


def password_is(engine: Engine, username: str, password: str) -> bool:
    with engine.db.connect() as conn:
        user = engine.directory.find(conn, username)
    return engine.directory.verify_password(user, password)


# ---------------------------------------------------------------- alice: ordinary user


async def test_alice_reset_by_email(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "alice")
        await k.at(ChooseMethodScreen)
        assert "a•••@c•••.org" in k.text and "+1 •• •• ••42" in k.text
        await k.press("1")
        await k.at(EnterCodeScreen)
        assert "We emailed a code to a•••@c•••.org." in k.text
        code = last_code(engine, "alice@contoso.org")
        # the demo outbox panel shows the code that was "sent"
        await k.sees(f"{code[:4]} {code[4:]}")
        await enter_code(k, code)
        await new_password(k)
        await k.at(DoneScreen)
        await k.sees("Your password has been changed.")
    assert password_is(engine, "alice", NEW_PASSWORD)


async def test_alice_signs_in_with_her_email_address(drive: Drive, engine: Engine) -> None:
    """People type their sign-in email (issue 13): the hint names the accepted forms, and
    alice@contoso.org reaches alice's own methods and a code that really arrives."""
    async with drive() as k:
        await k.at(WelcomeScreen)
        await k.press(ACTION[Purpose.RESET])
        await k.at(IdentifyScreen)
        await k.sees("Type it as jsmith, jsmith@contoso.org or CONTOSO\\jsmith.")
        await k.type("alice@contoso.org")
        await k.enter()
        await k.at(ChooseMethodScreen)
        assert "a•••@c•••.org" in k.text and "+1 •• •• ••42" in k.text
        await k.press("1")
        await k.at(EnterCodeScreen)
        assert "We emailed a code to a•••@c•••.org." in k.text
        code = last_code(engine, "alice@contoso.org")
        await k.sees(f"{code[:4]} {code[4:]}")


async def test_alice_reset_by_text_and_by_call(
    drive: Drive, engine: Engine, clock: FrozenClock
) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "alice")
        await k.at(ChooseMethodScreen)
        await k.press("2")  # mobile: text or call?
        await k.at(ChannelDialog)
        await k.press("1")  # text
        await k.at(EnterCodeScreen)
        assert "text message" in k.text
        await k.press("escape")  # another method: the phone call
        await k.at(ChooseMethodScreen)
        await k.press("2")
        await k.at(ChannelDialog)
        await k.press("2")  # within the resend cooldown of the same phone: refused
        await k.sees("Please wait a moment")
        clock.advance(seconds=61)
        await k.press("2")
        await k.at(ChannelDialog)
        await k.press("2")  # call
        await k.at(EnterCodeScreen)
        assert "We are calling +1 •• •• ••42" in k.text
        await enter_code(k, last_code(engine, "+14255550142"))
        await k.at(NewPasswordScreen)


async def test_alice_questions_wrong_answers_draw_a_new_set(
    drive: Drive, engine: Engine
) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "alice")
        await k.at(ChooseMethodScreen)
        await k.press("3")
        screen = await k.at(QuestionsScreen)
        first_fields = list(screen.query(SecureInput))
        assert len(first_fields) == 3
        for _ in first_fields:
            await k.type("wrong answer")
            await k.enter()
        await k.sees("At least one answer was not right")
        screen = k.app.screen
        assert isinstance(screen, QuestionsScreen)
        # every field was rebuilt empty; nothing typed before survives
        assert all(f.value == "" for f in screen.query(SecureInput))
        assert all(not f.is_attached for f in first_fields)
        for question in screen.state.questions:
            await k.type(ANSWERS[question.id])
            await k.enter()
        await k.at(NewPasswordScreen)


async def test_alice_wrong_code_then_right(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "alice")
        await k.at(ChooseMethodScreen)
        await k.press("1")
        code = last_code(engine)
        await enter_code(k, wrong(code))
        await k.sees("That code is not right")
        assert isinstance(k.app.screen, EnterCodeScreen)
        assert k.app.screen.query_one(CodeInput).value == ""
        await k.press("1", "2", "3")
        await k.enter()
        await k.sees("Please enter all 8 digits.")
        await k.press("backspace", "backspace", "backspace")
        await enter_code(k, code)
        await k.at(NewPasswordScreen)


async def test_alice_expired_code_and_resend(
    drive: Drive, engine: Engine, clock: FrozenClock
) -> None:
    async with drive(idle_timeout=3600) as k:  # the clock jumps 11 minutes; no idle reset here
        await identify(k, Purpose.RESET, "alice")
        await k.at(ChooseMethodScreen)
        await k.press("1")
        await k.at(EnterCodeScreen)
        assert "The code is valid for 10:00 more." in k.text
        assert "You can ask for a new code in 1:00." in k.text
        await k.press("f5")  # too soon
        await k.sees("Please wait a moment")
        old = last_code(engine)
        clock.advance(minutes=11)
        await k.sees("The code has expired. Press F5 for a new one.")
        await enter_code(k, old)
        await k.sees("This code has expired.")
        await k.press("f5")
        await k.sees("A new code is on its way.")
        new = last_code(engine)
        await enter_code(k, new)
        await k.at(NewPasswordScreen)


async def test_alice_throttled_after_five_wrong_codes(
    drive: Drive, engine: Engine, clock: FrozenClock, berlin: None
) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "alice")
        await k.at(ChooseMethodScreen)
        await k.press("1")
        code = last_code(engine)
        for attempt in range(5):
            await enter_code(k, f"{(int(code) + attempt + 1) % 10**8:08d}")
            await k.until(lambda: not k.app._busy)
            if attempt < 3:
                await k.sees(f"{4 - attempt} tries left.")
            elif attempt == 3:  # the last try is announced as such
                await k.sees("1 try left: one more wrong")
        screen = await k.at(ProblemScreen)
        assert screen.kind == "blocked"
        await k.sees("Self-service is blocked for now")
        # 24 hours from now, in the terminal's time zone
        until = (clock.now() + timedelta(hours=24)).astimezone(ZoneInfo("Europe/Berlin"))
        await k.sees(f"You can try again after {until:%H:%M} tomorrow.")
        await k.sees("IT helpdesk, room 1.12")
        assert screen.support_code and f"Support code: {screen.support_code}" in k.text
        await k.enter()
        await k.at(WelcomeScreen)
        # still blocked for a new attempt
        await identify(k, Purpose.RESET, "alice")
        screen = await k.at(ProblemScreen)
        assert screen.kind == "blocked"


async def test_alice_change_password(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.CHANGE, "alice")
        await k.at(SignInScreen)
        await k.type("not-her-password")
        await k.enter()
        await k.sees("That password is not right.")
        await k.type("Alice-demo-pass-1")
        await k.enter()
        await new_password(k)
        await k.at(DoneScreen)
        await k.sees("Sign in with your new password from now on")
    assert password_is(engine, "alice", NEW_PASSWORD)


async def test_new_password_checklist_and_mismatch(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.CHANGE, "alice")
        await k.at(SignInScreen)
        await k.type("Alice-demo-pass-1")
        await k.enter()
        screen = await k.at(NewPasswordScreen)
        assert "· At least 12 characters" in k.text
        await k.type("password")
        await k.sees("✗ At least 12 characters")
        await k.sees("✗ Not a commonly used or forbidden password")
        await k.press(*"1234")  # "password1234": long enough, still banned
        await k.sees("✓ At least 12 characters")
        assert "✗ Not a commonly used" in k.text
        assert screen.query_one("#submit").disabled
        await k.press("enter", *"password1234", "enter")
        await k.sees("does not meet every rule yet")
        # a good password, typed differently the second time
        for field in screen.query(SecureInput):
            field.value = ""
        await k.focus("#pw1")
        await k.paste(NEW_PASSWORD)
        await k.enter()
        await k.paste(NEW_PASSWORD + "x")
        await k.enter()
        await k.sees("The two passwords are not the same.")
        assert "✗ Both entries are the same" in k.text, k.text
        # F2 shows what was typed, F2 hides it again
        await k.press("f2")
        await k.sees(NEW_PASSWORD + "x")
        await k.press("f2")
        assert NEW_PASSWORD not in k.text


async def test_history_rule_on_submit(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.CHANGE, "alice")
        await k.at(SignInScreen)
        await k.type("Alice-demo-pass-1")
        await k.enter()
        await new_password(k)
        await k.at(DoneScreen)
        await k.enter()
        await identify(k, Purpose.CHANGE, "alice")
        await k.at(SignInScreen)
        await k.paste(NEW_PASSWORD)
        await k.enter()
        await new_password(k)  # the same again: passes the live check, refused on submit
        await k.sees("That password cannot be used")
        await k.sees("✗ Not one of your last 5 passwords")
        assert isinstance(k.app.screen, NewPasswordScreen)


# ---------------------------------------------------------------- bob: authenticator app


async def test_bob_must_use_the_authenticator(
    drive: Drive, engine: Engine, clock: FrozenClock
) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "bob")
        await k.at(ChooseMethodScreen)
        assert "authenticator app" in k.text
        assert "Email a code" not in k.text  # required authenticator: email alone cannot do
        # why, and what to do without the phone
        await k.sees("This account needs its authenticator app")
        assert k.app.screen.query_one("#authenticator-only").render().plain.endswith(
            "Ask the helpdesk: IT helpdesk, room 1.12 · +1 425 555 0100 · helpdesk@contoso.org")
        await k.press("1")
        await k.at(TotpScreen)
        await k.type(wrong(code_at(BOB_TOTP_SECRET, clock.now())))
        await k.enter()
        await k.sees("That code is not right. Enter the code the app shows now.")
        await k.type(code_at(BOB_TOTP_SECRET, clock.now()))
        await k.enter()
        await new_password(k)
        await k.at(DoneScreen)
    assert password_is(engine, "bob", NEW_PASSWORD)


async def test_a_decoy_offering_only_an_authenticator_says_what_bob_sees(
    drive: Drive, engine: Engine
) -> None:
    """The reason follows from what is offered alone: a name nobody has whose decoy offers
    only an authenticator reads exactly like bob's screen."""
    names = (f"visitor{n}" for n in range(200))
    elsewhere = engine.session("console:elsewhere")
    name = next(n for n in names if [m.kind.value for m in elsewhere.start(
        Purpose.RESET, n).methods] == ["authenticator"])
    texts = []
    for username in ("bob", name):
        async with drive() as k:
            await identify(k, Purpose.RESET, username)
            await k.at(ChooseMethodScreen)
            await k.sees("This account needs its authenticator app")
            texts.append(str(k.app.screen.query_one("#authenticator-only").render()))
    assert texts[0] == texts[1]


async def test_every_proof_screen_shows_the_progress(drive: Drive, engine: Engine) -> None:
    """"Step n of m" on every proof screen, for everybody; before the first proof alice, an
    administrator and a name nobody has read alike."""
    headings = {}
    for username in ("alice", "carol", "zoe.unknown"):
        async with drive() as k:
            await identify(k, Purpose.RESET, username)
            await k.at(ChooseMethodScreen)
            headings[username] = k.text.splitlines()[2].split("▏")[0].strip()  # not the outbox
            if username != "alice":
                continue
            await k.press("3")  # questions
            await k.at(QuestionsScreen)
            await k.sees("Reset your password · Step 1 of 2 · verify")
            await k.press("escape")
            await k.at(ChooseMethodScreen)
            await k.press("1")
            await k.at(EnterCodeScreen)
            await k.sees("Reset your password · Step 1 of 2 · verify")
            await enter_code(k, last_code(engine, "alice@contoso.org"))
            await k.at(NewPasswordScreen)
            await k.sees("Reset your password · Step 2 of 2 · new password")
    assert set(headings.values()) == {"Reset your password · Step 1 of 2 · verify"}


# ---------------------------------------------------------------- carol: administrator


async def test_carol_needs_two_methods(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "carol")
        await k.at(ChooseMethodScreen)
        await k.sees("How would you like to prove it is you?")
        # the second check shows only after the first (nobody learns who is an admin)
        assert "two checks" not in k.text
        await k.sees("Reset your password · Step 1 of 2 · verify")  # like everybody
        assert "security questions" not in k.text  # never for administrators
        await k.press("1")
        await enter_code(k, last_code(engine, "carol@contoso.org"))
        await k.sees("Step 2 of 3 · verify")  # the second proof shows after the first
        await k.sees("First check passed")
        screen = await k.at(ChooseMethodScreen)
        assert screen.state.gates_passed == 1
        await k.press("1")  # the mobile is now the only choice
        await k.at(ChannelDialog)
        await k.press("1")
        await enter_code(k, last_code(engine, "+14255550143"))
        await new_password(k)
        await k.at(DoneScreen)
    assert password_is(engine, "carol", NEW_PASSWORD)


# ---------------------------------------------------------------- dave: locked account


async def test_dave_unlocks(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.UNLOCK, "dave")
        await k.at(ChooseMethodScreen)
        await k.press("1")
        await enter_code(k, last_code(engine, "dave@contoso.org"))
        await k.at(UnlockScreen)
        await k.sees("Unlock the account dave now?")
        await k.press("1")
        await k.at(DoneScreen)
        await k.sees("Your account is unlocked.")
        await k.sees("We sent a notice")
    with engine.db.connect() as conn:
        assert not engine.directory.find(conn, "dave").locked


async def test_alice_unlocks_an_account_that_was_not_locked(
    drive: Drive, engine: Engine
) -> None:
    async with drive() as k:
        await identify(k, Purpose.UNLOCK, "alice")
        await k.at(ChooseMethodScreen)
        await k.press("1")
        await enter_code(k, last_code(engine, "alice@contoso.org"))
        await k.at(UnlockScreen)
        sent = len(engine.outbox_messages(200))
        await k.press("1")
        await k.at(DoneScreen)
        await k.sees("Your account was not locked.")
        assert "unlocked" not in k.text and "We sent a notice" not in k.text
    assert len(engine.outbox_messages(200)) == sent  # no notice


async def test_dave_reset_says_it_also_unlocked(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "dave")
        await k.at(ChooseMethodScreen)
        await k.press("1")
        await enter_code(k, last_code(engine, "dave@contoso.org"))
        await new_password(k)
        await k.at(DoneScreen)
        await k.sees("and your account is unlocked.")


async def test_dave_cannot_change_while_locked(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.CHANGE, "dave")
        await k.at(SignInScreen)
        await k.type("Dave-demo-pass-1")
        await k.enter()
        screen = await k.at(ProblemScreen)
        assert screen.kind == "not_eligible"
        await k.sees("This account is locked. Unlock it first")


# ---------------------------------------------------------------- erin: nothing registered


async def test_erin_starts_like_anyone_and_nothing_arrives(drive: Drive,
                                                           engine: Engine) -> None:
    """Enumeration-safe: erin's reset looks like anyone's; the code never comes, and the code
    screen tells everybody where to go when nothing arrives."""
    async with drive() as k:
        await identify(k, Purpose.RESET, "erin")
        screen = await k.at(ChooseMethodScreen)
        assert screen.state.methods
        await k.sees("How would you like to prove it is you?")


@pytest.mark.policy(privacy={"enumeration_safe": False})
async def test_erin_is_sent_to_register_and_registers(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "erin")
        screen = await k.at(ProblemScreen)
        assert screen.kind == "not_registered"
        await k.sees("No security info registered")
        await k.press("1")  # set it up now
        screen = await k.at(IdentifyScreen)
        assert screen.purpose == Purpose.REGISTER
        assert screen.query_one("#username").value == "erin"
        await k.enter()
        await k.at(SignInScreen)
        await k.type("Erin-demo-pass-1")
        await k.enter()
        await k.at(RegistrationScreen)
        await k.sees("Nothing is registered yet.")
        await k.sees("Add 1 more method(s)")
        # an email address, confirmed by a code
        await k.press("1")
        await k.at(AddContactScreen)
        await k.type("not-an-address")
        await k.enter()
        await k.sees("That is not a valid email address.")
        k.app.screen.query_one("#contact").value = ""
        await k.type("erin.private@example.org")
        await k.enter()
        screen = await k.at(EnterCodeScreen)
        assert screen.confirm
        await k.sees("Confirm the new contact")
        await enter_code(k, wrong(last_code(engine, "erin.private@example.org")))
        await k.sees("That code is not right")
        await enter_code(k, last_code(engine, "erin.private@example.org"))
        await k.at(RegistrationScreen)
        await k.sees("✓ Email  e•••@e•••.org")
        assert "more method" not in k.text
        # security questions
        await k.press("4")
        screen = await k.at(SetQuestionsScreen)
        await k.press("enter")  # Enter on a question opens its list
        await k.sees("What was your first job?")
        await k.press("escape")  # closes the list, stays on the screen
        assert isinstance(k.app.screen, SetQuestionsScreen)
        await k.focus("#submit")
        await k.enter()  # save with nothing chosen
        await k.sees("Choose question 1.")
        for index, (qid, answer) in enumerate(
            [("pet", "whiskers"), ("school", "lincoln high"), ("car", "beetle")], start=1
        ):
            screen.query_one(f"#question-{index}").value = qid
            screen.query_one(f"#answer-{index}", SecureInput).value = answer
        await k.press("f2")
        await k.sees("lincoln high")
        await k.press("f2")
        await k.focus("#answer-3")
        await k.enter()
        await k.at(RegistrationScreen)
        await k.sees("✓ Security questions")
        # finish
        await k.press("6")
        await k.at(DoneScreen)
        await k.sees("Your security info is saved.")
    # and now she can reset with what she registered
    async with drive() as k:
        await identify(k, Purpose.RESET, "erin")
        await k.at(ChooseMethodScreen)
        await k.sees("e•••@e•••.org")


async def test_erin_wrong_password_at_sign_in(drive: Drive) -> None:
    async with drive() as k:
        await identify(k, Purpose.REGISTER, "erin")
        await k.at(SignInScreen)
        await k.type("guess")
        await k.enter()
        await k.sees("That password is not right.")
        assert k.app.screen.query_one(SecureInput).value == ""


async def test_authenticator_enrolment_text_fallback_and_qr(
    drive: Drive, clock: FrozenClock, engine: Engine
) -> None:
    async with drive() as k:
        await identify(k, Purpose.REGISTER, "alice")
        await k.at(SignInScreen)
        await k.type("Alice-demo-pass-1")
        await k.enter()
        # the password alone does not change security info: one registered method first
        await k.at(ChooseMethodScreen)
        await k.sees("Your password is right.")
        await k.press("1")
        await enter_code(k, last_code(engine, "alice@contoso.org"))
        await k.at(RegistrationScreen)
        await k.press("5")
        screen = await k.at(AuthenticatorScreen)
        secret = screen.enrollment.secret
        assert not screen.query("QRView")  # 80x24 is too small: the key as text
        await k.sees("type in this key")
        await k.sees(secret[:4] + " " + secret[4:8])
        # adding it changes what a reset needs: said before it is added
        assert "resetting your password will need this app" in str(
            screen.query_one("#totp-required").render())
        await k.pilot.resize_terminal(120, 40)
        await k.until(lambda: bool(k.app.screen.query("QRView")), "the QR code")
        await k.sees("Scan the QR code")
        await k.type(code_at(secret, clock.now()))
        await k.enter()
        await k.at(RegistrationScreen)
        await k.sees("✓ Authenticator app")


# ---------------------------------------------------------------- frank: not eligible


async def test_frank_learns_he_is_not_eligible_from_his_own_password(drive: Drive) -> None:
    async with drive() as k:
        await identify(k, Purpose.REGISTER, "frank")
        await k.at(SignInScreen)
        await k.type("Frank-demo-pass-1")
        await k.enter()
        screen = await k.at(ProblemScreen)
        assert screen.kind == "not_eligible"
        await k.sees("Helpdesk: IT helpdesk, room 1.12")


@pytest.mark.policy(privacy={"enumeration_safe": False})
async def test_frank_is_not_eligible(drive: Drive) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "frank")
        screen = await k.at(ProblemScreen)
        assert screen.kind == "not_eligible"
        await k.sees("Self-service is not available")
        await k.sees("Helpdesk: IT helpdesk, room 1.12")
        assert "Support code:" in k.text


# ---------------------------------------------------------------- others


async def test_unknown_user_gets_a_plausible_decoy(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "zelda")
        screen = await k.at(ChooseMethodScreen)
        # the same screen as for a real user, with made-up methods (enumeration safety)
        assert screen.state.methods
        assert "How would you like to prove it is you?" in k.text
        assert len(screen.query("Choice")) == len(screen.state.methods)


async def test_flow_expired(drive: Drive, clock: FrozenClock) -> None:
    async with drive(idle_timeout=3600) as k:
        await identify(k, Purpose.RESET, "alice")
        await k.at(ChooseMethodScreen)
        clock.advance(minutes=16)
        await k.press("1")
        screen = await k.at(ProblemScreen)
        assert screen.kind == "flow_expired"
        await k.sees("Time is up")


async def test_escape_goes_back_one_step(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "alice")
        chooser = await k.at(ChooseMethodScreen)
        flow_id = chooser.state.flow_id
        await k.press("1")
        await k.at(EnterCodeScreen)
        await k.press("escape")  # back to choosing a method; the flow goes on
        await k.at(ChooseMethodScreen)
        assert k.app.flow is not None and k.app.flow.flow_id == flow_id
        await k.press("escape")  # back to the user name: the flow is cancelled
        screen = await k.at(IdentifyScreen)
        assert k.app.flow is None
        assert screen.query_one("#username").value == ""  # a new visit (issue 13)
        await k.press("escape")
        await k.at(WelcomeScreen)
    with pytest.raises(Exception, match="ended"):
        await engine_call(engine, flow_id)


async def engine_call(engine: Engine, flow_id: str) -> None:
    from tests.support.pilot import TERMINAL

    engine.session(TERMINAL).send_code(flow_id, "email", "email")


async def test_demo_help_lists_the_demo_users(drive: Drive, clock: FrozenClock) -> None:
    async with drive() as k:
        await k.at(WelcomeScreen)
        await k.press("f1")
        await k.sees("Demo users")
        for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
            assert name in k.text
        await k.sees(f"bob's authenticator code now: {code_at(BOB_TOTP_SECRET, clock.now())}")
        await k.press("escape")
        await k.at(WelcomeScreen)


async def test_escape_after_proof_asks_before_cancelling(
    drive: Drive, engine: Engine
) -> None:
    from kiosk.screens.dialogs import ConfirmCancelDialog

    async with drive() as k:
        await identify(k, Purpose.RESET, "alice")
        await k.at(ChooseMethodScreen)
        await k.press("1")
        await enter_code(k, last_code(engine))
        screen = await k.at(NewPasswordScreen)
        await k.paste("half typed")
        await k.press("escape")
        await k.at(ConfirmCancelDialog)
        await k.sees("You have already proved who you are.")
        await k.press("2")  # no, go on
        await k.at(NewPasswordScreen)
        assert k.app.screen is screen and k.app.flow is not None
        assert screen.query_one("#pw1", SecureInput).value == "half typed"
        await k.press("escape")
        await k.at(ConfirmCancelDialog)
        await k.press("1")  # yes, cancel
        await k.at(IdentifyScreen)
        assert k.app.flow is None


# ---------------------------------------------------------------- nothing of the previous visitor


async def test_yes_cancel_leaves_a_blank_user_name_and_an_empty_outbox(
    drive: Drive, engine: Engine
) -> None:
    """Issue 13: "Yes, cancel" starts over on a blank user-name screen; alice's address and
    code leave the demo outbox panel at once (not at the idle reset)."""
    from kiosk.screens.dialogs import ConfirmCancelDialog

    async with drive() as k:
        await identify(k, Purpose.RESET, "alice")
        await k.at(ChooseMethodScreen)
        await k.press("1")
        code = last_code(engine)
        await enter_code(k, code)
        await k.at(NewPasswordScreen)
        await k.press("escape")
        await k.at(ConfirmCancelDialog)
        await k.press("1")  # yes, cancel
        screen = await k.at(IdentifyScreen)
        assert screen.query_one("#username", KioskInput).value == ""
        assert k.app.flow is None and k.app.username == ""
        await k.press("escape")
        await k.at(WelcomeScreen)
        await k.sees("Nothing sent yet")
        assert f"{code[:4]} {code[4:]}" not in k.text and "a•••" not in k.text


async def test_escape_to_welcome_drops_the_visit_outbox_at_once(
    drive: Drive, engine: Engine
) -> None:
    async with drive() as k:
        await identify(k, Purpose.RESET, "alice")
        await k.at(ChooseMethodScreen)
        await k.press("1")
        code = last_code(engine)
        await k.at(EnterCodeScreen)
        await k.sees(f"{code[:4]} {code[4:]}")
        await k.press("escape")
        await k.at(ChooseMethodScreen)
        await k.press("escape")  # the method choice: the flow's first screen, cancelled
        await k.at(IdentifyScreen)
        assert f"{code[:4]} {code[4:]}" not in k.text
        await k.type("bob")
        await k.press("escape")
        await k.at(WelcomeScreen)
        await k.sees("Nothing sent yet")
        assert "alice@contoso.org" not in k.text and f"{code[:4]} {code[4:]}" not in k.text
        await k.press(ACTION[Purpose.RESET])
        screen = await k.at(IdentifyScreen)
        assert screen.query_one("#username", KioskInput).value == ""
