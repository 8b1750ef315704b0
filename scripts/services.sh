#!/usr/bin/env bash
# Installs and starts what the integration tests talk to, on a Debian machine where we are root.
# Tests that need a server skip without it on a laptop, and fail in CI (CI=true).
set -uo pipefail

need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v ssh >/dev/null 2>&1 || need_apt+=(openssh-client)
if [ "${#need_apt[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null && \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# PostgreSQL on 127.0.0.1:5432 (the machine's own cluster); start it if it is installed but down
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start \
            >/dev/null 2>&1 || true
    fi
fi
exit 0
