"""The small typed helpers that replaced `# type: ignore` comments keep their run-time checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select

from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.adapters.remote import RemoteBackend
from kiosk.backend import Backend, Channel, Purpose, as_backend
from kiosk.backend.vocabulary import member
from kiosk.engine.db import inserted_id
from kiosk.engine.schema import groups
from tests.support.engine import make_engine


async def test_as_backend_takes_both_adapters_and_refuses_anything_else(tmp_path: Path) -> None:
    embedded = EmbeddedBackend(make_engine(tmp_path), terminal="console:test")
    remote = RemoteBackend("http://127.0.0.1:9", "hk_not-a-real-key")
    try:
        assert as_backend(embedded) is embedded
        assert as_backend(remote) is remote
        assert isinstance(as_backend(remote), Backend)
    finally:
        await embedded.close()
        await remote.close()
    with pytest.raises(TypeError, match="does not serve the Backend protocol"):
        as_backend(object())


@pytest.mark.parametrize("value", [3, None, "RESET", ["reset"], b"reset", "reset "])
def test_member_refuses_what_is_no_value_of_the_enum(value: object) -> None:
    with pytest.raises(ValueError):
        member(Purpose, value)


def test_member_finds_the_member_by_value() -> None:
    assert member(Purpose, "reset") is Purpose.RESET
    assert member(Channel, Channel.CALL) is Channel.CALL


def test_inserted_id_is_the_new_rows_key(tmp_path: Path) -> None:
    engine = make_engine(tmp_path)
    try:
        with engine.db.begin() as conn:
            new = inserted_id(conn.execute(insert(groups).values(name="typed-helpers")))
            found = conn.execute(select(groups.c.id).where(groups.c.name == "typed-helpers"))
            assert new == found.scalar_one()
    finally:
        engine.db.dispose()
