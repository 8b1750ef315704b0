"""`/v1/admin/explain/{username}` and `/v1/admin/daily`: what the console's explain and reports
pages show, for a console working against the API (admin token, like every /v1/admin route)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from backend_stub.admin import EngineDep
from backend_stub.auth import admin_caller
from backend_stub.problems import documented
from kiosk.engine.daily import console_report, export_csv
from kiosk.engine.explain import explain

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(admin_caller)],
                   responses=documented(401, 413, 422, 503))


@router.get("/explain/{username}")
def explain_user(engine: EngineDep,
                 username: Annotated[str, Path(min_length=1, max_length=256)]) -> dict[str, Any]:
    """Why a user can or cannot use self-service under the policy in force (never a secret:
    method kinds only, no contacts)."""
    return explain(engine, username).to_json()


@router.get("/daily")
def daily_report(engine: EngineDep,
                 days: Annotated[int, Query(ge=1, le=366)] = 14) -> dict[str, Any]:
    """Resets, unlocks, registrations and blocks per UTC day, top failure reasons, terminals'
    activity and registration coverage."""
    return console_report(engine, days).to_json()


@router.get("/daily.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "the period's audit events as CSV"}})
def daily_csv(engine: EngineDep, days: Annotated[int, Query(ge=1, le=366)] = 14) -> Response:
    """The audit events of the same period as `/daily`, with the columns of `kiosk admin
    audit export`."""
    return Response(export_csv(engine, days), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
