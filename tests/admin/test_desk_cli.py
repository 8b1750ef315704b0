"""`kiosk admin case` and `kiosk admin pass`: the console's lookups from the command line."""

from __future__ import annotations

import re

from kiosk.backend import KioskError


def block_alice(kiosk) -> str:  # type: ignore[no-untyped-def]
    engine = kiosk.engine()
    state = engine.session("console:lobby").start("reset", "alice")
    engine.session("console:lobby").send_code(state.flow_id, "email", "email")
    challenge = _challenge(engine, state.flow_id)
    for n in range(20):  # each a different wrong code (the same one counts once)
        try:
            engine.session("console:lobby").verify_code(state.flow_id, challenge, f"{n:08d}")
        except KioskError as exc:
            if exc.code == "blocked":
                break
    return state.support_code


def _challenge(engine, flow_id: str) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from kiosk.engine.schema import challenges

    with engine.db.connect() as conn:
        return str(conn.execute(select(challenges.c.id).where(
            challenges.c.flow_id == flow_id, challenges.c.used_at.is_(None),
            challenges.c.superseded.is_(False))).scalar_one())


def test_a_case_by_code_and_by_user_and_its_lift(seeded) -> None:  # type: ignore[no-untyped-def]
    code = block_alice(seeded)
    shown = seeded.ok("case", code.lower(), "--agent", "ann").output
    assert f"visit {code}: alice, reset at console:lobby" in shown
    assert "BLOCKED: user alice (verify_failures)" in shown
    assert "wrong code" in shown and "00000003" not in shown  # no entry, no secret
    listed = seeded.ok("case", "--user", "ALICE").output
    assert code in listed and "BLOCKED" in listed
    assert "1 block(s) lifted" in seeded.ok("case", code, "--lift", "ID checked",
                                            "--agent", "ann").output
    assert "BLOCKED" not in seeded.ok("case", code).output
    audit = seeded.ok("audit", "export", "--since", "2000-01-01", "--format", "csv").output
    assert "case opened at the helpdesk by ann" in audit and "contacted_admin" in audit
    assert "block lifted by ann" in audit and "ID checked" in audit


def test_case_refusals_are_one_line(seeded) -> None:  # type: ignore[no-untyped-def]
    assert "a support code looks like ABCD-EFGH" in seeded.fails("case", "not a code").output
    assert "no visit with the support code" in seeded.fails("case", "AAAA-BBBB").output
    assert "no visits and no user named" in seeded.fails("case", "--user", "zed").output
    seeded.fails("case", code=2)  # neither a code nor --user


def test_a_pass_issued_shown_and_revoked(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    policy = seeded.policy_file
    policy.write_text(policy.read_text() + "\n[passes]\nenabled = true\n", encoding="utf-8")
    out = seeded.ok("pass", "issue", "bob", "--minutes", "30", "--agent", "ann").output
    text = re.search(r"pass for bob: ([A-Z0-9]{12})", out)
    assert text and "shown only now" in out
    shown = seeded.ok("pass", "show", "bob").output
    assert "bob: active" in shown and "issued by ann" in shown and text.group(1) not in shown
    assert "has an active pass" in seeded.fails("pass", "issue", "bob").output
    assert "bob: pass revoked" in seeded.ok("pass", "revoke", "bob", "--reason", "oops").output
    assert "lifetime_minutes" in seeded.fails("pass", "issue", "bob", "--minutes", "5").output
    engine = seeded.engine()
    state = engine.session("console:lobby").start("reset", "bob")
    try:
        engine.session("console:lobby").verify_pass(state.flow_id, text.group(1))
    except KioskError as exc:
        assert exc.code == "wrong_code"  # revoked
    else:
        raise AssertionError("a revoked pass was accepted")


def test_passes_are_off_by_default(seeded) -> None:  # type: ignore[no-untyped-def]
    assert "passes are off" in seeded.fails("pass", "issue", "bob").output


def test_the_console_refuses_cleanly_without_a_reachable_api(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from kiosk.cli import main

    token = tmp_path / "token"
    token.write_text("not-the-admin-token\n", encoding="utf-8")
    runner = CliRunner(env={"KIOSK_ADMIN_TOKEN": None})
    result = runner.invoke(main, ["console", "--remote", "http://127.0.0.1:9", "--agent", "ann"])
    assert result.exit_code == 2 and "--remote needs --admin-token-file" in result.output
    result = runner.invoke(main, ["console", "--remote", "http://127.0.0.1:9", "--agent", "ann",
                                  "--admin-token-file", str(token)])
    assert result.exit_code == 1 and "(unreachable)" in result.output
    assert "Traceback" not in result.output
