"""KioskApp: the Textual shell around an injected `Backend`.

The app owns what outlives a screen: the backend, the branding, the current flow, the language,
the theme, the idle timer and the lockdown. Screens live in kiosk/screens/ and never import this
module: they ask for navigation with the typed messages of kiosk.screens.host, and talk to the
backend through `KioskApp.attempt` (the `Kiosk` protocol there), which turns every error into
something a person can read.

Each visitor gets a fresh Textual *mode* ("visit-N") whose base screen is the welcome screen;
starting over switches to a new mode and removes the old one, so every screen of the previous
visitor, and every value typed into it, is dropped at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
import os
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.filter import Monochrome, NoColor
from textual.screen import Screen

from kiosk.backend import (
    Backend,
    Blocked,
    Branding,
    FlowExpired,
    FlowNotFound,
    KioskError,
    NotEligible,
    NotRegistered,
    Purpose,
    ServiceUnavailable,
    Step,
    StepOutOfOrder,
)
from kiosk.i18n import DEFAULT_LANGUAGE, LANGUAGES, get_language, set_language, t
from kiosk.operator_guard import OperatorExit, OperatorGuard
from kiosk.screens.base import KioskScreen
from kiosk.screens.dialogs import (
    ConfirmCancelDialog,
    ConfirmQuitDialog,
    HelpScreen,
    IdleWarning,
    OperatorExitDialog,
)
from kiosk.screens.feedback import error_text
from kiosk.screens.host import (
    CancelFlow,
    ChangeLanguage,
    GoBack,
    OnError,
    RetryBranding,
    ShowHelp,
    ShowScreen,
    StartOver,
)
from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.outcome import ProblemScreen
from kiosk.screens.router import place_for_state
from kiosk.screens.welcome import WelcomeScreen
from kiosk.styles.themes import console_terminal, register_themes, theme_for
from kiosk.terminal_input import KioskDriver

if TYPE_CHECKING:  # a pydantic model: loaded with the first flow call, after the first frame
    from kiosk.backend import FlowState

log = logging.getLogger("kiosk.ui")
log.addHandler(logging.NullHandler())  # never to stderr: it would draw over the screen
log.propagate = False
KIOSK_LOG = logging.getLogger("kiosk")

T = TypeVar("T")

STYLES = Path(__file__).with_name("styles")
FIRST_FRAME_OUT = 0.15  # seconds from the first refresh to the backend's build (on_mount)

# errors after which the flow is over: a screen of their own (its kind), with the helpdesk and
# the support code
FLOW_ENDING: dict[type[KioskError], str] = {
    Blocked: "blocked",
    NotEligible: "not_eligible",
    NotRegistered: "not_registered",
    ServiceUnavailable: "service_unavailable",
    FlowExpired: "flow_expired",
    FlowNotFound: "flow_expired",
    StepOutOfOrder: "error",
}

__all__ = ["KioskApp", "OperatorExit"]


def flow_ending(error: KioskError) -> str | None:
    """The problem screen an error ends the flow with, or None: it is said on the screen."""
    return next((kind for cls, kind in FLOW_ENDING.items() if isinstance(error, cls)), None)


def utcnow() -> datetime:
    return datetime.now(UTC)


class KioskApp(App[str | None], inherit_bindings=False):
    """The kiosk. `backend` is the only way to the engine (embedded or remote)."""

    TITLE = "Helpdesk Kiosk"
    CSS_PATH: ClassVar = [STYLES / "kiosk.tcss", STYLES / "flows.tcss"]
    ENABLE_COMMAND_PALETTE = False
    ALLOW_SELECT = False  # no text selection anywhere: nothing on screen may be copied
    # Harmless sinks for the keys that would quit, suspend, copy or open the palette. As priority
    # bindings they are seen before any widget, so an Input never gets ctrl+c (copy) either.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c,ctrl+q,ctrl+z,ctrl+backslash,ctrl+p,super+c,super+x,ctrl+insert",
                "noop", show=False, priority=True, system=True),
    ]

    def __init__(
        self,
        backend: Backend,
        *,
        idle_timeout: float = 90.0,
        idle_warning: float = 15.0,
        done_timeout: float = 20.0,
        theme: str | None = None,
        language: str | None = None,
        clock: Callable[[], datetime] | None = None,
        log_path: Path | str | None = None,
        operator_exit: OperatorExit | None = None,
        recovered_support_code: str | None = None,
        tick: float | None = None,
        close_backend: bool = False,
        demo_quit: bool = False,
        branding: Branding | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.close_backend = close_backend  # the app owns it: close it when the app ends
        self.idle_timeout = idle_timeout
        self.idle_warning = idle_warning
        self.done_timeout = done_timeout
        self.theme_override = theme
        self.default_language = language or DEFAULT_LANGUAGE
        self.clock: Callable[[], datetime] = clock or utcnow
        self.operator_exit = operator_exit
        self.recovered_support_code = recovered_support_code
        self.tick_interval = tick if tick is not None else min(1.0, idle_warning / 4, 0.5)
        # `branding`, when given, is known without the backend (from the policy): the first
        # welcome screen is drawn with it and the backend is asked only after that first frame
        self.branding: Branding = branding or Branding(organization="", helpdesk="")
        self._preview = branding is not None
        self._confirming = False  # _confirm_branding is under way
        self._first_notice = ""
        self.flow: FlowState | None = None
        self.purpose: Purpose | None = None
        self.username: str = ""
        self.outbox_floor = 0  # newest demo outbox message before this visit
        self.ready = False  # the first welcome screen is up (the startup benchmark waits on it)
        self._visit = 0
        self._last_input = self.clock()
        self._dirty = False  # the current visitor touched something
        self._busy = False
        self._nav_lock = asyncio.Lock()
        self._css_applied = -1  # the CSS update count the stylesheet was last parsed for
        self._log_handler: logging.Handler | None = None
        if log_path is not None:
            self._log_handler = logging.FileHandler(log_path, encoding="utf-8")
            self._log_handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
            )
            log.addHandler(self._log_handler)
            log.setLevel(logging.INFO)
            # and the other kiosk.* loggers (kiosk.ui does not propagate): the remote client's
            # "API key refused" must reach the file
            KIOSK_LOG.addHandler(self._log_handler)
            KIOSK_LOG.setLevel(logging.INFO)
        self.operator_guard: OperatorGuard | None = None
        if operator_exit is not None:
            self.operator_guard = OperatorGuard(backend, self.clock)
            self._bindings.bind(operator_exit.key, "operator_exit", show=False, priority=True)
        self.demo_quit = demo_quit  # `kiosk demo` only: ctrl+q, with a confirm, ends the app
        if demo_quit:
            self._bindings.key_to_bindings.pop("ctrl+q", None)
            self._bindings.bind("ctrl+q", "demo_quit", show=False, priority=True)
        set_language(self.default_language)
        register_themes(self)
        # set before the first CSS parse: every later theme change re-parses all the CSS
        self.theme = theme_for(theme or (branding.theme if branding is not None else None))
        # App.__init__ made the stylesheet with the default theme's variables, and the theme's
        # watcher queued a re-parse of all the CSS for this one; nothing is parsed yet, so the
        # stylesheet takes this theme's variables now and that re-parse has nothing to do
        self.stylesheet.set_variables(self.get_css_variables())
        self._css_applied = self._css_update_count
        if console_terminal():
            self.add_class("-console")  # ASCII frames: console fonts lack ▔ ▁ ▊ (kiosk.tcss)
        self._match_no_color_filter()

    def _match_no_color_filter(self) -> None:
        """Textual picks its NO_COLOR filter once, for the theme it starts with: Monochrome greys
        true colours, but turns an ANSI theme's default colours black (black on black); those
        need NoColor. Call again after every theme change."""
        if not self.no_color:
            return
        wanted = NoColor if self.native_ansi_color else Monochrome
        self._filters = [wanted() if isinstance(f, NoColor | Monochrome) else f
                         for f in self._filters]

    # ------------------------------------------------------------------ start-up

    def get_driver_class(self) -> type[Driver]:
        """Textual's terminal driver, with pastes that end by themselves (terminal_input)."""
        driver = super().get_driver_class()
        if driver.__module__ == "textual.drivers.linux_driver" and driver.__name__ == "LinuxDriver":
            return KioskDriver
        return driver

    async def on_mount(self) -> None:
        self.set_interval(self.tick_interval, self._idle_tick)
        if self._preview:
            self._apply_branding(self.branding)
            await self._first_visit()
        else:
            await self.load_branding()
        # the backend (in `kiosk demo` and `kiosk run`, the engine's build) after the first
        # frame is on the terminal: Textual's writer thread puts it there after the refresh, and
        # a build started at once (imports, holding the GIL) made that 30-40 ms later
        # (bench/startup.py). A visitor's first call starts the build at once anyway.
        self.call_after_refresh(self.set_timer, FIRST_FRAME_OUT, self._first_frame_out)

    def delay_update(self, delay: float = 0.05) -> None:
        # Textual holds all drawing for 50 ms at each mode switch, to mask the change of
        # screens. The first visit's switch comes from the blank start-up screen: nothing to
        # mask, and the first frame waited those 50 ms (a sixth of `kiosk demo`'s start-up,
        # bench/startup.py). Every later visit keeps the mask.
        if not self.ready and self._visit <= 1:
            return
        super().delay_update(delay)

    def _first_frame_out(self) -> None:
        # `kiosk run` / `kiosk demo` start with the cyclic garbage collector off (kiosk.cli):
        # the start-up makes hundreds of thousands of objects that live as long as the process,
        # and collections of them took 35-45 ms of a 300 ms start, one full collection 17-26
        # ms in the middle of the first frame. From here on it runs as usual.
        gc.enable()
        self._start_confirming()

    async def load_branding(self) -> None:
        try:
            branding = await self.backend.branding()
        except Exception as exc:  # no backend yet: say so and retry
            await self._no_branding(exc)
            return
        self._preview = False
        self._apply_branding(branding)
        await self._first_visit()

    async def _no_branding(self, exc: Exception) -> None:
        if not isinstance(exc, KioskError):
            self.log_exception(exc, "branding")
        if not self._preview:
            self.branding = Branding(organization="", helpdesk="")
        # else the preview's (the policy's, or the API's answer at the last start) still says
        # whose kiosk this is and whom to call
        await self.push_screen(ProblemScreen("service_unavailable", retry=True))

    @property
    def starting(self) -> bool:
        """The first screen is drawn from the preview branding; the backend has not answered
        yet (in `kiosk demo` / `kiosk run`: the engine is still being built)."""
        return self._preview

    def _apply_branding(self, branding: Branding) -> None:
        self.branding = branding
        theme = theme_for(self.theme_override or branding.theme)
        if self.theme != theme:
            self.theme = theme
            self._match_no_color_filter()
        if self.default_language not in branding.languages:
            self.default_language = branding.languages[0]

    async def _first_visit(self) -> None:
        self._first_notice = t("problem.error.body") if self.recovered_support_code else ""
        await self._new_visit(notice=self._first_notice)
        self.recovered_support_code = None
        self.ready = True

    def _start_confirming(self) -> None:
        if self._preview and not self._confirming:
            self._confirming = True
            self.run_worker(self._confirm_branding(), exit_on_error=False)

    async def _confirm_branding(self) -> None:
        """After a first frame drawn with the preview: the backend's own branding (the sign-in
        forms, the outbox). A visitor still on the untouched first screen gets it redrawn if it
        differs; a failure shows "service unavailable", as at any start (unless the visitor's
        own call already did: then the next visit asks again)."""
        try:
            branding = await self.backend.branding()
        except Exception as exc:
            async with self._nav_lock:
                if self._preview and not isinstance(self.screen, ProblemScreen):
                    self.flow = None
                    await self._no_branding(exc)
            return
        finally:
            self._confirming = False
        async with self._nav_lock:
            if not self._preview:
                return  # a retry got there first
            self._preview = False
            # the sign-in forms are the identify screen's, composed later from self.branding
            changed = branding.without_sign_in_forms() != self.branding.without_sign_in_forms()
            self._apply_branding(branding)
            if self._dirty:  # the visitor is on the way: the next screens use it
                for screen in self.screen_stack:
                    if isinstance(screen, IdentifyScreen):
                        screen.refresh_hint()  # composed before the sign-in forms were known
                return
            if changed:
                await self._new_visit(notice=self._first_notice)
            else:
                self.outbox_floor = await self._newest_outbox_id()

    # ------------------------------------------------------------------ navigation
    #
    # Screens ask for navigation with the messages of kiosk.screens.host; the app carries it out
    # on its own message loop, one change at a time. A screen's handler must never await its
    # own removal (Textual would wait for the very handler that is waiting), so the app's own
    # methods below that change screens only *schedule* the change.

    def navigate(self, work: Callable[[], Awaitable[Any]]) -> None:
        async def run() -> None:
            async with self._nav_lock:
                await work()

        self.call_later(run)

    async def new_visit(self, *, keep_language: bool = False, notice: str = "",
                        then: Screen | None = None) -> None:
        """Start over: cancel any open flow and show a brand-new welcome screen (then `then`)."""
        self.navigate(lambda: self._new_visit(keep_language=keep_language, notice=notice,
                                              then=then))

    async def _new_visit(self, *, keep_language: bool = False, notice: str = "",
                         then: Screen | None = None) -> None:
        self._dirty = False
        reset_paste = getattr(self._driver, "reset_paste", None)  # KioskDriver
        if reset_paste is not None:
            reset_paste()  # a paste left open must not swallow the next visitor's keys
        flow, self.flow = self.flow, None
        await self._cancel_quietly(flow)
        self.purpose = None
        self.username = ""
        self.outbox_floor = await self._newest_outbox_id()
        if not keep_language:
            set_language(self.default_language)
        old = self.current_mode
        self._visit += 1
        name = f"visit-{self._visit}"
        self.add_mode(name, lambda: self._styled(WelcomeScreen(notice=notice)))
        await self.switch_mode(name)
        if old.startswith("visit-"):
            # not awaited: a screen still waiting on the backend (a slow API) is removed once
            # its call returns; the next visitor must not wait for that
            self.remove_mode(old)
        self._dirty = keep_language
        self._busy = False
        self._last_input = self.clock()
        if self.ready:
            self._start_confirming()  # still on the preview after a failed build: ask again
        if then is not None:
            await self.push_screen(then)

    def _styled(self, screen: Screen) -> Screen:
        """A new mode's first screen. Textual re-parses all the CSS, twice, for every new mode
        whose screen has not seen the latest CSS update; a brand-new screen is styled from the
        current stylesheet when it mounts, so it needs that only after a theme change that has
        not been applied yet."""
        if self._css_applied == self._css_update_count:
            screen._css_update_count = self._css_update_count
        return screen

    def refresh_css(self, animate: bool = True) -> None:
        if self._css_applied == self._css_update_count:
            return  # no theme change since the stylesheet got its variables (see __init__)
        super().refresh_css(animate)
        self._css_applied = self._css_update_count  # the stylesheet has the current variables

    async def _newest_outbox_id(self) -> int:
        """The demo outbox panel shows only what was sent during the current visit (before the
        backend is built, a new demo database: nothing)."""
        if not self.branding.demo or self._preview:
            return 0
        try:
            newest = await self.backend.outbox(1)
        except Exception:  # the panel is a training aid; never fail a visit over it
            return self.outbox_floor
        return newest[0].id if newest else 0

    async def _cancel_quietly(self, flow: FlowState | None) -> None:
        if flow is not None and flow.step not in (Step.DONE, Step.CANCELLED):
            # best effort: a flow that cannot be cancelled expires anyway
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.backend.cancel(flow.flow_id), timeout=5)

    # the screens' requests (kiosk.screens.host)

    async def on_show_screen(self, request: ShowScreen) -> None:
        async with self._nav_lock:
            await self.push_screen(request.screen)

    async def on_go_back(self, request: GoBack) -> None:
        async with self._nav_lock:
            if len(self.screen_stack) > 1:
                await self.pop_screen()
            if request.error and isinstance(self.screen, KioskScreen):
                self.screen.show_error(request.error)

    async def on_start_over(self, request: StartOver) -> None:
        async with self._nav_lock:
            await self._new_visit(keep_language=request.keep_language, notice=request.notice,
                                  then=request.then)

    async def on_cancel_flow(self, request: CancelFlow) -> None:
        if request.confirm:  # something was proven: it would be lost, so ask first
            self.push_screen(ConfirmCancelDialog(), self._cancel_answer)
            return
        async with self._nav_lock:
            await self._cancel_flow()

    def _cancel_answer(self, cancel: bool | None) -> None:
        if cancel:
            self.navigate(self._cancel_flow)

    async def _cancel_flow(self) -> None:
        """Cancel the flow and start over on a blank user-name screen of the same purpose: a
        new visit (every screen and typed value dropped, the visit's outbox entries hidden);
        only the language stays."""
        purpose = self.purpose
        await self._new_visit(keep_language=True,
                              then=IdentifyScreen(purpose) if purpose is not None else None)

    async def on_show_help(self, request: ShowHelp) -> None:
        async with self._nav_lock:
            await self.push_screen(HelpScreen(request.topic))

    async def on_change_language(self, request: ChangeLanguage) -> None:
        if request.language in LANGUAGES and request.language in self.branding.languages:
            set_language(request.language)
            async with self._nav_lock:
                await self._new_visit(keep_language=True)

    async def on_retry_branding(self, _: RetryBranding) -> None:
        async with self._nav_lock:
            await self.pop_screen()
            await self.load_branding()

    # ------------------------------------------------------------------ the flow

    async def start_flow(self, purpose: Purpose, username: str) -> None:
        self.purpose = purpose
        self.username = username  # also for "not registered: set it up now"
        state = await self.attempt(self.backend.start(purpose, username, get_language()))
        if state is not None:
            await self.advance(state)

    async def advance(self, state: FlowState) -> None:
        """Show the screen for the flow's new state (scheduled; see kiosk.screens.router,
        the one place that maps step → screen)."""
        self.flow = state
        self.navigate(lambda: self._advance(state))

    async def _advance(self, state: FlowState) -> None:
        if state.step == Step.CANCELLED:
            await self._new_visit()
            return
        await place_for_state(self, state)

    async def proceed(self, call: Awaitable[FlowState], *,
                      on_error: OnError | None = None) -> None:
        """Make a flow call and, when it succeeds, go to the screen of the new step."""
        state = await self.attempt(call, on_error=on_error)
        if state is not None:
            await self.advance(state)

    async def attempt(self, call: Awaitable[T], *, on_error: OnError | None = None) -> T | None:
        """Await a backend call; on an error show it the right way and return None.

        Flow-ending errors (blocked, not eligible, ...) get their own screen; others are shown
        on the current screen (translated by `error.code`), unless `on_error` handled them.
        Anything unexpected is logged without secrets and the visitor starts over.
        """
        if self._busy:
            if asyncio.iscoroutine(call):
                call.close()
            return None
        self._busy = True
        visit = self._visit
        screen = self.screen
        if isinstance(screen, KioskScreen):
            screen.set_busy(True)
        try:
            result = await call
            if visit != self._visit:
                return None  # the visitor left (idle reset) while this call was under way
            return result
        except Exception as exc:  # every failure ends up in front of a person
            if visit != self._visit:
                return None
            error: BaseException = exc
            if isinstance(exc, KioskError) and on_error is not None:
                try:
                    handled = on_error(exc)
                    if inspect.isawaitable(handled):
                        handled = await handled
                    if handled:
                        return None
                except Exception as again:  # the handler's own call failed
                    error = again
            await self.show_failure(error)
            return None
        finally:
            self._busy = False
            if isinstance(screen, KioskScreen) and screen.is_attached:
                screen.set_busy(False)

    async def show_failure(self, error: BaseException) -> None:
        """Flow-ending errors get their own screen; others are said on the current screen;
        anything unexpected is logged without secrets and the visitor is sent to start over."""
        if isinstance(error, KioskError):
            kind = flow_ending(error)
            if kind is None:
                if isinstance(self.screen, KioskScreen):
                    self.screen.show_error(error_text(error))
                return
            code = error.support_code or (self.flow.support_code if self.flow else "")
            screen = ProblemScreen(kind, support_code=code, error=error)
        else:
            code = self.flow.support_code if self.flow else ""
            ref = self.log_exception(error, "backend call", support_code=code)
            screen = ProblemScreen("error", support_code=code or ref)
        self.flow = None
        self.navigate(lambda: self.push_screen(screen))

    # ------------------------------------------------------------------ idle timeout

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown
                      | events.MouseScrollUp | events.Paste):
            self._last_input = self.clock()
            self._dirty = True
        await super().on_event(event)

    @property
    def idle_seconds(self) -> float:
        return (self.clock() - self._last_input).total_seconds()

    async def _idle_tick(self) -> None:
        if (not self.ready or not self._dirty or self._nav_lock.locked()
                or self._exit_renderables or not self.screen_stack):
            return
        if isinstance(self.screen, IdleWarning):
            return  # the warning counts itself down
        if self.idle_seconds >= self.idle_timeout:
            await self.push_screen(IdleWarning(self.idle_warning, started=self.clock()),
                                   self._idle_answer)

    async def _idle_answer(self, still_here: bool | None) -> None:
        self._last_input = self.clock()
        if not still_here:
            self._dirty = False  # no second warning while the new visit is being set up
            await self.new_visit()

    # ------------------------------------------------------------------ lockdown

    def action_noop(self) -> None:
        """Where ctrl+c, ctrl+q, ctrl+z, ctrl+\\ and ctrl+p go: nowhere."""

    async def action_quit(self) -> None:
        """No quitting from the keyboard (only the configured operator exit)."""

    def action_suspend_process(self) -> None:
        """No suspending."""

    def action_command_palette(self) -> None:
        """No command palette."""

    def action_help_quit(self) -> None:
        """Not even a hint about quitting."""

    def copy_to_clipboard(self, text: str) -> None:
        """Nothing leaves the kiosk through a clipboard."""

    async def action_operator_exit(self) -> None:
        if (self.operator_exit is None or self.operator_guard is None
                or isinstance(self.screen, OperatorExitDialog)):
            return
        await self.push_screen(OperatorExitDialog(self.operator_exit, self.operator_guard),
                               self._operator_answer)

    async def action_demo_quit(self) -> None:
        if not self.demo_quit or isinstance(self.screen, ConfirmQuitDialog):
            return
        await self.push_screen(ConfirmQuitDialog(), self._quit_answer)

    def _quit_answer(self, ok: bool | None) -> None:
        if ok:
            self.exit("quit")

    def _operator_answer(self, ok: bool | None) -> None:
        if ok:
            log.info("operator exit")
            self.exit("operator")

    # ------------------------------------------------------------------ crashes

    def log_exception(self, exc: BaseException, where: str, support_code: str = "") -> str:
        """Log an unexpected exception without secrets: its type and where it happened (file,
        line, function), never its message (which may quote input), local variables or source
        text. Returns a reference for the log."""
        # os.urandom, as secrets.token_hex uses: `secrets` loads hashlib and hmac at start-up
        ref = support_code or f"ERR-{os.urandom(3).hex().upper()}"
        frames = "".join(f"  {f.filename}:{f.lineno} in {f.name}\n"
                         for f in traceback.extract_tb(exc.__traceback__))
        log.error("unexpected %s in %s [ref %s]\n%s", type(exc).__qualname__, where, ref, frames)
        return ref

    def _handle_exception(self, error: Exception) -> None:
        self.log_exception(error, "app")
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        # Textual would render a traceback *with local variables* (passwords!) after exit
        self._close_messages_no_wait()

    def panic(self, *renderables: Any) -> None:
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        self._exit_renderables.clear()

    async def _on_exit_app(self) -> None:
        if self.close_backend:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.backend.close(), timeout=5)
        if self._log_handler is not None:
            log.removeHandler(self._log_handler)
            KIOSK_LOG.removeHandler(self._log_handler)
            self._log_handler.close()
        await super()._on_exit_app()

