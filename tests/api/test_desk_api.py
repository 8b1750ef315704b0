"""The helpdesk console's API (`/v1/admin/desk`): admin token only, a terminal key refused;
the console's RemoteDesk over it behaves like the embedded one."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend_stub.app import create_app
from kiosk.backend import Blocked
from kiosk.console.source import AdminTokenRefused, RemoteDesk
from kiosk.desk import PassRequest
from kiosk.engine.engine import Engine
from tests.support.api import ADMIN_TOKEN
from tests.support.engine import make_engine

TERMINAL = "console:desk-test"


@pytest.fixture
def engine(tmp_path, clock):  # type: ignore[no-untyped-def]
    engine = make_engine(tmp_path, clock, passes={"enabled": True})
    yield engine
    engine.db.dispose()


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    return create_app(engine, ADMIN_TOKEN)


def blocked_visit(engine: Engine) -> str:
    session = engine.session(TERMINAL)
    state = session.start("reset", "alice")
    for _ in range(engine.policy.throttle.verify_failures):
        try:
            session.answer(session.questions(state.flow_id).flow_id, ["x", "y", "z"])
        except Blocked:
            break
        except Exception:
            continue
    return state.support_code


def test_a_terminal_key_is_refused_everywhere_under_desk(client: TestClient,
                                                         anon: TestClient) -> None:
    for who in (client, anon):
        for method, path in (("GET", "/v1/admin/desk/board"), ("GET", "/v1/admin/desk/cases"),
                             ("POST", "/v1/admin/desk/passes")):
            response = who.request(method, path, json={"agent": "x", "username": "erin"})
            assert response.status_code == 401, (method, path)


def test_cases_passes_and_board_with_the_admin_token(admin: TestClient,
                                                     engine: Engine) -> None:
    code = blocked_visit(engine)
    case = admin.post("/v1/admin/desk/cases/open",
                      json={"agent": "ann", "support_code": code.lower()})
    assert case.status_code == 200, case.text
    body = case.json()
    assert body["username"] == "alice" and body["blocks"]
    assert admin.get("/v1/admin/desk/cases", params={"user": "alice"}).json()[0][
        "support_code"] == code
    lifted = admin.post("/v1/admin/desk/cases/lift",
                        json={"agent": "ann", "support_code": code, "reason": "ID checked"})
    assert lifted.json() == {"lifted": 1}
    issued = admin.post("/v1/admin/desk/passes", json={"agent": "ann", "username": "erin"})
    assert issued.status_code == 200 and len(issued.json()["access_pass"]) == 12
    assert issued.headers["cache-control"] == "no-store"
    status = admin.get("/v1/admin/desk/passes/erin").json()
    assert status["state"] == "active" and "access_pass" not in status
    assert admin.get("/v1/admin/desk/board").status_code == 200
    bad = admin.post("/v1/admin/desk/passes", json={"agent": "ann", "username": "erin",
                                                    "length": 7})
    assert bad.status_code == 422


async def test_remote_desk_works_with_the_admin_token_and_refuses_a_terminal_key(
        app: FastAPI, engine: Engine, terminal_key: str) -> None:
    transport = httpx.ASGITransport(app=app)
    wrong = RemoteDesk("http://api", terminal_key, "ann", transport=transport)
    with pytest.raises(AdminTokenRefused, match="admin token"):
        await wrong.check()
    await wrong.close()
    desk = RemoteDesk("http://api", ADMIN_TOKEN, "ann", transport=transport)
    await desk.check()
    issued = await desk.issue_pass(PassRequest(username="erin", lifetime_minutes=30))
    state = engine.session(TERMINAL).start("reset", "erin")
    assert engine.session(TERMINAL).verify_pass(state.flow_id, issued.access_pass).step == \
        "new_password"
    board = await desk.board()
    assert [s.step for s in board.sessions if s.support_code == state.support_code] == \
        ["new_password"]
    assert (await desk.pass_status("erin")).state == "used"  # type: ignore[union-attr]
    await desk.close()
