"""The bytes that hand a terminal back the way a shell expects it after the full-screen kiosk.

One definition for every place that must do it when Textual's own clean-up cannot run: the
kiosk killed by SIGTERM/SIGHUP (kiosk.ui_commands), the SSH server ending a session
(kiosk.ssh.server), and the staff's ssh wrapper after the connection is gone
(deploy/bin/kiosk-ssh holds a copy in sh; tests/ssh/test_client_wrapper.py keeps it equal and
checks that this undoes every mode Textual's driver switches on).
"""

TERMINAL_RESTORE = (
    "\x18"  # CAN: abandon an escape sequence the connection cut off half-way
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1016l"  # every mouse mode
    "\x1b[?1004l"  # focus events
    "\x1b[?2004l"  # bracketed paste
    "\x1b[?2048l"  # in-band resize reports
    "\x1b[<u"  # kitty keyboard protocol, popped before leaving the alternate screen as Textual does
    "\x1b[?1l\x1b>"  # cursor keys and keypad normal
    "\x1b[?7h"  # line wrap
    "\x1b[0m"  # plain colours
    "\x1b[?25h"  # cursor visible
    "\x1b[?1049l"  # back from the alternate screen, last
)
