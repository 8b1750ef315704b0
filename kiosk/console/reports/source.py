"""Where the console's explain and reports pages get their data: the engine in-process, or the
HTTP API with the admin token. Both give the same engine objects (Explanation, Daily)."""

from __future__ import annotations

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
        from kiosk.engine.daily import export_csv

        return _write(path, export_csv(self.engine, days))


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
        return _write(path, self._get("/v1/admin/daily.csv", days=days).text)


def _write(path: Path, text: str) -> int:
    from kiosk.engine.policy_file import write_atomically

    write_atomically(path, text)
    return len(text.encode("utf-8"))
