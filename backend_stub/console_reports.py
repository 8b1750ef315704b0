"""`/v1/admin/explain/{username}` and `/v1/admin/daily`: what the console's explain and reports
pages show, for a console working against the API (admin token, like every /v1/admin route)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from backend_stub.admin import EngineDep
from backend_stub.auth import admin_caller
from backend_stub.problems import documented
from kiosk.engine.daily import console_report
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
