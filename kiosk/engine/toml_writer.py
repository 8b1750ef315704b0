"""Enough TOML for a policy file the kiosk writes itself (the demo policies): nested tables of
strings, numbers, booleans and lists. Reading TOML is tomllib's job."""

from __future__ import annotations

import json
from typing import Any


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Scalars first, then one table per section (sub-tables named `section.sub`)."""
    lines = [f"{key} = {_toml_value(value)}" for key, value in data.items()
             if not isinstance(value, dict)]
    out = "\n".join(lines) + ("\n" if lines else "")
    for key, value in data.items():
        if isinstance(value, dict):
            name = f"{prefix}.{key}" if prefix else key
            out += f"\n[{name}]\n" + to_toml(value, name)
    return out
