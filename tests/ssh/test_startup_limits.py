"""The limits on connections that have not signed in, without a client."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kiosk.ssh.server import KioskSSHService, ServerConfig
from kiosk.ssh.startup_limits import StartupLimit, source_key, valid_term_type


def test_one_source_is_an_ipv4_address_or_an_ipv6_slash_64() -> None:
    assert source_key("192.0.2.7") == "192.0.2.7"
    assert source_key("192.0.2.8") != source_key("192.0.2.7")
    assert source_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert source_key("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert source_key("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert source_key("::1") == "::/64"
    assert source_key("unknown") == "unknown"


@pytest.mark.parametrize("term, ok", [
    ("xterm-256color", True), ("screen.xterm-256color", True), ("vt100", True),
    ("rxvt-unicode+sixel", True), ("tmux_256", True), ("linux", True),
    ("xterm\0evil", False), ("xterm\x1b[31m", False), ("../../tmp/evil", False),
    ("xterm evil", False), ("-xterm", False), ("x" * 65, False), ("xtérm", False),
])
def test_terminal_types(term: str, ok: bool) -> None:
    assert valid_term_type(term) is ok


def test_max_startups_is_parsed_like_openssh() -> None:
    assert StartupLimit.parse("10:30:100") == StartupLimit(10, 30, 100)
    assert StartupLimit.parse("5") == StartupLimit(5, 100, 5)
    assert str(StartupLimit.parse("10:30:100")) == "10:30:100"
    assert str(StartupLimit.parse("5")) == "5"
    for bad in ("", "x", "1:2", "10:30:5", "0", "10:130:20", "1:2:3:4"):
        with pytest.raises(ValueError):
            StartupLimit.parse(bad)


def test_random_early_drop_rises_from_rate_to_all() -> None:
    limit = StartupLimit(10, 30, 60)
    assert not limit.refuse(9, draw=lambda: 0.0)  # below start: never
    assert limit.refuse(10, draw=lambda: 0.29)  # at start: 30 %
    assert not limit.refuse(10, draw=lambda: 0.31)
    assert limit.refuse(35, draw=lambda: 0.64)  # half way: 65 %
    assert not limit.refuse(35, draw=lambda: 0.66)
    assert limit.refuse(60, draw=lambda: 0.999)  # at full: always
    hard = StartupLimit.parse("3")
    assert not hard.refuse(2, draw=lambda: 0.0) and hard.refuse(3, draw=lambda: 0.999)


def _service(**kw: object) -> KioskSSHService:
    return KioskSSHService(ServerConfig(child_command=lambda terminal: ["true"], **kw))  # type: ignore[arg-type]


@dataclass(eq=False)
class Conn:  # what the counting reads of a KioskConnection
    source: str
    pending: bool = True
    has_slot: bool = False


def test_pending_connections_are_counted_per_source_and_in_all() -> None:
    service = _service(per_source_max_startups=2, max_startups=StartupLimit.parse("4"))
    conns = service.connections
    conns.update([Conn("2001:db8::/64"), Conn("2001:db8::/64")])  # type: ignore[list-item]
    assert service.startup_refusal("2001:db8::/64") == "2 sign-ins pending from 2001:db8::/64"
    assert service.startup_refusal("192.0.2.7") is None
    conns.add(Conn("192.0.2.7"))  # type: ignore[arg-type]
    conns.add(Conn("192.0.2.9", pending=False, has_slot=True))  # type: ignore[arg-type]
    assert service.startup_refusal("192.0.2.8") is None  # a session is not a pending sign-in
    conns.add(Conn("192.0.2.8"))  # type: ignore[arg-type]
    assert service.startup_refusal("192.0.2.10") == "4 sign-ins pending in all (max-startups 4)"
    assert service.active == 1 and service.pending() == 4
    assert _service(per_source_max_startups=0).startup_refusal("2001:db8::/64") is None


@pytest.mark.parametrize("kw, message", [
    ({"per_source_max_startups": -1}, "per_source_max_startups"),
    ({"login_grace": 0}, "login_grace"),
])
def test_config_is_checked(kw, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        _service(**kw)
