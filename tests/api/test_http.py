"""The HTTP surface of backend_stub: authentication, problem details, validation, body limit,
health, and that no answer ever carries a code, an answer or a hash."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from kiosk.engine.engine import Engine
from kiosk.engine.schema import audit_events, terminals
from kiosk.engine.terminals import TerminalStore
from tests.support.api import ADMIN_TOKEN
from tests.support.engine import last_code

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "support_code", "params"}


def is_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"https://kiosk.example.org/problems/{code}"
    return body


def start(client: TestClient, username: str = "alice", purpose: str = "reset") -> dict:
    response = client.post("/v1/flows", json={"purpose": purpose, "username": username})
    assert response.status_code == 201, response.text
    return response.json()


# ---------------------------------------------------------------- authentication


def test_every_refusal_is_the_same_401(app: FastAPI, store: TerminalStore,
                                       terminal_key: str) -> None:
    revoked_terminal, revoked_key = store.create("old-kiosk")
    store.revoke(revoked_terminal.id)
    key_id = terminal_key.split("_")[1]
    forged = f"hk_{key_id}_{'A' * 43}"
    credentials = [None, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer wrong",
                   f"Bearer {forged}", f"Bearer {revoked_key}", f"Bearer {ADMIN_TOKEN}",
                   f"Bearer {terminal_key}x", f"Token {terminal_key}"]
    requests = [("GET", "/v1/branding", None), ("POST", "/v1/flows", b'{"purpose": "re'),
                ("GET", "/v1/outbox", None), ("DELETE", "/v1/flows/whatever", None),
                ("GET", "/v1/no-such-route", None)]
    bodies = set()
    with TestClient(app, raise_server_exceptions=False) as client:
        for header in credentials:
            headers = {"Authorization": header} if header is not None else {}
            for method, path, body in requests:
                response = client.request(method, path, content=body, headers={
                    **headers, "Content-Type": "application/json"})
                is_problem(response, 401, "unauthorized")
                assert response.headers["www-authenticate"] == "Bearer"
                bodies.add(response.text)
        # the admin area: a terminal key is not the admin token
        for header in (None, f"Bearer {terminal_key}", "Bearer nope", f"Bearer {ADMIN_TOKEN} "):
            headers = {"Authorization": header} if header is not None else {}
            response = client.get("/v1/admin/users", headers=headers)
            if header == f"Bearer {ADMIN_TOKEN} ":  # surrounding space is not part of it
                assert response.status_code == 200
                continue
            is_problem(response, 401, "unauthorized")
            bodies.add(response.text)
    assert len(bodies) == 1  # nothing tells one refusal from another


def test_admin_area_is_closed_without_a_configured_token(engine: Engine,
                                                         terminal_key: str) -> None:
    from backend_stub.app import create_app

    with TestClient(create_app(engine, None), raise_server_exceptions=False) as client:
        for header in ("", "Bearer ", f"Bearer {terminal_key}"):
            response = client.get("/v1/admin/users", headers={"Authorization": header})
            is_problem(response, 401, "unauthorized")


def test_the_key_is_the_terminal_identity(client: TestClient, engine: Engine,
                                          terminal_key: str) -> None:
    flow = start(client)
    key_id = terminal_key.split("_")[1]
    with engine.db.connect() as conn:
        seen = set(conn.execute(select(audit_events.c.terminal).where(
            audit_events.c.support_code == flow["support_code"])).scalars())
        stored = conn.execute(select(terminals.c.key_hash)).scalars().all()
    assert seen == {f"api:{key_id}"}
    assert terminal_key not in stored and all(len(h) == 64 for h in stored)


# ---------------------------------------------------------------- problems and validation


def test_errors_are_problem_details_with_the_support_code(client: TestClient) -> None:
    flow = start(client)
    body = is_problem(client.put(f"/v1/flows/{flow['flow_id']}/password",
                                 json={"password": "Violet-harbour-lantern-93"}),
                      409, "step_out_of_order")
    assert body["support_code"] == flow["support_code"]
    assert body["params"] == {"step": "choose_method"}
    is_problem(client.post("/v1/flows/nosuchflowatall/questions"), 404, "flow_not_found")
    frank = client.post("/v1/flows", json={"purpose": "register", "username": "frank"}).json()
    is_problem(client.post(f"/v1/flows/{frank['flow_id']}/sign-in",
                           json={"password": "Frank-demo-pass-1"}), 403, "not_eligible")
    is_problem(client.get("/v1/nothing-here"), 404, "not_found")
    is_problem(client.patch("/v1/branding"), 405, "method_not_allowed")


def test_every_kind_of_account_gets_the_same_answer_at_start(client: TestClient) -> None:
    """Unknown, out of scope (frank), nothing registered (erin), administrator (carol) and an
    ordinary user: the same status, body shape and proofs shown, until a proof succeeds."""
    faces = set()
    for name in ("alice", "frank", "erin", "carol", "nobody.at.all"):
        response = client.post("/v1/flows", json={"purpose": "reset", "username": name})
        body = response.json()
        faces.add((response.status_code, tuple(sorted(body)), body["step"],
                   body["gates_required"], body["gates_passed"], bool(body["methods"]),
                   tuple(sorted(body["methods"][0]))))
    assert len(faces) == 1, faces


def test_validation_names_the_field_but_never_echoes_the_value(client: TestClient) -> None:
    flow = start(client)["flow_id"]
    secret = "TOPSECRET-value-42"
    cases = [
        (f"/v1/flows/{flow}/answers", {"answers": secret}, "answers"),
        (f"/v1/flows/{flow}/answers", {"answers": [secret, 7, secret]}, "answers.1"),
        (f"/v1/flows/{flow}/password/check", {"password": 424242424242}, "password"),
        (f"/v1/flows/{flow}/password/check", {"password": "x", "evil": secret}, "evil"),
        (f"/v1/flows/{flow}/sign-in", {"passwd": secret}, "password"),
        (f"/v1/flows/{flow}/password/check", {"password": secret * 300}, "password"),
        ("/v1/flows", {"purpose": secret, "username": "alice"}, "purpose"),
    ]
    for path, body, field in cases:
        response = client.post(path, json=body)
        problem = is_problem(response, 422, "invalid_input")
        assert problem["params"]["field"] == field
        # the shape (pydantic) lists each wrong field; the values the engine checks itself
        assert all(e["field"] and e["problem"] for e in problem["params"].get("errors", []))
        assert "TOPSECRET" not in response.text and "424242424242" not in response.text
    broken = client.post(f"/v1/flows/{flow}/password/check",
                         content=b'{"password": "TOPSECRET-in-broken-json',
                         headers={"Content-Type": "application/json"})
    is_problem(broken, 422, "invalid_input")
    assert "TOPSECRET" not in broken.text


@pytest.mark.parametrize(("body", "field"), [
    (b'{"purpose": "reset", "username": "\\ud800abc"}', "username"),  # a lone surrogate
    (b'{"purpose": "reset", "username": "abc\\udfff"}', "username"),
    (b'{"purpose": "reset", "username": "\xed\xa0\x80abc"}', "username"),  # json.loads takes it
    (b'{"purpose": "re\\ud800set", "username": "alice"}', "purpose"),
    # refused by the HTTP layer before the engine, and said without echoing the key back
    (b'{"purpose": "reset", "username": "alice", "\\udc00": 1}', "body"),
])
def test_text_that_is_not_utf8_is_invalid_input_not_a_500(client: TestClient, body: bytes,
                                                          field: str) -> None:
    response = client.post("/v1/flows", content=body,
                           headers={"Content-Type": "application/json"})
    assert is_problem(response, 422, "invalid_input")["params"]["field"] == field


def test_every_text_field_refuses_lone_surrogates(client: TestClient) -> None:
    """The engine's `text_arg` refuses them, so every entry point does (not only the name)."""
    flow = start(client)["flow_id"]
    signing_in = start(client, "erin", "register")["flow_id"]
    client.post(f"/v1/flows/{flow}/questions")  # alice has questions: the answer step
    cases = [
        (f"/v1/flows/{flow}/answers", {"answers": ["rex", "\ud800", "ally"]}, "answer"),
        (f"/v1/flows/{flow}/password/check", {"password": "Violet-\udc00-lantern-93"},
         "password"),
        (f"/v1/flows/{signing_in}/sign-in", {"password": "Erin-demo-\ud83d"}, "password"),
    ]
    for path, body, field in cases:
        response = client.post(path, content=json.dumps(body).encode(),
                               headers={"Content-Type": "application/json"})
        assert is_problem(response, 422, "invalid_input")["params"]["field"] == field, path


def test_request_bodies_are_limited(client: TestClient) -> None:
    flow = start(client)["flow_id"]
    big = {"password": "x" * 17000}
    body = is_problem(client.post(f"/v1/flows/{flow}/password/check", json=big),
                      413, "payload_too_large")
    assert body["params"] == {"limit": 16384}

    def chunks() -> Iterator[bytes]:
        yield b'{"password": "'
        for _ in range(20):
            yield b"y" * 1000
        yield b'"}'

    streamed = client.post(f"/v1/flows/{flow}/password/check", content=chunks(),
                           headers={"Content-Type": "application/json"})
    is_problem(streamed, 413, "payload_too_large")
    # just under the limit is fine (and refused by the engine's own rule, as too long)
    fits = client.post(f"/v1/flows/{flow}/password/check", json={"password": "z" * 4000})
    is_problem(fits, 409, "step_out_of_order")


def test_api_answers_are_not_cached(client: TestClient, anon: TestClient) -> None:
    assert client.get("/v1/branding").headers["cache-control"] == "no-store"
    assert anon.get("/v1/branding").headers["cache-control"] == "no-store"
    assert "cache-control" not in anon.get("/healthz").headers


# ---------------------------------------------------------------- secrets never leave


def test_no_answer_carries_a_code_an_answer_or_a_hash(client: TestClient, admin: TestClient,
                                                      engine: Engine) -> None:
    texts: list[str] = []

    def keep(response):  # type: ignore[no-untyped-def]
        texts.append(response.text)
        return response

    flow = start(client)
    texts.append(json.dumps(flow))
    fid = flow["flow_id"]
    sent = keep(client.post(f"/v1/flows/{fid}/codes", json={"method": "email",
                                                              "channel": "email"})).json()
    code = last_code(engine, "alice@contoso.org")
    keep(client.post(f"/v1/flows/{fid}/codes/{sent['challenge']['id']}/verify",
                     json={"code": "00000000" if code != "00000000" else "11111111"}))
    keep(client.post(f"/v1/flows/{fid}/questions"))
    keep(client.post(f"/v1/flows/{fid}/answers", json={"answers": ["a1x", "b2y", "c3z"]}))
    keep(client.post(f"/v1/flows/{fid}/codes", json={"method": "email", "channel": "email"}))
    keep(client.get("/v1/branding"))
    for path in ("/v1/admin/users", "/v1/admin/users/alice", "/v1/admin/users/bob",
                 "/v1/admin/audit", "/v1/admin/audit.csv", "/v1/admin/report",
                 "/v1/admin/terminals"):
        response = keep(admin.get(path))
        assert response.status_code == 200, (path, response.text)
    everything = "\n".join(texts)
    for secret in (code, f"{code[:4]} {code[4:]}", "$argon2", '"rex"', "springfield", '"ally"',
                   "JBSWY3DPEHPK3PXP", "hk_", "Alice-demo-pass-1"):
        assert secret not in everything, secret


# ---------------------------------------------------------------- health


def test_health_and_readiness(anon: TestClient, app: FastAPI) -> None:
    assert anon.get("/healthz").json() == {"status": "ok"}
    assert anon.get("/readyz").json() == {"status": "ready"}


def test_a_database_outage_is_503(app: FastAPI, engine: Engine, client: TestClient,
                                  tmp_path) -> None:  # type: ignore[no-untyped-def]
    healthy = engine.db
    broken = create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    try:
        engine.db = broken
        body = is_problem(client.get("/readyz"), 503, "service_unavailable")
        assert body["detail"] == "the database is not reachable"
        assert client.get("/healthz").status_code == 200
        # a flow call on the broken database (the key is checked on the healthy one)
        app.state.terminals.db = healthy
        response = client.post("/v1/flows", json={"purpose": "reset", "username": "alice"})
        body = is_problem(response, 503, "service_unavailable")
        assert response.headers["retry-after"] == "5"
        assert "sqlite" not in response.text.lower()
        # and when the key store itself is down
        app.state.terminals.db = broken
        response = client.get("/v1/branding")
        is_problem(response, 503, "service_unavailable")
    finally:
        engine.db = healthy
        app.state.terminals.db = healthy
        broken.dispose()


def test_outbox_only_in_demo_mode(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    from backend_stub.app import create_app
    from tests.support.engine import make_engine

    engine = make_engine(tmp_path, clock, demo=False)
    key = TerminalStore(engine.db, clock).create("k")[1]
    with TestClient(create_app(engine), raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {key}"}) as client:
        is_problem(client.get("/v1/outbox"), 404, "not_available")
        is_problem(client.get("/v1/outbox?limit=0"), 422, "invalid_input")
    engine.db.dispose()


@pytest.mark.parametrize("path", ["/openapi.json"])
def test_openapi_is_public(anon: TestClient, path: str) -> None:
    document = anon.get(path).json()
    assert document["info"]["title"] == "Helpdesk Kiosk API"
    assert anon.get("/docs").status_code == 404  # no UI loading scripts from a CDN
