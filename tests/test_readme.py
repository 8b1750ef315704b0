"""The README's opening commands are the ones CI runs."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def opening_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```", 2)[1]  # the first fenced block
    return [line for line in block.splitlines()[1:] if line and not line.startswith("#")]


def test_readme_opens_with_the_demo_and_the_test_command() -> None:
    demo, tests = opening_commands()[:2]
    assert demo.endswith("kiosk demo")
    assert "pytest" in tests


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    tests = opening_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci


def test_ci_runs_the_type_checker_with_the_projects_settings() -> None:
    import tomllib

    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ".venv/bin/mypy kiosk backend_stub" in ci
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    settings = project["tool"]["mypy"]
    assert "pydantic.mypy" in settings["plugins"]
    assert settings["disallow_untyped_defs"] and settings["warn_unused_ignores"]
    test_extra = project["project"]["optional-dependencies"]["test"]
    assert any(dep.startswith("mypy>=") for dep in test_extra)
