"""`from kiosk.backend import X` names the whole contract, but importing the package loads no
pydantic (the UI's first frame comes before it): the pydantic models of kiosk.backend.types
load when one of their names is first asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import kiosk.backend
from kiosk.backend import types


def test_every_name_of_the_types_module_is_a_name_of_the_package() -> None:
    for name in types.__all__:
        assert getattr(kiosk.backend, name) is getattr(types, name), name
        assert name in kiosk.backend.__all__ and name in dir(kiosk.backend), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchName"):
        kiosk.backend.NoSuchName  # type: ignore[attr-defined]  # noqa: B018


def test_the_package_loads_pydantic_only_for_a_model() -> None:
    code = ("import sys, kiosk.backend\n"
            "before = 'pydantic' in sys.modules\n"
            "from kiosk.backend import Branding, Step, FlowState\n"
            "print(before, 'pydantic' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(kiosk.__file__).parent.parent)
    assert out.stdout.split() == ["False", "True"]
