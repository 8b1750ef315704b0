"""backend_stub: the HTTP API of Helpdesk Kiosk over kiosk.engine (FastAPI + uvicorn).

Never imports textual. Start it with `kiosk serve-api` or `python -m backend_stub`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backend_stub.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:  # lazy: `kiosk --help` must not import FastAPI
    if name == "create_app":
        from backend_stub.app import create_app

        return create_app
    raise AttributeError(name)
