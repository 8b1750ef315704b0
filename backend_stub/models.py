"""The API's own response models. The flow calls' request bodies are the contract's
(kiosk.backend.bodies); their responses are kiosk.backend's types unchanged."""

from __future__ import annotations

from pydantic import BaseModel


class Health(BaseModel):
    status: str
