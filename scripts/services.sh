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
# the test servers' LDAPS certificates come from a private CA made with openssl
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# Samba AD DC for tests/ldap/test_samba_ad.py: they provision a throwaway domain in a temporary
# directory (scripts/samba_dc.py) on a loopback address of their own, so the packaged services
# (smbd, nmbd, winbind, samba-ad-dc) are not wanted and krb5 must ask nothing
new_samba=0
if ! command -v samba-tool >/dev/null 2>&1 || [ ! -x /usr/sbin/samba ]; then
    need_apt+=(samba samba-ad-dc samba-ad-provision winbind krb5-user ldb-tools)
    new_samba=1
    if command -v debconf-set-selections >/dev/null 2>&1; then
        debconf-set-selections <<'PRESEED'
krb5-config krb5-config/default_realm string KIOSK.TEST
krb5-config krb5-config/add_servers_realm string KIOSK.TEST
krb5-config krb5-config/add_servers boolean false
krb5-config krb5-config/kerberos_servers string
krb5-config krb5-config/admin_server string
krb5-config krb5-config/read_conf boolean true
samba-common samba-common/dhcp boolean false
samba-common samba-common/workgroup string WORKGROUP
PRESEED
    fi
fi
if [ "${#need_apt[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # policy-rc.d 101 keeps the packages' init scripts from starting services during the install
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    fi
    apt-get update -qq >/dev/null && \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    [ "$own_policy" = 1 ] && rm -f "$policy"
fi
# if the install started the packaged Samba daemons anyway, stop and disable them: the tests run
# their own `samba -i` per session and the packaged ones would hold ports 389/445 on every address
if [ "$new_samba" = 1 ]; then
    for svc in samba-ad-dc smbd nmbd winbind; do
        if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            systemctl disable --now "$svc" >/dev/null 2>&1 || true
        fi
        [ -x "/etc/init.d/$svc" ] && "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    done
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
