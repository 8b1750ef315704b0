"""Secret files: the SMTP password and the gateway secret from a file or the environment (a
missing or too open file is named by its key), and every key file the kiosk writes is 0600
whatever the umask."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.engine.admin.policy_check import secret_file_problems
from kiosk.engine.config import Gateway, PolicyError, Smtp, parse_policy
from kiosk.engine.delivery_gateway import GatewayDelivery
from kiosk.engine.delivery_smtp import SmtpDelivery
from kiosk.engine.secret_files import (
    GATEWAY_SECRET_ENV,
    SMTP_PASSWORD_ENV,
    gateway_secret,
    smtp_password,
    write_private,
)
from tests.support.engine import make_engine
from tests.support.files import mode, umask


@pytest.fixture(autouse=True)
def umask022() -> Iterator[None]:
    with umask(0o022):
        yield


def secret_file(path: Path, text: str, file_mode: int = 0o600) -> Path:
    path.write_text(text + "\n")
    path.chmod(file_mode)
    return path


def test_the_smtp_password_from_a_file_the_environment_or_the_policy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SMTP_PASSWORD_ENV, raising=False)
    assert smtp_password(Smtp(password="inline")) == "inline"
    monkeypatch.setenv(SMTP_PASSWORD_ENV, "from-env")
    assert smtp_password(Smtp(password="inline")) == "from-env"
    path = secret_file(tmp_path / "smtp.secret", "from-file")
    assert smtp_password(Smtp(password_file=str(path))) == "from-file"


def test_the_gateway_secret_from_a_file_the_environment_or_the_policy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(GATEWAY_SECRET_ENV, raising=False)
    assert gateway_secret(Gateway(secret="inline")) == "inline"
    monkeypatch.setenv(GATEWAY_SECRET_ENV, "from-env")
    assert gateway_secret(Gateway()) == "from-env"
    path = secret_file(tmp_path / "gateway.secret", "from-file")
    assert gateway_secret(Gateway(secret_file=str(path))) == "from-file"


@pytest.mark.parametrize(("section", "key"), [("smtp", "password"), ("gateway", "secret")])
def test_a_missing_or_too_open_file_is_named_by_its_key(tmp_path: Path, section: str,
                                                         key: str) -> None:
    name = f"delivery.{section}.{key}_file"
    build = SmtpDelivery if section == "smtp" else GatewayDelivery
    cases = {"missing": tmp_path / "nope",
             "group": secret_file(tmp_path / "group", "s3cret", 0o640),
             "others": secret_file(tmp_path / "others", "s3cret", 0o604),
             "empty": secret_file(tmp_path / "empty", "")}
    for case, path in cases.items():
        policy = parse_policy({"delivery": {section: {f"{key}_file": str(path)}}})
        with pytest.raises(PolicyError) as refused:
            build(getattr(policy.delivery, section))  # type: ignore[operator]
        assert refused.value.problems[0].startswith(f"{name}: "), case
        assert "s3cret" not in str(refused.value)
        assert secret_file_problems(policy) == [refused.value.problems[0]]
    with pytest.raises(PolicyError, match=f"{name}: set either {key} or {key}_file"):
        parse_policy({"delivery": {section: {key: "x", f"{key}_file": str(tmp_path / "f")}}})


def test_the_engine_refuses_to_start_with_a_bad_password_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    with pytest.raises(PolicyError) as refused:
        make_engine(tmp_path, delivery={
            "kind": "real", "smtp": {"host": "127.0.0.1", "password_file": missing},
            "gateway": {"url": "http://127.0.0.1:9/send"}})
    assert [p.split(":")[0] for p in refused.value.problems] == ["delivery.smtp.password_file"]


def test_policy_check_names_the_key_file_and_ldaps_file(tmp_path: Path) -> None:
    key_file = secret_file(tmp_path / "kiosk.key", os.urandom(32).hex(), 0o644)
    ldap = secret_file(tmp_path / "ldap.secret", "s3cret", 0o640)
    policy = parse_policy({"secrets": {"key_file": str(key_file)},
                           "ldap": {"bind_password_file": str(ldap)}})
    problems = secret_file_problems(policy)
    assert [p.split(":")[0] for p in problems] == ["ldap.bind_password_file", "secrets.key_file"]
    assert all("chmod 600" in p for p in problems)
    assert secret_file_problems(parse_policy({"secrets": {"key_file": str(tmp_path / "new")}})) \
        == []  # made at the first start


def test_written_key_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    from backend_stub.server import write_secret_file
    from kiosk.ssh.server import load_or_create_host_key

    assert write_private(tmp_path / "a.key", b"k")
    assert mode(tmp_path / "a.key") == 0o600
    assert not write_private(tmp_path / "a.key", b"other")  # never replaced unless asked
    assert (tmp_path / "a.key").read_bytes() == b"k"
    assert write_private(tmp_path / "a.key", b"new", replace=True)
    assert (tmp_path / "a.key").read_bytes() == b"new" and mode(tmp_path / "a.key") == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["a.key"]  # no temporary file left

    load_or_create_host_key(tmp_path / "ssh" / "host_key")
    assert mode(tmp_path / "ssh" / "host_key") == 0o600
    terminal_key = tmp_path / "terminal.key"
    terminal_key.write_text("old")  # 0644: a file that was there before
    write_secret_file(terminal_key, "api-key")
    assert mode(terminal_key) == 0o600 and terminal_key.read_text() == "api-key\n"
