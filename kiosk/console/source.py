"""The helpdesk console's protocol: everything the console (and `kiosk admin case|pass`) may
ask, and two ways to serve it, like the kiosk's Backend (kiosk/backend/protocol.py):

- `EmbeddedDesk`: the engine in-process (kiosk.engine.helpdesk), each call in a worker thread;
- `RemoteDesk`: the HTTP API's `/v1/admin/desk/...` endpoints (backend_stub/desk.py) with the
  admin token. A terminal's API key is refused there (401), and `RemoteDesk.check` says so
  plainly instead of "service unavailable".

Errors are the kiosk's typed errors (kiosk.backend): InvalidInput (a bad code, name, reason or
pass request: nothing changed), NotAvailable (no such visit / user / pass, nothing blocked),
ServiceUnavailable (the API cannot be reached).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from kiosk.desk import (
    Board,
    Case,
    CaseSummary,
    IssuedPass,
    Lifted,
    PassInfo,
    PassRequest,
    clean_agent,
)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@runtime_checkable
class DeskSource(Protocol):
    """What the helpdesk console calls. `agent` names the person at the console in the audit
    log (the console's --agent; the admin token itself names nobody)."""

    agent: str

    async def open_case(self, support_code: str) -> Case:
        """The visit with this support code: timeline, what blocks it, the user's pass.
        Records `contacted_admin` under the visit (the visitor came to the desk)."""

    async def cases_of(self, username: str) -> list[CaseSummary]:
        """The user's visits, newest first (read-only: nothing is recorded)."""

    async def lift_case(self, support_code: str, reason: str) -> int:
        """End the blocks that stop this visit (user and, if it is blocked, terminal); audited
        with the agent and the reason. Returns how many blocks ended."""

    async def lift_user(self, username: str, reason: str) -> int:
        """End a user's blocks (the board's one key); audited likewise."""

    async def issue_pass(self, request: PassRequest) -> IssuedPass:
        """A temporary access pass for one user; its text is in the answer, and nowhere else."""

    async def revoke_pass(self, username: str, reason: str) -> PassInfo:
        """End the user's active pass now."""

    async def pass_status(self, username: str) -> PassInfo | None:
        """The user's newest pass (never its text), or None."""

    async def board(self) -> Board:
        """Live visits, terminal counters, user blocks (one snapshot; the console asks once a
        second at most)."""

    async def close(self) -> None: ...


class EmbeddedDesk:
    def __init__(self, engine: Any, agent: str) -> None:
        from kiosk.engine.helpdesk import Helpdesk

        self.engine = engine
        self.desk = Helpdesk(engine)
        self.agent = clean_agent(agent)

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.to_thread(fn, *args)

    async def open_case(self, support_code: str) -> Case:
        return await self._run(self.desk.case, support_code, self.agent)

    async def cases_of(self, username: str) -> list[CaseSummary]:
        return await self._run(self.desk.cases_of, username)

    async def lift_case(self, support_code: str, reason: str) -> int:
        return await self._run(self.desk.lift_case, support_code, self.agent, reason)

    async def lift_user(self, username: str, reason: str) -> int:
        return await self._run(self.desk.lift_user, username, self.agent, reason)

    async def issue_pass(self, request: PassRequest) -> IssuedPass:
        return await self._run(self.desk.issue_pass, self.agent, request)

    async def revoke_pass(self, username: str, reason: str) -> PassInfo:
        return await self._run(self.desk.revoke_pass, username, self.agent, reason)

    async def pass_status(self, username: str) -> PassInfo | None:
        return await self._run(self.desk.pass_status, username)

    async def board(self) -> Board:
        return await self._run(self.desk.board)

    async def close(self) -> None:
        await self._run(self.engine.db.dispose)


class AdminTokenRefused(Exception):
    """The API refused the token: it is not the admin token (a terminal key, a typo)."""


_CASES = TypeAdapter(list[CaseSummary])
_PASS = TypeAdapter(PassInfo | None)
PREFIX = "/v1/admin/desk"


class RemoteDesk:
    """The protocol over `/v1/admin/desk` (backend_stub/desk.py). Only reads are retried."""

    def __init__(self, url: str, admin_token: str, agent: str, **options: Any) -> None:
        from kiosk.adapters.remote import RemoteBackend

        self.agent = clean_agent(agent)
        # the kiosk's HTTP client: timeouts, problem details back into typed errors
        self._http = RemoteBackend(url, admin_token, **options)

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self._http._call("GET", PREFIX + path, params=params, idempotent=True)

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._http._call("POST", PREFIX + path, body={"agent": self.agent, **body})

    async def check(self) -> None:
        """Raise AdminTokenRefused when the API does not take this token as the admin's."""
        from kiosk.backend import ServiceUnavailable

        try:
            await self.board()
        except ServiceUnavailable:
            if self._http.key_refused:
                raise AdminTokenRefused(
                    f"{self._http.url} refused the token: `kiosk console --remote` needs the "
                    "API's admin token (KIOSK_ADMIN_TOKEN of `kiosk serve-api`), not a "
                    "terminal's API key") from None
            raise

    async def open_case(self, support_code: str) -> Case:
        return Case.model_validate(await self._post("/cases/open",
                                                    {"support_code": support_code}))

    async def cases_of(self, username: str) -> list[CaseSummary]:
        return _CASES.validate_python(await self._get("/cases", {"user": username}))

    async def lift_case(self, support_code: str, reason: str) -> int:
        data = await self._post("/cases/lift", {"support_code": support_code, "reason": reason})
        return Lifted.model_validate(data).lifted

    async def lift_user(self, username: str, reason: str) -> int:
        data = await self._post("/users/lift", {"username": username, "reason": reason})
        return Lifted.model_validate(data).lifted

    async def issue_pass(self, request: PassRequest) -> IssuedPass:
        return IssuedPass.model_validate(await self._post("/passes", request.model_dump()))

    async def revoke_pass(self, username: str, reason: str) -> PassInfo:
        return PassInfo.model_validate(await self._post(
            "/passes/revoke", {"username": username, "reason": reason}))

    async def pass_status(self, username: str) -> PassInfo | None:
        return _PASS.validate_python(await self._get("/passes/" + quote(username, safe="")))

    async def board(self) -> Board:
        return Board.model_validate(await self._get("/board"))

    async def close(self) -> None:
        await self._http.close()
