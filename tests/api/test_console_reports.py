"""The console's data source against the API: explain and the daily report with the admin
token give what the engine gives in-process; a terminal key is refused."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiosk.console.reports.source import EmbeddedData, RemoteData
from kiosk.engine.engine import Engine
from tests.support.api import ADMIN_TOKEN

from .test_admin_api import run_alice_reset


@pytest.fixture
def remote(app: FastAPI) -> RemoteData:
    return RemoteData("http://testserver", ADMIN_TOKEN, client=TestClient(app))


def test_remote_and_embedded_explain_alike(remote: RemoteData, engine: Engine) -> None:
    local = EmbeddedData(engine)
    for name in ("alice", "carol", "erin", "frank", "nobody"):
        assert remote.explain(name) == local.explain(name)
    assert "a•••" not in str(remote.explain("alice").to_json())  # method kinds, no contacts


def test_remote_and_embedded_report_alike(remote: RemoteData, engine: Engine,
                                          client: TestClient, tmp_path: Path) -> None:
    run_alice_reset(client, engine)
    report = remote.report(7)
    assert report == EmbeddedData(engine).report(7)
    assert report.series["resets"][-1] == 1
    written = remote.export_csv(7, tmp_path / "audit.csv")
    exported = (tmp_path / "audit.csv").read_bytes()
    assert written == len(exported) and b"reset (self-service)" in exported
    local = tmp_path / "local.csv"
    EmbeddedData(engine).export_csv(7, local)
    assert local.read_bytes() == exported


def test_a_terminal_key_is_refused(app: FastAPI, terminal_key: str) -> None:
    remote = RemoteData("http://testserver", terminal_key, client=TestClient(app))
    with pytest.raises(httpx.HTTPStatusError) as err:
        remote.explain("alice")
    assert err.value.response.status_code == 401
    with pytest.raises(httpx.HTTPStatusError):
        remote.report(7)
