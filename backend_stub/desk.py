"""`/v1/admin/desk/...`: the helpdesk console over HTTP (kiosk/console/source.py's RemoteDesk).

Admin token only (the Guard middleware refuses a terminal key with 401 before any routing).
Every call that changes something names the agent in its body; it goes into the audit log.
The token names nobody: the agent's name is what the console was started with.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from backend_stub.auth import admin_caller
from backend_stub.problems import documented
from kiosk.desk import Board, Case, CaseSummary, IssuedPass, Lifted, PassInfo, PassRequest
from kiosk.engine.helpdesk import Helpdesk

router = APIRouter(prefix="/v1/admin/desk", tags=["helpdesk"],
                   dependencies=[Depends(admin_caller)],
                   responses=documented(400, 401, 404, 413, 422, 503))


async def desk_of(request: Request) -> Helpdesk:
    desk = getattr(request.app.state, "helpdesk", None)
    if desk is None:
        desk = request.app.state.helpdesk = Helpdesk(request.app.state.engine)
    return desk


DeskDep = Annotated[Helpdesk, Depends(desk_of)]


class _Agent(BaseModel):
    agent: str = Field(min_length=1, max_length=64, description="the agent, for the audit log")


class OpenCase(_Agent):
    support_code: str = Field(max_length=20, examples=["ABCD-EFGH"])


class LiftCase(OpenCase):
    reason: str = Field(min_length=1, max_length=200)


class LiftUser(_Agent):
    username: str = Field(max_length=256)
    reason: str = Field(min_length=1, max_length=200)


class IssuePass(_Agent, PassRequest):
    pass


class RevokePass(LiftUser):
    pass


@router.post("/cases/open", response_model=Case)
def open_case(body: OpenCase, desk: DeskDep) -> Case:
    """The visit with this support code (records `contacted_admin` under it)."""
    return desk.case(body.support_code, body.agent)


@router.get("/cases", response_model=list[CaseSummary])
def cases_of(desk: DeskDep, user: Annotated[str, Query(max_length=256)]) -> list[CaseSummary]:
    """A user's visits, newest first."""
    return desk.cases_of(user)


@router.post("/cases/lift", response_model=Lifted)
def lift_case(body: LiftCase, desk: DeskDep) -> Lifted:
    """End the blocks that stop this visit (audited with the agent and the reason)."""
    return Lifted(lifted=desk.lift_case(body.support_code, body.agent, body.reason))


@router.post("/users/lift", response_model=Lifted)
def lift_user(body: LiftUser, desk: DeskDep) -> Lifted:
    """End a user's blocks (audited with the agent and the reason)."""
    return Lifted(lifted=desk.lift_user(body.username, body.agent, body.reason))


@router.post("/passes", response_model=IssuedPass)
def issue_pass(body: IssuePass, desk: DeskDep) -> IssuedPass:
    """A temporary access pass; its text is in this answer only (marked no-store)."""
    return desk.issue_pass(body.agent, PassRequest.model_validate(
        body.model_dump(exclude={"agent"})))


@router.post("/passes/revoke", response_model=PassInfo)
def revoke_pass(body: RevokePass, desk: DeskDep) -> PassInfo:
    return desk.revoke_pass(body.username, body.agent, body.reason)


@router.get("/passes/{username}", response_model=PassInfo | None)
def pass_status(username: str, desk: DeskDep) -> PassInfo | None:
    """The user's newest pass (never its text), or null."""
    return desk.pass_status(username)


@router.get("/board", response_model=Board)
def board(desk: DeskDep) -> Board:
    """Live visits, terminal counters and user blocks, now."""
    return desk.board()
