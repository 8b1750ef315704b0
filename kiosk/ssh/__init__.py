"""`kiosk serve-ssh`: the kiosk over SSH, one kiosk process per connection.

command: the CLI command and its options · server: the asyncssh server and its limits ·
startup_limits: connections not signed in yet · pty_child: a process on its own pty ·
session_process: the entry of that process · fork_server: sessions forked preloaded.
(Nothing is imported here: a session process must not load the server's modules.)
"""
