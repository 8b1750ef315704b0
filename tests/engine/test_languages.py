"""The visitor's language goes with the flow (issue 13, "Languages"): after a German session the
codes by email, text and call and the notices are German; a user's language is remembered for
messages sent later, outside a flow; a language tag that is not one is refused, a language the
kiosk does not offer falls back to the organisation's default."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from sqlalchemy import select, update

from kiosk.backend import Blocked, InvalidInput, OutboxMessage, Step, WrongCode
from kiosk.engine.clock import FrozenClock
from kiosk.engine.config import Organization
from kiosk.engine.engine import Engine
from kiosk.engine.messages import default_language, message_language
from kiosk.engine.notify import Notifier
from kiosk.engine.schema import flows, users
from tests.support.engine import TERMINAL, email_gate, last_code, make_engine

ALICE_EMAIL, ALICE_MOBILE = "alice@contoso.org", "+14255550142"
NEW_PASSWORD = "Seven brass kiosk lanterns"


def sent_to(engine: Engine, recipient: str) -> list[OutboxMessage]:
    """What `recipient` was sent, oldest first."""
    return [m for m in reversed(engine.outbox_messages(200)) if m.recipient == recipient]


def stored(engine: Engine, table, column: str, key_column: str, key: object) -> object:  # type: ignore[no-untyped-def]
    with engine.db.connect() as conn:
        return conn.execute(select(table.c[column]).where(table.c[key_column] == key)).scalar()


def test_a_german_reset_sends_its_code_and_notice_in_german(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice", "de")
    assert stored(engine, flows, "language", "id", state.flow_id) == "de"
    state = email_gate(engine, state)
    [code] = sent_to(engine, ALICE_EMAIL)
    assert code.subject == "Contoso (training): Ihr Code für die Passwortzurücksetzung"
    assert "Guten Tag," in code.body and "Minuten gültig" in code.body
    assert "Hello" not in code.body and "your" not in code.body
    state = engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    assert state.result == "reset"
    notice = sent_to(engine, ALICE_EMAIL)[-1]
    assert notice.subject == "Contoso (training): Ihr Passwort wurde zurückgesetzt"
    assert ("Das Passwort Ihres Kontos alice bei Contoso (training) wurde zurückgesetzt."
            in notice.body)
    text = sent_to(engine, ALICE_MOBILE)[-1]  # the notice by text message too
    assert text.channel == "text" and "zurückgesetzt" in text.body and "Zeitpunkt" in text.body


def test_the_same_reset_in_english_stays_english(engine: Engine) -> None:
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "alice"))
    engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    code, notice = sent_to(engine, ALICE_EMAIL)
    assert code.subject == "Contoso (training): your password reset code"
    assert notice.subject == "Contoso (training): your password was reset"


def test_german_codes_by_text_and_by_call(engine: Engine, clock: FrozenClock) -> None:
    state = engine.session(TERMINAL).start("reset", "alice", "de-AT")  # a regional tag: German
    engine.session(TERMINAL).send_code(state.flow_id, "mobile", "text")
    clock.advance(seconds=engine.policy.codes.resend_after_seconds + 1)
    engine.session(TERMINAL).send_code(state.flow_id, "mobile", "call")
    text, call = sent_to(engine, ALICE_MOBILE)
    assert text.channel == "text" and text.body.startswith(
        "Contoso (training): Ihr Code für die Passwortzurücksetzung lautet ")
    assert "Geben Sie ihn niemandem weiter." in text.body
    assert call.channel == "call"
    assert call.body.startswith("Guten Tag, hier ist Contoso (training).")
    assert "Ich wiederhole:" in call.body and call.body.endswith("Auf Wiederhören.")


def test_a_german_unlock_notice(engine: Engine) -> None:
    state = email_gate(engine, engine.session(TERMINAL).start("unlock", "dave", "de"))
    assert state.step == Step.UNLOCK
    assert engine.session(TERMINAL).unlock(state.flow_id).result == "unlocked"
    notice = sent_to(engine, "dave@contoso.org")[-1]
    assert notice.subject == "Contoso (training): Ihr Konto wurde entsperrt"
    assert "Ihr Konto dave bei Contoso (training) wurde entsperrt." in notice.body


def test_a_german_security_info_change_is_told_in_german(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("register", "alice", "de")
    state = engine.session(TERMINAL).sign_in(state.flow_id, "Alice-demo-pass-1")
    state = email_gate(engine, state)
    assert state.step == Step.REGISTER
    state = engine.session(TERMINAL).add_email(state.flow_id, "alice.new@contoso.org")
    assert state.challenge is not None
    [confirm] = sent_to(engine, "alice.new@contoso.org")
    assert confirm.subject == ("Contoso (training): Ihr Code für die Registrierung der "
                               "Sicherheitsinformationen")
    engine.session(TERMINAL).confirm_contact(state.flow_id, state.challenge.id,
                           last_code(engine, "alice.new@contoso.org"))
    told = sent_to(engine, ALICE_EMAIL)[-1]
    assert told.subject == "Contoso (training): Ihre Sicherheitsinformationen wurden geändert"
    assert "wurde eine Überprüfungsmethode geändert: alternative E-Mail-Adresse." in told.body
    # registering remembers the language, before the flow is finished
    assert stored(engine, users, "language", "username", "alice") == "de"


def carols_german_reset(engine: Engine) -> None:
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "carol", "de"))
    state = engine.session(TERMINAL).send_code(state.flow_id, "mobile", "text")
    assert state.challenge is not None
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                               last_code(engine, "+14255550143"))
    assert engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD).result == "reset"


def operator_alerts(engine: Engine, clock: FrozenClock) -> list[OutboxMessage]:
    """Ten wrong operator passphrases: the administrators' alert, sent outside any flow."""
    for _ in range(10):
        clock.advance(seconds=engine.session(TERMINAL).operator_gate().retry_after)
        engine.session(TERMINAL).operator_exit(False)
    return [m for m in sent_to(engine, "carol@contoso.org") if "operator" in m.subject.lower()
            or "Betreiber" in m.subject]


def test_a_message_outside_a_flow_uses_the_users_remembered_language(
        engine: Engine, clock: FrozenClock) -> None:
    assert stored(engine, users, "language", "username", "carol") is None
    carols_german_reset(engine)
    assert stored(engine, users, "language", "username", "carol") == "de"
    [alert] = operator_alerts(engine, clock)
    assert alert.subject == f"Contoso (training): falsche Betreiber-Passphrasen an {TERMINAL}"


def test_an_unknown_users_language_is_the_organisations_default(
        engine: Engine, clock: FrozenClock) -> None:
    [alert] = operator_alerts(engine, clock)
    assert alert.subject == f"Contoso (training): wrong operator passphrases at {TERMINAL}"


def test_admins_are_alerted_in_their_own_language_not_the_visitors(engine: Engine) -> None:
    carols_german_reset(engine)
    # an English visitor enters five wrong codes for alice: carol hears of the block in German
    state = engine.session(TERMINAL).start("reset", "alice", "en")
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None
    code = last_code(engine, ALICE_EMAIL)
    with pytest.raises(Blocked):
        for n in range(1, 10):
            with contextlib.suppress(WrongCode):
                engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                                   f"{(int(code) + n) % 10**8:08d}")
    [alert] = [m for m in sent_to(engine, "carol@contoso.org") if "alice" in m.subject]
    assert alert.subject == "Contoso (training): alice für die Passwort-Selbstbedienung gesperrt"
    assert "Support-Code:" in alert.body


def test_another_admin_hears_of_an_admin_reset_in_their_own_language(engine: Engine) -> None:
    with engine.db.begin() as conn:  # bob, an administrator too, last used the kiosk in German
        conn.execute(update(users).where(users.c.username == "bob")
                     .values(is_admin=True, language="de"))
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "carol", "en"))
    state = engine.session(TERMINAL).send_code(state.flow_id, "mobile", "text")
    assert state.challenge is not None
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                               last_code(engine, "+14255550143"))
    engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    assert sent_to(engine, "carol@contoso.org")[-1].subject == \
        "Contoso (training): your password was reset"
    assert sent_to(engine, "bob@contoso.org")[-1].subject == \
        "Contoso (training): Passwort des Administrators carol zurückgesetzt"


def test_directory_admins_are_alerted_once_their_kiosk_language_first(engine: Engine) -> None:
    """Administrators named only by the directory (LDAP / AD admin group) have no language
    in the kiosk: the default; one the kiosk knows keeps theirs, and is listed once."""
    with engine.db.begin() as conn:
        conn.execute(update(users).where(users.c.username == "carol").values(language="de"))
    notifier = Notifier(engine.policy, lambda: ["CAROL@contoso.org", "eve@contoso.org"])
    with engine.db.connect() as conn:
        assert notifier.admin_contacts(conn) == [("carol@contoso.org", "de"),
                                                 ("eve@contoso.org", "")]
    assert [notifier.language(lang) for lang in ("de", "")] == ["de", "en"]


def test_a_flow_from_before_the_language_column_uses_the_default(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice", "de")
    with engine.db.begin() as conn:  # as migration 0006 leaves an open flow: no language
        conn.execute(update(flows).where(flows.c.id == state.flow_id).values(language=None))
    engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert sent_to(engine, ALICE_EMAIL)[-1].subject == \
        "Contoso (training): your password reset code"


@pytest.mark.parametrize("garbage", [42, "", "x" * 36, "de\n", "../../etc/passwd", "<b>de</b>",
                                     "d", "de-", "de--AT", "\u202ede", ["de"]])
def test_a_language_that_is_no_language_tag_is_refused(engine: Engine, garbage: object) -> None:
    before = engine.outbox_messages(200)
    with pytest.raises(InvalidInput) as refused:
        engine.session(TERMINAL).start("reset", "alice", garbage)
    assert refused.value.params.get("field") == "language"
    with engine.db.connect() as conn:  # nothing started
        assert conn.execute(select(flows.c.id)).first() is None
    assert engine.outbox_messages(200) == before


def test_a_language_the_kiosk_does_not_offer_falls_back(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "a")
    state = engine.session(TERMINAL).start("reset", "alice", "fr-CA")
    assert stored(engine, flows, "language", "id", state.flow_id) == "en"
    assert stored(engine, flows, "language", "id",
                  engine.session(TERMINAL).start("reset", "bob").flow_id) == "en"
    # an organisation that offers only German: German when nothing (or English) is asked for
    german = make_engine(tmp_path / "b", organization={"name": "Contoso", "languages": ["de"]})
    for asked in (None, "en"):
        state = german.session(TERMINAL).start("reset", "alice", asked)
        assert stored(german, flows, "language", "id", state.flow_id) == "de"


def test_language_resolution_for_messages() -> None:
    both = Organization()
    assert default_language(both) == "en"
    assert default_language(Organization(languages=["de"])) == "de"
    assert [message_language(both, tag) for tag in ("de", "DE_de", "de-CH", "fr", "", None)] \
        == ["de", "de", "de", "en", "en", "en"]
    assert message_language(Organization(languages=["en"]), "de") == "en"
