"""Terminal input that one visitor cannot jam: bracketed paste with a time and size limit.

A terminal wraps a paste in `ESC[200~` … `ESC[201~`. Textual's parser holds everything after
a start marker as paste text until the end marker comes; a start without its end (typed
as raw bytes, or cut off by a broken connection) made the kiosk swallow every later key,
across visits. `KioskParser` watches the markers in the byte stream it is fed and restarts
Textual's parser (dropping what the paste held) when a paste stays open longer than
PASTE_TIMEOUT seconds, when the app asks for it at a new visit while a paste is open, and when
a paste grows beyond MAX_PASTE characters (the rest of that paste is dropped up to its end
marker, or until the timeout). `KioskDriver` is Textual's LinuxDriver using that parser.
"""

from __future__ import annotations

import logging
import os
import selectors
import threading
import time
from codecs import getincrementaldecoder
from collections.abc import Callable, Iterable, Iterator
from enum import Enum

from textual import events
from textual._loop import loop_last
from textual._parser import ParseError
from textual._xterm_parser import BRACKETED_PASTE_END, BRACKETED_PASTE_START, XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

log = logging.getLogger("kiosk.ui")

MAX_PASTE = 4096  # characters
PASTE_TIMEOUT = 2.0  # seconds
_MARKER_LENGTH = len(BRACKETED_PASTE_START)


class PasteState(Enum):
    NONE = "none"
    OPEN = "open"  # the parser collects paste text
    DROPPING = "dropping"  # too long: dropped here up to its end marker


class KioskParser(XTermParser):
    """Textual's xterm parser, with pastes that end by themselves (see the module doc)."""

    def __init__(self, debug: bool = False, *, max_paste: int = MAX_PASTE,
                 paste_timeout: float = PASTE_TIMEOUT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_paste = max_paste
        self.paste_timeout = paste_timeout
        self.clock = clock
        self.paste = PasteState.NONE
        self._paste_started = 0.0
        self._paste_size = 0
        self._recent = ""  # the stream's last few characters: a marker may span two reads
        self._reset_asked = threading.Event()
        super().__init__(debug)

    def request_reset(self) -> None:
        """From any thread: end an open paste at the next read or tick (a new visit)."""
        self._reset_asked.set()

    def feed(self, data: str) -> Iterable[Message]:
        self._check()
        if not data:
            yield from super().feed(data)
            return
        for piece in self._pieces(data):
            if piece is None:
                self._restart()
                continue
            for message in super().feed(piece):
                if isinstance(message, events.Paste) and len(message.text) > self.max_paste:
                    log.info("a paste of more than %d characters was dropped", self.max_paste)
                    continue
                yield message

    def tick(self) -> Iterable[Message]:
        self._check()
        yield from super().tick()

    # ------------------------------------------------------------ the paste's state
    def _check(self) -> None:
        asked = self._reset_asked.is_set()
        self._reset_asked.clear()
        if self.paste is PasteState.NONE:
            return
        if self.clock() - self._paste_started > self.paste_timeout:
            self._end_paste("a paste without its end marker was dropped after "
                            f"{self.paste_timeout:g} s")
        elif asked:
            self._end_paste("an open paste was dropped at a new visit")

    def _end_paste(self, why: str) -> None:
        if self.paste is PasteState.OPEN:
            self._restart()
        self.paste = PasteState.NONE
        log.info(why)

    def _restart(self) -> None:
        """A fresh Textual parser: whatever it held (paste text, a half sequence) is gone."""
        self._gen = self.parse(self._tokens.append)
        self._awaiting = next(self._gen)
        self._timeout_time = None

    def _pieces(self, data: str) -> Iterator[str | None]:
        """What of `data` reaches Textual's parser, in pieces; None: restart it there. The
        paste's state follows the markers."""
        if (self.paste is PasteState.NONE and "\x1b" not in data
                and "\x1b" not in self._recent):
            self._recent = (self._recent + data)[-_MARKER_LENGTH:]
            yield data
            return
        out: list[str] = []
        for character in data:
            self._recent = (self._recent + character)[-_MARKER_LENGTH:]
            if self.paste is PasteState.DROPPING:
                if self._recent == BRACKETED_PASTE_END:
                    self.paste = PasteState.NONE
                continue
            out.append(character)
            if self.paste is PasteState.NONE:
                if self._recent == BRACKETED_PASTE_START:
                    self.paste = PasteState.OPEN
                    self._paste_started = self.clock()
                    self._paste_size = 0
                continue
            if self._recent == BRACKETED_PASTE_END:
                self.paste = PasteState.NONE
                continue
            self._paste_size += 1
            # (the end marker's first characters are counted too before it is complete; the
            # exact limit is kept on the finished paste, in `feed`)
            if self._paste_size > self.max_paste + _MARKER_LENGTH:
                yield "".join(out)  # the keys before the paste still count
                out.clear()
                yield None  # and the paste held so far is gone
                self.paste = PasteState.DROPPING
                log.info("a paste of more than %d characters was dropped", self.max_paste)
        if out:
            yield "".join(out)


class KioskDriver(LinuxDriver):
    """Textual's LinuxDriver reading with KioskParser."""

    parser: KioskParser | None = None

    def reset_paste(self) -> None:
        """From the app: a new visit starts; an open paste must not reach into it."""
        if self.parser is not None:
            self.parser.request_reset()

    # LinuxDriver.run_input_thread of Textual 8 with KioskParser in place of XTermParser
    # (tests/ui/test_paste.py checks that the two still match)
    def run_input_thread(self) -> None:
        """Wait for input and dispatch events."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)

        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ

        parser = self.parser = KioskParser(self._debug)
        feed = parser.feed
        tick = parser.tick

        utf8_decoder = getincrementaldecoder("utf-8")().decode
        decode = utf8_decoder
        read = os.read

        def process_selector_events(
            selector_events: list[tuple[selectors.SelectorKey, int]],
            final: bool = False,
        ) -> None:
            """Process events from selector.

            Args:
                selector_events: List of selector events.
                final: True if this is the last call.

            """
            for last, (_selector_key, mask) in loop_last(selector_events):
                if mask & EVENT_READ:
                    unicode_data = decode(read(fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        # This can occur if the stdin is piped
                        break
                    for event in feed(unicode_data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process_selector_events(selector.select(0.1))
            selector.unregister(self.fileno)
            process_selector_events(selector.select(0.1), final=True)

        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass
