"""The SSH server's parts without a client: limits, configuration, host key, demo policy file."""

from __future__ import annotations

import os
import stat
import tomllib
from types import SimpleNamespace

import pytest

from kiosk.engine.config import parse_policy
from kiosk.engine.demo import DEMO_POLICY
from kiosk.ssh.command import make_child_command, to_toml
from kiosk.ssh.server import (
    HostKeyError,
    RateLimiter,
    ServerConfig,
    client_address,
    load_or_create_host_key,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_is_a_sliding_window_per_address() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, 60, clock=clock)
    assert [limiter.allow("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("10.0.0.2")  # another address
    clock.now += 30
    assert not limiter.allow("10.0.0.1")
    assert 29 <= limiter.retry_after("10.0.0.1") <= 30
    clock.now += 30.1  # the first three leave the window
    assert limiter.allow("10.0.0.1")
    assert RateLimiter(0, clock=clock).allow("x")  # 0: no limit


def _config(**kw) -> ServerConfig:  # type: ignore[no-untyped-def]
    return ServerConfig(child_command=lambda terminal: ["true"], **kw)


@pytest.mark.parametrize("kw, message", [
    ({"auth": "password"}, "auth must be one of"),
    ({"auth": "passphrase"}, "argon2 hash"),
    ({"max_sessions": 0}, "max_sessions"),
    ({"rate_limit": -1}, "rate_limit"),
    ({"idle_timeout": 0}, "idle_timeout"),
    ({"max_session_length": -5}, "max_session_length"),
])
def test_config_is_checked(kw, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        _config(**kw)


def test_client_address_is_the_terminal_identity() -> None:
    def conn(peer):  # type: ignore[no-untyped-def]
        return SimpleNamespace(get_extra_info=lambda name, default=None: peer)

    assert client_address(conn(("192.0.2.7", 5000))) == "192.0.2.7"
    assert client_address(conn(("::ffff:192.0.2.7", 5000, 0, 0))) == "192.0.2.7"
    assert client_address(conn(("2001:db8::1", 5000, 0, 0))) == "2001:db8::1"
    assert client_address(conn(("fe80::1%eth0", 5000, 0, 2))) == "fe80::1"


def test_child_command_passes_the_terminal_and_the_backend() -> None:
    embedded = make_child_command(policy="/etc/k/policy.toml", remote=None, api_key_file=None,
                                  app_log=None, theme="ansi", language="de")
    argv = list(embedded("ssh:192.0.2.7"))
    assert argv[1:4] == ["-m", "kiosk.ssh.session_process", "run"]
    assert argv[argv.index("--terminal") + 1] == "ssh:192.0.2.7"
    assert argv[argv.index("--policy") + 1] == "/etc/k/policy.toml"
    assert argv[argv.index("--theme"):argv.index("--theme") + 2] == ["--theme", "ansi"]
    remote = make_child_command(policy=None, remote="https://api.example.org",
                                api_key_file="/etc/k/key", app_log="/var/log/k.log",
                                theme=None, language=None)
    argv = list(remote("ssh:2001:db8::1"))
    assert argv[argv.index("--remote") + 1] == "https://api.example.org"
    assert argv[argv.index("--api-key-file") + 1] == "/etc/k/key"
    assert argv[argv.index("--terminal") + 1] == "ssh:2001:db8::1"
    assert "--policy" not in argv


def test_the_shared_demo_policy_file_is_the_demo_policy() -> None:
    data = {**DEMO_POLICY, "database": {"url": "sqlite:////tmp/x/demo.db"}}
    text = to_toml(data)
    assert tomllib.loads(text) == data
    policy = parse_policy(tomllib.loads(text))
    assert policy.demo and policy.organization.name == "Contoso (training)"


def test_host_key_file(tmp_path) -> None:
    path = tmp_path / "keys" / "host"
    key, created = load_or_create_host_key(path)
    assert created and stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created = load_or_create_host_key(path)
    assert not created and again.export_public_key() == key.export_public_key()
    os.chmod(path, 0o640)
    with pytest.raises(HostKeyError, match="chmod 600"):
        load_or_create_host_key(path)
    path.write_text("not a key")
    os.chmod(path, 0o600)
    with pytest.raises(HostKeyError, match="cannot read"):
        load_or_create_host_key(path)


def test_sessions_start_from_the_preloaded_fork_server_unless_told_otherwise() -> None:
    """Forked sessions share the preloaded modules and password lists (issue #14)."""
    from kiosk.ssh.command import serve_ssh

    option = next(p for p in serve_ssh.params if p.name == "fork_server")
    assert option.default is True
    from kiosk.engine import passwords
    from kiosk.ssh import fork_server

    assert callable(passwords.preload)  # the fork server warms the lists with it
    for name in fork_server.PRELOAD:  # every module it preloads exists (a typo loads nothing)
        __import__(name)
