"""A throwaway OpenLDAP slapd for the LDAP tests and benchmark (and by hand).

Writes a slapd.conf (mdb backend, ppolicy overlay with history and lockout, refint so renames
follow into group members, a service account that may reset passwords) into a temporary
directory, loads the base entries with slapadd,
generates a private CA and server certificate when openssl is there (for StartTLS / LDAPS),
and runs `slapd -d 0` in the foreground on free loopback ports until stopped.

    python scripts/slapd.py          # runs one until Ctrl-C, printing its URLs and accounts

Needs the Debian packages slapd and ldap-utils (scripts/services.sh installs them in CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "root-secret"
SERVICE_DN = f"cn=kiosk,ou=services,{SUFFIX}"
SERVICE_PW = "kiosk-service-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
POLICY_DN = f"cn=default,ou=policies,{SUFFIX}"
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")


def find_binary(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/local/sbin") / name)
         if p.exists()), None)


def available() -> bool:
    return all(find_binary(b) for b in ("slapd", "slapadd")) and \
        (SCHEMA_DIR / "inetorgperson.schema").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CONF = """\
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
modulepath {modules}
moduleload back_mdb
moduleload ppolicy
moduleload refint
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
{tls}
database mdb
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_pw}
directory {dir}/data
maxsize 67108864
index objectClass eq
index uid eq
index entryUUID eq
index member eq
overlay refint
refint_attributes member
overlay ppolicy
ppolicy_default "{policy_dn}"
ppolicy_use_lockout
access to attrs=userPassword
    by dn.exact="{service_dn}" write
    by self write
    by anonymous auth
    by * none
access to attrs=pwdAccountLockedTime,pwdReset,pwdFailureTime
    by dn.exact="{service_dn}" manage
    by * read
access to *
    by dn.exact="{service_dn}" write
    by * read
"""

BASE_LDIF = """\
dn: {suffix}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=policies,{suffix}
objectClass: organizationalUnit
ou: policies

dn: {policy_dn}
objectClass: pwdPolicy
objectClass: device
cn: default
pwdAttribute: userPassword
pwdInHistory: 3
pwdLockout: TRUE
pwdMaxFailure: 3
pwdLockoutDuration: 0
pwdCheckQuality: 2
pwdMinLength: 14

dn: ou=services,{suffix}
objectClass: organizationalUnit
ou: services

dn: {service_dn}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: kiosk
userPassword: {service_pw}

dn: {people}
objectClass: organizationalUnit
ou: people

dn: {groups}
objectClass: organizationalUnit
ou: groups
"""


def _certificates(directory: Path, names: str = "DNS:localhost,IP:127.0.0.1"
                  ) -> dict[str, Path] | None:
    """A private CA and a server certificate for `names` (subjectAltName; None: no openssl)."""
    openssl = shutil.which("openssl")
    if not openssl:
        return None
    files = {k: directory / f"{k}.pem" for k in ("ca", "ca-key", "cert", "key")}
    ext = directory / "san.cnf"
    ext.write_text(f"subjectAltName={names}\n"
                   "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run = [
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=Kiosk Test CA", "-keyout", files["ca-key"], "-out", files["ca"]],
        [openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-keyout", files["key"], "-out", directory / "req.pem"],
        [openssl, "x509", "-req", "-in", directory / "req.pem", "-CA", files["ca"],
         "-CAkey", files["ca-key"], "-CAcreateserial", "-days", "2", "-extfile", ext,
         "-out", files["cert"]],
    ]
    for command in run:
        if subprocess.run(command, capture_output=True).returncode != 0:
            return None
    files["key"].chmod(0o644)  # slapd may drop privileges; it is a throwaway key
    return files


class Slapd:
    def __init__(self, workdir: str | Path | None = None, *, tls: bool = True) -> None:
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="kiosk-slapd-"))
        self.port = free_port()
        self.tls_port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_url = ""
        self.ca_file = ""
        self.want_tls = tls
        self.process: subprocess.Popen[bytes] | None = None

    def _conf(self) -> Path:
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        tls = ""
        certs = _certificates(self.dir) if self.want_tls else None
        if certs:
            tls = (f"TLSCACertificateFile {certs['ca']}\nTLSCertificateFile {certs['cert']}\n"
                   f"TLSCertificateKeyFile {certs['key']}\n")
            self.ca_file = str(certs["ca"])
            self.ldaps_url = f"ldaps://localhost:{self.tls_port}"
        conf = self.dir / "slapd.conf"
        conf.write_text(CONF.format(
            schema=SCHEMA_DIR, modules=MODULE_DIR, dir=self.dir, tls=tls, suffix=SUFFIX,
            root_dn=ROOT_DN, root_pw=ROOT_PW, policy_dn=POLICY_DN, service_dn=SERVICE_DN))
        return conf

    def start(self, timeout: float = 15.0) -> Slapd:
        conf = self._conf()
        ldif = self.dir / "base.ldif"
        ldif.write_text(BASE_LDIF.format(
            suffix=SUFFIX, policy_dn=POLICY_DN, service_dn=SERVICE_DN, service_pw=SERVICE_PW,
            people=PEOPLE, groups=GROUPS))
        slapadd, slapd = find_binary("slapadd"), find_binary("slapd")
        assert slapadd and slapd, "slapd is not installed (apt-get install slapd ldap-utils)"
        done = subprocess.run([slapadd, "-f", str(conf), "-l", str(ldif)], capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise RuntimeError(f"slapadd failed: {done.stderr.strip()}")
        urls = self.url + "/" + (f" ldaps://127.0.0.1:{self.tls_port}/" if self.ca_file else "")
        self.process = subprocess.Popen(
            [slapd, "-h", urls, "-f", str(conf), "-d", "0"],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "slapd.log", "wb"))  # noqa: SIM115
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("slapd exited: " + (self.dir / "slapd.log").read_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not start listening in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Slapd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


if __name__ == "__main__":
    server = Slapd(os.environ.get("SLAPD_DIR")).start()
    print(f"slapd on {server.url}" + (f" and {server.ldaps_url} (CA {server.ca_file})"
                                      if server.ca_file else ""))
    print(f"root {ROOT_DN} / {ROOT_PW}; service {SERVICE_DN} / {SERVICE_PW}; base {SUFFIX}")
    try:
        assert server.process is not None
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.cleanup()
