"""The API's /v1/admin and `kiosk admin` read one admin core (kiosk.engine.admin): the same
users, groups, methods and blocks, never a secret."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from kiosk.engine.admin import Admin
from kiosk.engine.engine import Engine
from kiosk.engine.schema import blocks, users
from kiosk.engine.throttle import subjects_of


def test_the_api_shows_what_the_admin_core_shows(admin: TestClient, engine: Engine) -> None:
    core = {u.username: u for u in Admin(engine).list_users()}
    served = {u["username"]: u for u in admin.get("/v1/admin/users").json()}
    assert set(served) == set(core)
    for name, info in core.items():
        assert served[name]["methods"] == list(info.methods)
        assert served[name]["groups"] == info.all_groups
        assert served[name]["is_admin"] == info.is_admin
    bob = admin.get("/v1/admin/users/bob").json()
    assert {c["kind"] for c in bob["contacts"]} == set(core["bob"].methods) - {"questions"}


def test_a_block_shows_in_the_listing_and_the_detail(admin: TestClient, engine: Engine) -> None:
    now = engine.clock.now()
    with engine.db.begin() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.username == "alice")).scalar_one()
        account, typed = subjects_of(uid, "alice")
        conn.execute(insert(blocks), [
            {"subject": account, "reason": "too_many_failures", "support_code": "AAAA-BBBB",
             "created_at": now, "until": now + timedelta(minutes=15)},
            {"subject": typed, "reason": "too_many_failures", "support_code": "CCCC-DDDD",
             "created_at": now, "until": now + timedelta(minutes=30)},
            {"subject": account, "reason": "too_many_failures", "support_code": "EEEE-FFFF",
             "created_at": now - timedelta(hours=2), "until": now - timedelta(hours=1)},
        ])
    listed = {u["username"]: u for u in admin.get("/v1/admin/users").json()}
    assert listed["alice"]["blocked_until"].startswith(
        (now + timedelta(minutes=30)).isoformat()[:19])
    assert listed["bob"]["blocked_until"] is None
    detail = admin.get("/v1/admin/users/ALICE").json()
    assert [b["support_code"] for b in detail["blocks"]] == ["CCCC-DDDD", "AAAA-BBBB"]
    assert Admin(engine).show_user("alice").block_support_code == "CCCC-DDDD"


def test_no_secret_leaves_the_detail(admin: TestClient, engine: Engine) -> None:
    from kiosk.engine import registry

    text = admin.get("/v1/admin/users/bob").text + admin.get("/v1/admin/users/alice").text
    with engine.db.connect() as conn:
        for name in ("alice", "bob"):
            uid = conn.execute(select(users.c.id).where(users.c.username == name)).scalar_one()
            reg = registry.load(conn, uid)
            secrets = [a.answer_hash for a in reg.answers] + [*reg.contacts.values()]
            if reg.totp_secret:
                secrets.append(reg.totp_secret)
            assert not [s for s in secrets if s and s in text]
