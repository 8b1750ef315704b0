"""RemoteBackend as a client: retries, timeouts, error mapping, connection reuse, key files."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest

from kiosk.adapters.remote import RemoteBackend, open_remote_backend
from kiosk.backend import (
    Blocked,
    Branding,
    DeliveryFailed,
    FlowNotFound,
    InvalidInput,
    KioskError,
    PasswordRejected,
    Purpose,
    ServiceUnavailable,
    WrongCode,
)
from kiosk.backend.branding import read_branding

BRANDING = asdict(Branding(organization="Org", helpdesk="Call 555"))
CHECK = {"ok": True, "violations": [], "score": 4, "rules": ["too_short"]}
FLOW = "f" * 32


def problem(status: int, code: str, support: str = "", **params: object) -> httpx.Response:
    return httpx.Response(status, json={
        "type": f"https://kiosk.example.org/problems/{code}", "title": code, "status": status,
        "detail": f"detail of {code}", "code": code, "support_code": support, "params": params,
    }, headers={"content-type": "application/problem+json"})


class Script:
    """A mock transport answering from a list; records every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def backend(self) -> RemoteBackend:
        return RemoteBackend("http://api.test/", "hk_key", retry_delay=0,
                             transport=httpx.MockTransport(self))


def refused(request: httpx.Request) -> httpx.ConnectError:
    return httpx.ConnectError("connection refused", request=request)


async def test_idempotent_calls_are_retried_once() -> None:
    script = Script(problem(503, "service_unavailable"), httpx.Response(200, json=BRANDING))
    assert (await script.backend().branding()).organization == "Org"
    assert len(script.requests) == 2

    script = Script(httpx.ConnectError("refused"), httpx.Response(200, json=CHECK))
    assert (await script.backend().check_password(FLOW, "pw")).ok
    assert [r.url.path for r in script.requests] == [f"/v1/flows/{FLOW}/password/check"] * 2

    script = Script(httpx.Response(502, text="bad gateway"), httpx.Response(504),)
    with pytest.raises(ServiceUnavailable) as failed:
        await script.backend().question_pool(FLOW)
    assert len(script.requests) == 2 and failed.value.params["reason"] == "server_error"


async def test_calls_that_change_state_are_never_retried() -> None:
    calls: list[Callable[[RemoteBackend], object]] = [
        lambda b: b.start(Purpose.RESET, "alice"),
        lambda b: b.verify_code(FLOW, "challenge1", "12345678"),
        lambda b: b.send_code(FLOW, "email", "email"),  # type: ignore[arg-type]
        lambda b: b.set_password(FLOW, "Violet-harbour-lantern-93"),
        lambda b: b.verify_totp(FLOW, "123456"),
        lambda b: b.answer(FLOW, ["a", "b", "c"]),
        lambda b: b.unlock(FLOW),
        lambda b: b.cancel(FLOW),
    ]
    for call in calls:
        for failure in (problem(503, "service_unavailable"), httpx.ReadError("reset"),
                        httpx.Response(500, text="oops")):
            script = Script(failure, httpx.Response(200, json={}))
            with pytest.raises(ServiceUnavailable):
                await call(script.backend())  # type: ignore[misc]
            assert len(script.requests) == 1


async def test_problems_become_the_typed_errors() -> None:
    script = Script(problem(400, "wrong_code", "ABCD-EFGH"),
                    problem(403, "blocked", "WXYZ-2345", until="2026-01-06T09:00:00+00:00",
                            helpdesk="Call 555"),
                    problem(422, "password_rejected", "ABCD-EFGH",
                            violations=[{"rule": "too_short", "message": "m", "params": {}}]),
                    problem(502, "delivery_failed", "ABCD-EFGH"),
                    problem(418, "teapot", "S"),
                    problem(413, "payload_too_large", limit=16384))
    b = script.backend()
    with pytest.raises(WrongCode) as wrong:
        await b.verify_code(FLOW, "challenge1", "12345678")
    assert wrong.value.support_code == "ABCD-EFGH" and wrong.value.message == "detail of wrong_code"
    with pytest.raises(Blocked) as blocked:
        await b.verify_code(FLOW, "challenge1", "12345678")
    assert blocked.value.params == {"until": "2026-01-06T09:00:00+00:00", "helpdesk": "Call 555"}
    with pytest.raises(PasswordRejected) as rejected:
        await b.set_password(FLOW, "short")
    assert rejected.value.params["violations"][0]["rule"] == "too_short"
    with pytest.raises(DeliveryFailed) as undelivered:  # a 502 the engine meant: not retried
        await b.check_password(FLOW, "x")
    assert undelivered.value.support_code == "ABCD-EFGH"
    with pytest.raises(KioskError) as unknown:
        await b.unlock(FLOW)
    assert unknown.value.code == "teapot" and unknown.value.status == 418
    with pytest.raises(InvalidInput):
        await b.set_password(FLOW, "x" * 20000)
    assert len(script.requests) == 6


async def test_outages_and_odd_answers_are_service_unavailable() -> None:
    cases = [
        (httpx.Response(401, json={"code": "unauthorized"}), "unauthorized"),
        (httpx.Response(200, text="<html>captive portal</html>"), "bad_response"),
        (httpx.Response(200, json={"flow_id": 1}), "bad_response"),
        (httpx.Response(404, text="nginx"), "bad_response"),
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectError("refused"), "unreachable"),
    ]
    for answer, reason in cases:
        script = Script(answer)
        with pytest.raises(ServiceUnavailable) as failed:
            await script.backend().start(Purpose.RESET, "alice")
        assert failed.value.params["reason"] == reason
        assert failed.value.code == "service_unavailable" and failed.value.status == 503


async def test_the_branding_is_read_without_pydantic_and_judged_by_it_otherwise() -> None:
    """read_branding takes an answer whose fields have exactly their JSON types (as the API
    writes them); anything else goes to pydantic, which converts what it can and refuses the
    rest like any other unreadable answer."""
    full = asdict(Branding(organization="Org", helpdesk="Call 555", languages=["en", "de"],
                           purposes=[Purpose.RESET], sign_in_domains=["contoso.org"]))
    sent = json.loads(json.dumps(full))
    assert read_branding(sent) == Branding(**full)
    assert read_branding({**sent, "added_later": 1}) == Branding(**full)  # as pydantic does
    for odd in ({**full, "code_length": "8"}, {**full, "demo": 1},
                {"helpdesk": "Call 555"}, {**full, "purposes": ["reboot"]}, [full]):
        assert read_branding(odd) is None, odd

    script = Script(httpx.Response(200, json={**full, "code_length": "8"}))
    branding = await script.backend().branding()  # pydantic's lax reading
    assert branding == Branding(**{**full, "code_length": 8})
    for odd in ({**full, "purposes": ["reboot"]}, {"helpdesk": "Call 555"}):
        with pytest.raises(ServiceUnavailable) as failed:
            await Script(httpx.Response(200, json=odd)).backend().branding()
        assert failed.value.params["reason"] == "bad_response"


async def test_ids_cannot_leave_their_path_segment() -> None:
    script = Script()
    b = script.backend()
    for flow_id in ("", "../admin/users", "a/b", "x y", "%2e%2e", "\u00e9" * 12):
        with pytest.raises(FlowNotFound):
            await b.questions(flow_id)
    with pytest.raises(InvalidInput):
        await b.verify_code(FLOW, "../../admin", "12345678")
    assert script.requests == []


async def test_requests_carry_the_key_and_json() -> None:
    script = Script(httpx.Response(201, json={}), )
    b = script.backend()
    with pytest.raises(ServiceUnavailable):  # {} is not a FlowState
        await b.start(Purpose.RESET, "alice")
    request = script.requests[0]
    assert request.headers["authorization"] == "Bearer hk_key"
    assert request.method == "POST" and request.url == "http://api.test/v1/flows"
    assert request.read() == b'{"purpose":"reset","username":"alice"}'


async def test_the_optional_language_is_sent_only_when_given() -> None:
    script = Script(httpx.Response(201, json={}), httpx.Response(201, json={}))
    b = script.backend()
    for language in ("de", None):
        with pytest.raises(ServiceUnavailable):
            await b.start(Purpose.RESET, "alice", language)
    assert [r.read() for r in script.requests] == [
        b'{"purpose":"reset","username":"alice","language":"de"}',
        b'{"purpose":"reset","username":"alice"}']


async def test_text_that_is_not_utf8_is_the_apis_invalid_input(app, terminal_key) -> None:  # type: ignore[no-untyped-def]
    """A lone surrogate (which UTF-8 cannot encode) reaches the API as JSON's \\ud800 escape
    and comes back as the engine's own refusal, as with the embedded engine: no crash."""
    b = RemoteBackend("http://api.test", terminal_key, retry_delay=0,
                      transport=httpx.ASGITransport(app=app))
    try:
        with pytest.raises(InvalidInput) as refused:
            await b.start(Purpose.RESET, "\ud800abc")
        assert refused.value.params["field"] == "username"
        state = await b.start(Purpose.RESET, "zoë")  # other non-ASCII text still arrives
        with pytest.raises(InvalidInput) as refused:
            await b.check_password(state.flow_id, "Violet-\udc00-lantern-93")
        assert refused.value.params["field"] == "password"
    finally:
        await b.close()


async def test_an_unreachable_api_is_service_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    b = RemoteBackend(f"http://127.0.0.1:{port}", "hk_key", retry_delay=0, timeout=2)
    with pytest.raises(ServiceUnavailable) as failed:
        await b.branding()
    assert failed.value.params["reason"] == "unreachable"
    assert not await b.ready()
    await b.close()


async def test_a_silent_api_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # accepts and never answers
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    b = RemoteBackend(f"http://127.0.0.1:{listener.getsockname()[1]}", "hk_key",
                      timeout=0.3, retry_delay=0)
    try:
        with pytest.raises(ServiceUnavailable) as failed:
            await b.start(Purpose.RESET, "alice")
        assert failed.value.params["reason"] == "timeout"
    finally:
        await b.close()
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_construction_and_key_files(tmp_path: Path) -> None:
    key_file = tmp_path / "api-key"
    key_file.write_text("  hk_abc_def \n")
    key_file.chmod(0o600)
    backend = open_remote_backend("https://kiosk.example.org/v1/", key_file)
    assert backend.url == "https://kiosk.example.org"
    with pytest.raises(ValueError, match="empty"):
        (tmp_path / "empty").write_text("\n")
        open_remote_backend("https://x.org", tmp_path / "empty")
    with pytest.raises(ValueError, match="cannot read"):
        open_remote_backend("https://x.org", tmp_path / "missing")
    with pytest.raises(ValueError, match="http"):
        RemoteBackend("ftp://x.org", "k")
    with pytest.raises(ValueError, match="white space"):
        RemoteBackend("https://x.org", "two words")


async def test_connections_are_reused(tmp_path: Path) -> None:
    from backend_stub.app import create_app
    from kiosk.engine.clock import FrozenClock
    from kiosk.engine.terminals import TerminalStore
    from tests.support.engine import make_engine
    from tests.support.loopback import LoopbackServer

    clock = FrozenClock()
    engine = make_engine(tmp_path, clock)
    app = create_app(engine)
    ports: list[int] = []

    async def recording(scope, receive, send):  # type: ignore[no-untyped-def]
        ports.append(scope["client"][1])
        await app(scope, receive, send)

    server = LoopbackServer()
    server.app = recording
    server.start()
    b = RemoteBackend(server.url, TerminalStore(engine.db, clock).create("k")[1])
    try:
        state = await b.start(Purpose.RESET, "alice")
        for _ in range(5):
            await b.branding()
            state = await b.questions(state.flow_id)
        assert len(ports) == 11 and len(set(ports)) == 1  # one keep-alive connection
    finally:
        await b.close()
        server.stop()
        engine.db.dispose()


def test_a_key_file_others_can_read_is_warned_about(tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    key_file = tmp_path / "api-key"
    key_file.write_text("hk_abc_def\n")
    key_file.chmod(0o644)
    with caplog.at_level("WARNING", logger="kiosk.remote"):
        open_remote_backend("http://127.0.0.1:1", key_file)
    assert "readable by other users" in caplog.text


async def test_a_refused_key_is_named_in_the_log_and_at_the_exit(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """issue 13: a wrong API key looked like a dead server and logged nothing the operator saw.
    The visitor still sees "service unavailable"; the app's log file and the operator's exit
    say "API key refused"."""
    from kiosk.app import KioskApp
    from kiosk.screens.outcome import ProblemScreen
    from kiosk.ui_commands import exit_note

    unauthorized = httpx.Response(401, json={"code": "unauthorized"})
    script = Script(*[unauthorized] * 6)
    backend = script.backend()
    assert exit_note(backend) == ""
    log_file = tmp_path / "kiosk.log"
    app = KioskApp(backend, log_path=log_file)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(50):
            if isinstance(app.screen, ProblemScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, ProblemScreen)
        assert "API key" not in " ".join(str(w.render()) for w in app.screen.query("Static"))
    assert backend.key_refused
    logged = log_file.read_text(encoding="utf-8")
    assert "API key refused by http://api.test" in logged and logged.count("API key") == 1
    assert exit_note(backend).startswith("API key refused by http://api.test: check the key")
