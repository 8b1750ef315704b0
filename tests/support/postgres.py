"""The PostgreSQL server the tests use: 127.0.0.1:5432 (trust auth, database `test`, user
`postgres` or `root`; or KIOSK_TEST_PG_URL). Tests skip without it, except with CI=true, where
that fails: CI must run them (scripts/services.sh starts the server)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

CANDIDATES = ["postgresql://postgres@127.0.0.1:5432/test", "postgresql://root@127.0.0.1:5432/test"]


def server_url() -> str | None:
    urls = [os.environ["KIOSK_TEST_PG_URL"]] if os.environ.get("KIOSK_TEST_PG_URL") \
        else CANDIDATES
    for url in urls:
        db = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                           connect_args={"connect_timeout": 3})
        try:
            with db.connect() as conn:
                conn.execute(text("SELECT 1"))
            return url
        except Exception:
            continue
        finally:
            db.dispose()
    return None


def require_server() -> str:
    url = server_url()
    if url is None:
        message = "PostgreSQL is not reachable on 127.0.0.1:5432"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: these tests must run)")
        pytest.skip(message)
    return url


def with_schema(url: str, schema: str) -> str:
    return str(make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
               .render_as_string(hide_password=False))


@contextmanager
def fresh_schemas(url: str) -> Iterator[object]:
    """A factory of URLs, each on a fresh schema; all are dropped at the end."""
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"kiosk_test_{secrets.token_hex(5)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        made.append(name)
        return with_schema(url, name)

    try:
        yield make
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()
