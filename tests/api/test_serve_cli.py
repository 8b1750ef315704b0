"""`kiosk serve-api` / `python -m backend_stub` as a person starts it: real processes, real
sockets on loopback, plain HTTP and TLS."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from backend_stub.cli import serve_api
from backend_stub.launch import ApiProcess, toml_text
from kiosk.adapters.remote import RemoteBackend, open_remote_backend
from kiosk.backend import Purpose, ServiceUnavailable, Step
from kiosk.engine.config import parse_policy
from kiosk.engine.demo import DEMO_POLICY
from kiosk.engine.engine import Engine
from tests.support.engine import CHEAP_ARGON2, last_code

pytestmark = pytest.mark.slow


def demo_policy_file(folder: Path) -> Path:
    path = folder / "policy.toml"
    path.write_text(toml_text({**DEMO_POLICY, "security": CHEAP_ARGON2}))
    return path


async def test_serve_api_demo_end_to_end(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'api.db'}"
    key_file = tmp_path / "key"
    args = ["--demo", "--policy", str(demo_policy_file(tmp_path)), "--database-url", db_url,
            "--demo-key-file", str(key_file), "--log-level", "warning"]
    with ApiProcess(args, env={"KIOSK_ADMIN_TOKEN": "adm-token-for-test"}) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert any("demo terminal key" in line for line in server.log)
        assert httpx.get(server.url + "/readyz").json() == {"status": "ready"}
        backend = open_remote_backend(server.url, key_file)
        engine = Engine(parse_policy({**DEMO_POLICY, "security": CHEAP_ARGON2,
                                      "database": {"url": db_url}}))
        try:
            assert (await backend.branding()).demo
            state = await backend.start(Purpose.RESET, "alice")
            state = await backend.send_code(state.flow_id, "email", "email")  # type: ignore[arg-type]
            assert state.challenge is not None
            state = await backend.verify_code(state.flow_id, state.challenge.id,
                                              last_code(engine, "alice@contoso.org"))
            assert state.step == Step.NEW_PASSWORD
            check = await backend.check_password(state.flow_id, "alice")
            assert not check.ok and check.score == 0  # answered by a password worker process
            assert len(password_workers_of(server)) >= 1
            report = httpx.get(server.url + "/v1/admin/report",
                               headers={"Authorization": "Bearer adm-token-for-test"})
            assert report.status_code == 200 and report.json()["flows_started"] == 1
        finally:
            await backend.close()
            engine.db.dispose()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_serve_api_over_tls(tmp_path: Path) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    key_file = tmp_path / "api-key"
    args = ["--demo", "--policy", str(demo_policy_file(tmp_path)), "--tls-cert", str(cert),
            "--tls-key", str(key), "--demo-key-file", str(key_file), "--log-level", "warning"]
    with ApiProcess(args) as server:
        assert server.url.startswith("https://127.0.0.1:")
        trusted = open_remote_backend(server.url, key_file, verify=str(cert))
        untrusted = RemoteBackend(server.url, key_file.read_text().strip(), timeout=5)
        try:
            assert (await trusted.branding()).organization == "Contoso (training)"
            with pytest.raises(ServiceUnavailable):  # a certificate nobody vouches for
                await untrusted.branding()
        finally:
            await trusted.close()
            await untrusted.close()


def password_workers_of(server: ApiProcess) -> list[str]:
    """The command lines of the server's child processes that are multiprocessing workers."""
    assert server.proc is not None
    pid = server.proc.pid
    children = " ".join(Path(f"/proc/{pid}/task/{task}/children").read_text()
                        for task in (p.name for p in Path(f"/proc/{pid}/task").iterdir()))
    lines = []
    for child in children.split():
        try:
            lines.append(Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                         .decode())
        except OSError:  # ended meanwhile
            continue
    return [line for line in lines if "multiprocessing" in line]


def test_serve_api_refuses_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    result = runner.invoke(serve_api, ["--tls-cert", str(cert)])
    assert result.exit_code == 2 and "--tls-key" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[codes]\nlength = 99\n")
    result = runner.invoke(serve_api, ["--policy", str(bad)])
    assert result.exit_code == 1 and "codes.length" in result.output
    result = runner.invoke(serve_api, ["--demo-key-file", str(tmp_path / "k")])
    assert result.exit_code == 2


def test_kiosk_serve_api_is_the_documented_command() -> None:
    out = subprocess.run([sys.executable, "-m", "kiosk.cli", "serve-api", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for option in ("--host", "--port", "--policy", "--database-url", "--tls-cert", "--tls-key",
                   "--demo", "--admin-token-file", "--password-workers"):
        assert option in out


async def test_serve_api_follows_its_edited_policy_file(tmp_path: Path) -> None:
    from kiosk.engine.policy_file import PolicyFile

    policy = demo_policy_file(tmp_path)
    key_file = tmp_path / "key"
    args = ["--demo", "--policy", str(policy), "--database-url",
            f"sqlite:///{tmp_path / 'api.db'}", "--demo-key-file", str(key_file),
            "--log-level", "warning"]
    with ApiProcess(args) as server:
        backend = open_remote_backend(server.url, key_file)
        try:
            assert (await backend.branding()).organization == "Contoso (training)"
            edited = PolicyFile(policy)
            edited.set("organization.name", "Fabrikam")
            edited.save()
            await backend.start(Purpose.RESET, "alice")  # a new flow looks at the file
            assert (await backend.branding()).organization == "Fabrikam"
        finally:
            await backend.close()
