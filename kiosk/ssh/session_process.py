"""The entry of one SSH session's kiosk process: `python -m kiosk.ssh.session_process run ...`.

`kiosk serve-ssh` starts one of these per connection with a pseudo-terminal's slave side as
stdin, stdout and stderr. It makes itself a session leader with that pseudo-terminal as its
controlling terminal (so the kernel delivers SIGWINCH on a resize and SIGHUP when the server
closes the master side), then runs the ordinary `kiosk` command in the same interpreter.

Nothing but a short sentence ever reaches the visitor's screen: an error that escapes the
command is written to the file named by KIOSK_SSH_CHILD_LOG (set by the server).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import sys
import termios
import traceback

LOG_ENV = "KIOSK_SSH_CHILD_LOG"


def _take_terminal() -> None:
    with contextlib.suppress(OSError):  # already a session leader: keep going
        os.setsid()
    with contextlib.suppress(OSError):
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _log_crash() -> None:
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as log:
        stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        log.write(f"{stamp} ssh session child {os.getpid()} failed:\n")
        log.write(traceback.format_exc())


def main(argv: list[str] | None = None) -> int:
    _take_terminal()
    args = sys.argv[1:] if argv is None else argv
    try:
        from kiosk.ui_click import run  # a session runs `kiosk run`, nothing else

        run(args=args[1:] if args[:1] == ["run"] else args, prog_name="kiosk run",
            standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException:  # never a traceback on the visitor's screen
        _log_crash()
        with contextlib.suppress(OSError):
            sys.stderr.write("\r\nThe kiosk could not start. Please contact the helpdesk.\r\n")
            sys.stderr.flush()
        return 70
    return 0


if __name__ == "__main__":
    sys.exit(main())
