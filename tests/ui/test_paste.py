"""A lone paste start freezes nothing (issue 11, item 4): the kiosk's input parser ends a paste
left open after PASTE_TIMEOUT seconds or at a new visit, and drops a paste that is too long.
(The real terminal path is walked in test_tmux.py.)"""

from __future__ import annotations

import inspect

from textual import events
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.terminal_input import MAX_PASTE, KioskDriver, KioskParser
from tests.support.pilot import MakeApp, driving

START, END = "\x1b[200~", "\x1b[201~"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def parser() -> tuple[KioskParser, Clock]:
    clock = Clock()
    return KioskParser(clock=clock), clock


def feed(p: KioskParser, *chunks: str) -> list[Message]:
    return [message for chunk in chunks if chunk for message in p.feed(chunk)]


def seen(messages: list[Message]) -> list[str]:
    """Keys as their characters, pastes as `paste:<text>`."""
    out = []
    for m in messages:
        if isinstance(m, events.Key):
            out.append(m.character or m.key)
        elif isinstance(m, events.Paste):
            out.append(f"paste:{m.text}")
    return out


def test_a_paste_arrives_however_it_is_split() -> None:
    text = f"a{START}hello world{END}b"
    p, _ = parser()
    assert seen(feed(p, text)) == ["a", "paste:hello world", "b"]
    p, _ = parser()
    assert seen(feed(p, *text)) == ["a", "paste:hello world", "b"]  # one character a read


def test_a_lone_paste_start_ends_after_the_timeout() -> None:
    p, clock = parser()
    assert seen(feed(p, "a", START, "bob")) == ["a"]  # held as paste text
    clock.now += 1.5
    assert seen(list(p.tick())) == []
    assert seen(feed(p, "c")) == []  # still within the paste
    clock.now += 1.0
    assert seen(list(p.tick())) == []  # the paste is dropped, not released into a field
    assert seen(feed(p, "x", "y")) == ["x", "y"]
    assert seen(feed(p, END, "z")) == ["z"]  # a late end marker does nothing


def test_a_new_visit_ends_an_open_paste() -> None:
    p, _ = parser()
    assert seen(feed(p, START, "bob")) == []
    p.request_reset()
    assert seen(feed(p, "x")) == ["x"]


def test_a_reset_without_a_paste_keeps_a_half_read_key() -> None:
    p, _ = parser()
    feed(p, "\x1b[")
    p.request_reset()
    assert [m.key for m in feed(p, "A") if isinstance(m, events.Key)] == ["up"]


def test_a_paste_too_long_is_dropped() -> None:
    p, _ = parser()
    assert seen(feed(p, f"k{START}{'a' * MAX_PASTE}{END}")) == ["k", f"paste:{'a' * MAX_PASTE}"]
    for size in (MAX_PASTE + 1, MAX_PASTE + 6, 50_000):
        p, _ = parser()
        assert seen(feed(p, f"k{START}{'a' * size}{END}z")) == ["k", "z"], size
        p, _ = parser()
        chunks = [f"k{START}", *(["a" * 1000] * (size // 1000)), "a" * (size % 1000), END, "z"]
        assert seen(feed(p, *chunks)) == ["k", "z"], size


def test_a_long_paste_without_its_end_also_times_out() -> None:
    p, clock = parser()
    assert seen(feed(p, START, "a" * (MAX_PASTE * 2))) == []
    clock.now += 2.5
    list(p.tick())
    assert seen(feed(p, "x")) == ["x"]


def test_the_driver_reads_like_textuals_own() -> None:
    """KioskDriver.run_input_thread is Textual's with KioskParser: after a Textual upgrade
    this fails until the copy is brought up to date."""
    ours = inspect.getsource(KioskDriver.run_input_thread)
    ours = ours.replace("parser = self.parser = KioskParser(self._debug)",
                        "parser = XTermParser(self._debug)")
    ours = ours.replace("for _event in feed", "for event in feed")
    assert ours == inspect.getsource(LinuxDriver.run_input_thread)


async def test_each_new_visit_resets_the_paste_state(make_app: MakeApp) -> None:
    app = make_app()
    assert app.get_driver_class() is KioskDriver
    resets: list[int] = []
    async with driving(app) as k:
        await k.at(WelcomeScreen)
        app._driver.reset_paste = lambda: resets.append(1)  # type: ignore[union-attr]
        await k.press("1")
        await k.at(IdentifyScreen)
        await app.new_visit()
        await k.at(WelcomeScreen)
        await k.until(lambda: resets == [1], "one reset")
