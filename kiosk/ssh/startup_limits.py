"""Limits on SSH connections that have not signed in yet (OpenSSH's MaxStartups and
PerSourceMaxStartups), and what "one source" is.

A pending connection costs the server a socket and, once it speaks SSH, a key exchange; it
never holds one of the session slots, so a flood of them cannot turn a visitor away from a free
kiosk. They are capped on their own: per source, and in all with random early drop.
"""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

IPV6_PREFIX = 64  # one subscriber, one host or one LAN usually gets a whole /64

# terminfo names: letters, digits and a few separators; never a NUL (it would end up in the
# kiosk's environment and make exec fail), a control character or a path
_TERM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


def source_key(address: str) -> str:
    """What the per-source limits count: an IPv4 address, or the /64 of an IPv6 address
    (anyone with one IPv6 address usually has the 2^64 addresses around it too)."""
    try:
        addr = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(addr, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{addr}/{IPV6_PREFIX}", strict=False))
    return str(addr)


def valid_term_type(term: str) -> bool:
    return _TERM_NAME.fullmatch(term) is not None


@dataclass(frozen=True)
class StartupLimit:
    """start:rate:full as in OpenSSH's MaxStartups: from `start` pending connections on, a new
    one is dropped with probability rate %, rising linearly to 100 % at `full`."""

    start: int
    rate: int
    full: int

    def __post_init__(self) -> None:
        if not 1 <= self.start <= self.full:
            raise ValueError("max-startups needs 1 <= start <= full")
        if not 0 <= self.rate <= 100:
            raise ValueError("the rate of max-startups is a percentage (0-100)")

    @classmethod
    def parse(cls, text: str) -> StartupLimit:
        """"10:30:100", or one number N: a hard cap of N."""
        parts = text.strip().split(":")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            numbers = []
        if len(numbers) == 1:
            return cls(numbers[0], 100, numbers[0])
        if len(numbers) == 3:
            return cls(*numbers)
        raise ValueError(f"max-startups is N or start:rate:full, not {text!r}")

    def __str__(self) -> str:
        if self.start == self.full:
            return str(self.full)
        return f"{self.start}:{self.rate}:{self.full}"

    def refuse(self, pending: int, draw: Callable[[], float] = random.random) -> bool:
        """Whether to drop a new connection while `pending` others have not signed in."""
        if pending >= self.full:
            return True
        if pending < self.start:
            return False
        share = self.rate + (100 - self.rate) * (pending - self.start) / (self.full - self.start)
        return draw() * 100 < share
