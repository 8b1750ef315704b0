"""The remote kiosk's branding cache (kiosk.adapters.remote_start): the last branding its API
gave, drawn at the next start before httpx loads; and the remote backend made on the first
call, which still tells the operator when the API refused the key."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import httpx
import pytest

from kiosk.adapters.remote_start import (
    CACHE_LIMIT,
    branding_cache_file,
    cached_branding,
    remember_branding,
    remote_after_first_frame,
)
from kiosk.backend import Branding, Purpose, ServiceUnavailable
from kiosk.ui_commands import exit_note

CONTOSO = Branding(organization="Contoso Bank", helpdesk="Call 555-0100 (Mo–Fr)",
                   languages=["de", "en"], theme="high-contrast",
                   purposes=[Purpose.RESET, Purpose.UNLOCK], sign_in_domains=["contoso.com"])


def test_a_branding_comes_back_as_it_was_kept(tmp_path: Path) -> None:
    file = branding_cache_file("https://kiosk-api.example.org", tmp_path)
    assert cached_branding(file) is None  # a first start: nothing kept yet
    remember_branding(file, CONTOSO)
    assert cached_branding(file) == CONTOSO
    assert file.parent.stat().st_mode & 0o077 == 0  # the directory is the kiosk user's


def test_one_file_per_api(tmp_path: Path) -> None:
    one = branding_cache_file("https://kiosk-api.example.org/v1/", tmp_path)
    assert one == branding_cache_file("https://kiosk-api.example.org", tmp_path)
    assert one != branding_cache_file("https://other.example.org", tmp_path)
    assert one.parent == tmp_path / "helpdesk-kiosk"


def test_the_cache_lives_under_xdg_cache_home(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert branding_cache_file("https://x.example.org").is_relative_to(tmp_path)


@pytest.mark.parametrize("content", [
    b"",
    b"not json",
    b"\xff\xfe\x00",
    b"[]",
    json.dumps({"organization": "Contoso"}).encode(),  # the helpdesk is missing
    json.dumps({"organization": 1, "helpdesk": "x"}).encode(),
    json.dumps({"organization": "C", "helpdesk": "x", "purposes": ["format_disk"]}).encode(),
    json.dumps({"organization": "C" * CACHE_LIMIT, "helpdesk": "x"}).encode(),
])
def test_a_file_that_is_not_a_branding_is_no_branding(tmp_path: Path, content: bytes) -> None:
    file = tmp_path / "branding.json"
    file.write_bytes(content)
    assert cached_branding(file) is None  # the API is asked before the first screen instead


def test_a_cache_that_cannot_be_written_costs_only_speed(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    if os.geteuid() == 0:
        blocked = tmp_path / "a-file" / "helpdesk-kiosk" / "branding.json"
        (tmp_path / "a-file").write_text("")  # not a directory, even for root
    else:
        (tmp_path / "ro").mkdir(mode=0o500)
        blocked = tmp_path / "ro" / "helpdesk-kiosk" / "branding.json"
    with caplog.at_level(logging.INFO, logger="kiosk.remote"):
        remember_branding(blocked, CONTOSO)  # no exception
    assert cached_branding(blocked) is None
    assert "cannot be written" in caplog.text


def test_an_unchanged_branding_is_not_written_again(tmp_path: Path) -> None:
    file = tmp_path / "branding.json"
    remember_branding(file, CONTOSO)
    os.utime(file, (1, 1))
    remember_branding(file, CONTOSO)
    assert file.stat().st_mtime == 1
    remember_branding(file, Branding(organization="Fabrikam", helpdesk="Room 2"))
    assert cached_branding(file) == Branding(organization="Fabrikam", helpdesk="Room 2")
    assert list(tmp_path.iterdir()) == [file]  # no temporary file left behind


class RefusingApi(httpx.AsyncBaseTransport):
    """An API that refuses this terminal's key."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": "unauthorized", "title": "Unauthorized"})


async def test_a_refused_key_is_said_at_the_exit_through_the_deferred_backend(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.adapters import remote

    made = remote.RemoteBackend.__init__

    def with_transport(self: remote.RemoteBackend, *args: object, **kwargs: object) -> None:
        made(self, *args, **{**kwargs, "transport": RefusingApi()})  # type: ignore[arg-type]

    monkeypatch.setattr(remote.RemoteBackend, "__init__", with_transport)
    key = tmp_path / "api.key"
    key.write_text("kiosk_test_key\n", encoding="utf-8")
    key.chmod(0o600)
    cache = tmp_path / "branding.json"
    backend = remote_after_first_frame("https://kiosk-api.example.org", key, cache)()
    assert exit_note(backend) == ""  # nothing asked yet
    with pytest.raises(ServiceUnavailable):
        await backend.branding()
    assert exit_note(backend).startswith("API key refused by https://kiosk-api.example.org")
    assert not cache.exists()  # nothing kept from a refused call
    await backend.close()


async def test_a_key_file_gone_since_the_start_is_service_unavailable(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    backend = remote_after_first_frame("https://kiosk-api.example.org",
                                       tmp_path / "missing.key")()
    with caplog.at_level(logging.ERROR, logger="kiosk.remote"), \
            pytest.raises(ServiceUnavailable):
        await backend.branding()
    assert "cannot read the API key file" in caplog.text
