"""`/v1/admin/...`: users, audit export (JSON, CSV), report, terminals."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from tests.support.engine import last_code


def run_alice_reset(client: TestClient, engine: Engine) -> dict:
    flow = client.post("/v1/flows", json={"purpose": "reset", "username": "alice"}).json()
    fid = flow["flow_id"]
    sent = client.post(f"/v1/flows/{fid}/codes", json={"method": "email", "channel": "email"})
    challenge = sent.json()["challenge"]["id"]
    code = last_code(engine, "alice@contoso.org")
    verified = client.post(f"/v1/flows/{fid}/codes/{challenge}/verify", json={"code": code})
    assert verified.json()["step"] == "new_password"
    done = client.put(f"/v1/flows/{fid}/password", json={"password": "Violet-harbour-lantern-93"})
    assert done.json()["result"] == "reset"
    return flow


def test_users_list_and_show(admin: TestClient) -> None:
    users = {u["username"]: u for u in admin.get("/v1/admin/users").json()}
    assert set(users) == {"alice", "bob", "carol", "dave", "erin", "frank"}
    assert users["alice"]["methods"] == ["email", "mobile", "questions"]
    assert users["bob"]["methods"] == ["email", "authenticator"]
    assert users["carol"]["is_admin"] and users["dave"]["locked"]
    assert "sspr-users" in users["alice"]["groups"] and "sspr-users" not in users["frank"]["groups"]

    alice = admin.get("/v1/admin/users/Alice").json()
    assert {(c["kind"], c["masked"]) for c in alice["contacts"]} == {
        ("email", "a•••@c•••.org"), ("mobile", "+1 •• •• ••42")}
    assert sorted(alice["question_ids"]) == ["city", "nickname", "pet"]
    bob = admin.get("/v1/admin/users/bob").json()
    assert {"kind": "authenticator", "masked": ""} in bob["contacts"]
    missing = admin.get("/v1/admin/users/nobody")
    assert missing.status_code == 404 and missing.json()["code"] == "not_available"


def test_audit_export_and_report(admin: TestClient, client: TestClient, engine: Engine,
                                 clock: FrozenClock, terminal_key: str) -> None:
    flow = run_alice_reset(client, engine)
    key_id = terminal_key.split("_")[1]
    events = admin.get("/v1/admin/audit", params={"support_code": flow["support_code"]}).json()
    assert events and all(e["terminal"] == f"api:{key_id}" for e in events)
    assert events[-1]["activity"] == "reset" and events[-1]["result"] == "succeeded"
    assert events[-1]["activity_label"] == "reset (self-service)"
    assert events[-1]["method"] == "email"

    only_bob = admin.get("/v1/admin/audit", params={"username": "bob"}).json()
    assert only_bob == []
    later = clock.now().isoformat()
    assert admin.get("/v1/admin/audit", params={"until": later}).json() == []
    limited = admin.get("/v1/admin/audit", params={"limit": 2}).json()
    assert len(limited) == 2

    exported = admin.get("/v1/admin/audit.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == len(admin.get("/v1/admin/audit").json())
    assert rows[-1]["terminal"] == f"api:{key_id}"
    assert rows[0]["method"] == "" and rows[0]["detail"] == "identified for reset"

    report = admin.get("/v1/admin/report", params={"days": 1}).json()
    assert report["resets_succeeded"] == 1 and report["flows_started"] == 1
    assert report["by_terminal"][0]["terminal"] == f"api:{key_id}"
    assert admin.get("/v1/admin/report", params={"days": 0}).status_code == 422


def test_csv_cells_that_look_like_formulas_are_quoted(admin: TestClient, engine: Engine) -> None:
    from kiosk.engine import audit
    from kiosk.engine.audit import Activity, AuditContext, Result

    with engine.db.begin() as conn:
        audit.record(conn, AuditContext("c" * 36, "ABCD-EFGH", "=cmd|' /C calc'!A0", "@bob"),
                     engine.clock.now(), Activity.PROGRESS, Result.FAILED, detail="-2+3")
    row = list(csv.DictReader(io.StringIO(admin.get("/v1/admin/audit.csv").text)))[-1]
    assert (row["terminal"], row["username"], row["detail"]) == (
        "'=cmd|' /C calc'!A0", "'@bob", "'-2+3")


def test_terminals_listing(admin: TestClient, terminal_key: str) -> None:
    rows = admin.get("/v1/admin/terminals").json()
    assert [(r["name"], r["identity"]) for r in rows] == [
        ("test-kiosk", f"api:{terminal_key.split('_')[1]}")]
    assert "key_hash" not in rows[0] and terminal_key not in str(rows)
