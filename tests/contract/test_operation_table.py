"""The operation table declares each Backend call once; the protocol, both adapters, the API
and the engine's session agree with it by name and by argument."""

from __future__ import annotations

import inspect
import json

from backend_stub.app import OPENAPI_FILE
from kiosk.adapters.deferred import DeferredBackend
from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.adapters.remote import BRANDING_PATH, RemoteBackend
from kiosk.backend import CALLS, Backend
from kiosk.backend.operations import OPERATIONS
from kiosk.engine.engine import TerminalSession


def _parameters(fn: object) -> list[str]:
    return [name for name in inspect.signature(fn).parameters if name != "self"]  # type: ignore[arg-type]


def test_every_protocol_call_is_one_operation() -> None:
    declared = {name for name, member in vars(Backend).items()
                if inspect.iscoroutinefunction(member)} - {"close"}
    names = [op.name for op in OPERATIONS]
    assert len(names) == len(set(names))
    assert set(names) == declared == set(CALLS)


def test_an_operations_arguments_are_its_path_body_and_query() -> None:
    for op in OPERATIONS:
        fields = list(op.body.model_fields) if op.body is not None else []
        named = list(op.segments) + fields + [q.name for q in op.query]
        assert named == _parameters(getattr(Backend, op.name)), op.name
        assert named == _parameters(getattr(TerminalSession, op.name)), op.name


def test_every_adapter_serves_every_operation_as_the_protocol_signs_it() -> None:
    for cls in (EmbeddedBackend, RemoteBackend, DeferredBackend):
        for op in OPERATIONS:
            method = getattr(cls, op.name)
            assert inspect.iscoroutinefunction(method), (cls, op.name)
            assert inspect.signature(method) == inspect.signature(getattr(Backend, op.name))


def test_every_operation_is_one_route_of_the_published_document() -> None:
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    for op in OPERATIONS:
        route = document["paths"]["/v1" + op.path][op.verb.lower()]
        assert route["tags"] == [op.tag] and str(op.status) in route["responses"], op.name


def test_the_remote_clients_branding_call_is_the_tables() -> None:
    """The one call a remote kiosk makes before its first frame names its route itself, so
    the table (and pydantic) loads after that frame."""
    op = next(op for op in OPERATIONS if op.name == "branding")
    assert (op.verb, "/v1" + op.path, op.idempotent, op.body, op.query) == (
        "GET", BRANDING_PATH, True, None, ())
