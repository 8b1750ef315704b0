"""The committed OpenAPI document is the served one.

When this fails after an API change, regenerate it:  python -m backend_stub.openapi
"""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from backend_stub.app import OPENAPI_FILE, render_openapi


def test_committed_openapi_matches_the_served_one(anon: TestClient) -> None:
    served = anon.get("/openapi.json").json()
    committed = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    assert committed == served, (
        "backend_stub/openapi.json is stale: run `python -m backend_stub.openapi`")
    assert OPENAPI_FILE.read_text(encoding="utf-8") == render_openapi(), (
        "backend_stub/openapi.json is not in canonical form: run "
        "`python -m backend_stub.openapi`")


def test_every_operation_is_secured_and_documents_its_problems() -> None:
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    operations = [(path, method, op) for path, item in document["paths"].items()
                  for method, op in item.items()]
    assert len(operations) >= 25
    for path, method, op in operations:
        if not path.startswith("/v1/"):
            continue
        scheme = "adminToken" if path.startswith("/v1/admin/") else "terminalKey"
        assert op["security"] == [{scheme: []}], (method, path)
        for status in ("401", "413", "422", "503"):
            content = op["responses"][status]["content"]
            assert set(content) == {"application/problem+json"}, (method, path, status)


def test_the_protocol_is_all_there() -> None:
    """One endpoint per Backend call (the two lists are kept side by side here)."""
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    have = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    flow = "/v1/flows/{flow_id}"
    expected = {
        ("GET", "/v1/branding"), ("POST", "/v1/flows"), ("DELETE", flow),
        ("POST", f"{flow}/codes"), ("POST", f"{flow}/codes/{{challenge_id}}/verify"),
        ("POST", f"{flow}/questions"), ("POST", f"{flow}/answers"), ("POST", f"{flow}/totp"),
        ("POST", f"{flow}/password/check"), ("PUT", f"{flow}/password"),
        ("POST", f"{flow}/unlock"), ("POST", f"{flow}/sign-in"),
        ("GET", f"{flow}/registration/question-pool"), ("POST", f"{flow}/registration/email"),
        ("POST", f"{flow}/registration/phone"),
        ("POST", f"{flow}/registration/contacts/{{challenge_id}}/confirm"),
        ("PUT", f"{flow}/registration/questions"),
        ("POST", f"{flow}/registration/authenticator"),
        ("POST", f"{flow}/registration/authenticator/confirm"),
        ("POST", f"{flow}/registration/finish"), ("GET", "/v1/outbox"),
        ("GET", "/v1/operator-exit"), ("POST", "/v1/operator-exit"),
        ("GET", "/v1/admin/users"), ("GET", "/v1/admin/users/{username}"),
        ("GET", "/v1/admin/audit"), ("GET", "/v1/admin/audit.csv"), ("GET", "/v1/admin/report"),
        ("GET", "/v1/admin/terminals"), ("GET", "/healthz"), ("GET", "/readyz"),
        ("POST", f"{flow}/pass"),
        # the helpdesk console (backend_stub/desk.py)
        ("POST", "/v1/admin/desk/cases/open"), ("GET", "/v1/admin/desk/cases"),
        ("POST", "/v1/admin/desk/cases/lift"), ("POST", "/v1/admin/desk/users/lift"),
        ("POST", "/v1/admin/desk/passes"), ("POST", "/v1/admin/desk/passes/revoke"),
        ("GET", "/v1/admin/desk/passes/{username}"), ("GET", "/v1/admin/desk/board"),
        # the console's explain and reports pages (backend_stub/console_reports.py)
        ("GET", "/v1/admin/explain/{username}"), ("GET", "/v1/admin/daily"),
        ("GET", "/v1/admin/daily.csv"),
    }
    assert have == expected
