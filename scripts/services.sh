#!/usr/bin/env bash
# Installs and starts what the integration tests talk to, on a Debian machine where we are root.
# Tests that need a server skip without it on a laptop, and fail in CI (CI=true).
set -uo pipefail

need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v ssh >/dev/null 2>&1 || need_apt+=(openssh-client)
# tests/ssh/test_openssh.py runs its own sshd on a free loopback port with the shipped snippet
new_sshd=0
if [ ! -x /usr/sbin/sshd ]; then
    need_apt+=(openssh-server)
    new_sshd=1
fi
# OpenLDAP for tests/ldap: they run their own slapd (scripts/slapd.py) on a free loopback port
# with a throwaway config, so the package's own database and service are not wanted
new_slapd=0
if ! command -v slapd >/dev/null 2>&1 && [ ! -x /usr/sbin/slapd ]; then
    need_apt+=(slapd ldap-utils)
    new_slapd=1
    command -v debconf-set-selections >/dev/null 2>&1 && \
        echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
fi
if [ "${#need_apt[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null && \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# if the install started the packaged slapd anyway (port 389), stop it: nothing uses it
if [ "$new_slapd" = 1 ] && [ -s /var/run/slapd/slapd.pid ]; then
    kill "$(cat /var/run/slapd/slapd.pid)" 2>/dev/null || true
fi

# and the packaged sshd on port 22 is not wanted either
if [ "$new_sshd" = 1 ] && [ -s /run/sshd.pid ]; then
    kill "$(cat /run/sshd.pid)" 2>/dev/null || true
fi

# PostgreSQL on 127.0.0.1:5432 (the machine's own cluster); start it if it is installed but down
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start \
            >/dev/null 2>&1 || true
    fi
fi
exit 0
