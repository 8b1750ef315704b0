"""The `/v1` endpoints: the Backend protocol, one endpoint per row of the operation table
(kiosk/backend/operations.py).

Every endpoint is a plain `def`: FastAPI runs it in its thread pool, as engine calls are
synchronous (database, argon2). The terminal identity comes from the API key (`api:<key id>`):
each call goes to the engine's session of that terminal, hence into every audit event and
throttle key. A row's path segments, body fields and query parameters are the arguments of
the session method of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import Parameter, Signature
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from backend_stub.auth import terminal_identity
from backend_stub.problems import documented
from kiosk.backend.operations import OPERATIONS, Operation
from kiosk.engine.engine import Engine

Terminal = Annotated[str, Depends(terminal_identity)]

router = APIRouter(prefix="/v1", responses=documented(401, 413, 422, 503))


async def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(engine_of)]


def _parameters(op: Operation) -> list[Parameter]:
    """The endpoint's signature, which FastAPI reads: path segments, the body, the engine and
    the terminal (dependencies), then the query parameters with their bounds."""
    keyword = Parameter.KEYWORD_ONLY
    parameters = [Parameter(name, keyword, annotation=str) for name in op.segments]
    if op.body is not None:
        parameters.append(Parameter("body", keyword, annotation=op.body))
    parameters += [Parameter("engine", keyword, annotation=EngineDep),
                   Parameter("terminal", keyword, annotation=Terminal)]
    parameters += [Parameter(q.name, keyword, default=q.default,
                             annotation=Annotated[int, Query(ge=q.low, le=q.high)])
                   for q in op.query]
    return parameters


def _endpoint(op: Operation) -> Callable[..., Any]:
    def endpoint(*, engine: Engine, terminal: str, body: BaseModel | None = None,
                 **given: Any) -> Any:
        if body is not None:
            given.update(body.model_dump())
        return getattr(engine.session(terminal), op.name)(**given)

    vars(endpoint)["__signature__"] = Signature(_parameters(op))  # not in typeshed
    endpoint.__doc__ = op.doc or None  # the operation's description in OpenAPI
    return endpoint


for _op in OPERATIONS:
    router.add_api_route(
        _op.path, _endpoint(_op), methods=[_op.verb], name=_op.name, response_model=_op.result,
        status_code=_op.status, tags=[_op.tag],
        responses=documented(*_op.problems) if _op.problems else None,
    )
