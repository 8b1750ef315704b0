"""The flow's language in the API body: optional, a string shaped like a language tag; anything
else is the same 422 invalid_input naming the field, and starts nothing."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kiosk.engine.engine import Engine
from kiosk.engine.schema import flows


@pytest.mark.parametrize("language", [7, ["de"], {"tag": "de"}, True, "", "de\u0000",
                                      "\ud800de", "x" * 40, "de_AT_x_y_z_w"])
def test_a_language_that_is_not_a_tag_is_refused(client: TestClient, engine: Engine,
                                                 language: object) -> None:
    body = json.dumps({"purpose": "reset", "username": "alice", "language": language})
    response = client.post("/v1/flows", content=body.encode(),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid_input" and problem["params"]["field"] == "language"
    with engine.db.connect() as conn:
        assert conn.execute(select(flows.c.id)).first() is None


@pytest.mark.parametrize(("language", "stored"), [("de", "de"), ("de-CH", "de"), (None, "en"),
                                                  ("pt-BR", "en")])
def test_the_flow_keeps_the_language_it_was_started_in(client: TestClient, engine: Engine,
                                                       language: str | None,
                                                       stored: str) -> None:
    body = {"purpose": "reset", "username": "alice", "language": language}
    response = client.post("/v1/flows", json=body)
    assert response.status_code == 201, response.text
    with engine.db.connect() as conn:
        found = conn.execute(select(flows.c.language).where(
            flows.c.id == response.json()["flow_id"])).scalar_one()
    assert found == stored
