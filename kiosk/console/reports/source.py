"""Where the console's explain and reports pages get their data: the engine in-process, or the
HTTP API with the admin token. Both give the same engine objects (Explanation, Daily)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from kiosk.engine.daily import Daily
from kiosk.engine.explain import Explanation


class ConsoleData(Protocol):
    def explain(self, username: str) -> Explanation: ...

    def report(self, days: int) -> Daily: ...

    def export_csv(self, days: int, path: Path) -> int:
        """The audit events of the last `days` days as CSV (as `kiosk admin audit export`);
        returns the number of bytes written."""
        ...


class EmbeddedData:
    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def explain(self, username: str) -> Explanation:
        from kiosk.engine.explain import explain

        if self.engine.policy_watch is not None:  # an edited policy file is explained as saved
            self.engine.policy_watch.check()
        return explain(self.engine, username)

    def report(self, days: int) -> Daily:
        from kiosk.engine.daily import console_report

        return console_report(self.engine, days)

    def export_csv(self, days: int, path: Path) -> int:
        import io

        from kiosk.engine.admin import write_csv
        from kiosk.engine.policy_file import write_atomically
        from kiosk.engine.report import EXPORT_COLUMNS, audit_rows

        until = self.engine.clock.now() + timedelta(seconds=1)
        rows = audit_rows(self.engine, until - timedelta(days=days), until)
        out = io.StringIO(newline="")
        write_csv(out, EXPORT_COLUMNS, ([r[c] for c in EXPORT_COLUMNS] for r in rows))
        write_atomically(path, out.getvalue())
        return len(out.getvalue().encode("utf-8"))


class RemoteData:
    """The API's /v1/admin routes with the admin token (a terminal key is refused there)."""

    def __init__(self, url: str, admin_token: str, *, client: Any = None) -> None:
        import httpx

        self.client = client or httpx.Client(base_url=url.rstrip("/"), timeout=10)
        self.client.headers["Authorization"] = f"Bearer {admin_token}"

    def _get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response

    def explain(self, username: str) -> Explanation:
        from urllib.parse import quote

        return Explanation.from_json(self._get(f"/v1/admin/explain/{quote(username, '')}").json())

    def report(self, days: int) -> Daily:
        return Daily.from_json(self._get("/v1/admin/daily", days=days).json())

    def export_csv(self, days: int, path: Path) -> int:
        from datetime import UTC, datetime

        from kiosk.engine.policy_file import write_atomically

        since = (datetime.now(UTC) - timedelta(days=days)).isoformat()
        text = self._get("/v1/admin/audit.csv", since=since, limit=10_000).text
        write_atomically(path, text)
        return len(text.encode("utf-8"))
