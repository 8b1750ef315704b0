"""schemathesis against the served OpenAPI document: no 5xx, every answer as documented.

Bounded: at most 30 examples per operation (positive and negative data), and the whole run
stops generating after TIME_BUDGET seconds (later operations are then skipped, not failed).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend_stub.app import create_app
from kiosk.backend import Channel, MethodKind, Purpose
from kiosk.engine.clock import FrozenClock
from kiosk.engine.terminals import TerminalStore
from tests.support.api import ADMIN_TOKEN
from tests.support.engine import make_engine

MAX_EXAMPLES = 30
TIME_BUDGET = 90.0
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]

pytestmark = pytest.mark.slow
_started: list[float] = []


class FuzzTarget:
    def __init__(self, folder: Path) -> None:
        self.engine = make_engine(folder, FrozenClock())
        self.key = TerminalStore(self.engine.db, self.engine.clock).create("fuzzer")[1]
        self.app = create_app(self.engine, ADMIN_TOKEN)
        terminal = f"api:{self.key.split('_')[1]}"
        # real flows and a pending code, so the database is not empty while fuzzing
        flows = [self.engine.session(terminal).start(Purpose.RESET, name)
                 for name in ("alice", "carol", "zed")]
        self.engine.session(terminal).send_code(flows[0].flow_id, MethodKind.EMAIL, Channel.EMAIL)
        self.calls = 0

    def headers(self, path: str) -> dict[str, str]:
        token = ADMIN_TOKEN if path.startswith("/v1/admin/") else self.key
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    target = FuzzTarget(tmp_path_factory.mktemp("fuzz"))
    yield target
    target.engine.db.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_target: FuzzTarget) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_target.app)
    schema.config.generation.update(max_examples=MAX_EXAMPLES)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True, database=None)
def test_api_conforms_to_its_openapi(case: Any, fuzz_target: FuzzTarget) -> None:
    if not _started:
        _started.append(time.monotonic())
    if time.monotonic() - _started[0] > TIME_BUDGET:
        pytest.skip("fuzzing time budget used up")
    fuzz_target.calls += 1
    case.call_and_validate(headers=fuzz_target.headers(case.path), checks=CHECKS)

