"""SQLite's one writer at a time: the threads of a process queue for it (kiosk.engine.db.
WriterQueue) instead of sleeping in SQLite's busy handler. With the busy handler switched off,
any two writers meeting in SQLite would fail at once with "database is locked"; these tests
switch it off to see that they never meet."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, event, insert, select
from sqlalchemy.engine.interfaces import DBAPIConnection

from kiosk.engine.db import WriterQueue, create_db_engine

rows = Table("rows", MetaData(), Column("id", Integer, primary_key=True),
             Column("who", String(20)))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'queue.db'}")

    @event.listens_for(engine, "connect")
    def no_busy_handler(dbapi_conn: DBAPIConnection, _record: object) -> None:
        dbapi_conn.cursor().execute("PRAGMA busy_timeout=0")

    rows.create(engine)
    yield engine
    engine.dispose()


def run_all(work: list[threading.Thread]) -> None:
    for thread in work:
        thread.start()
    for thread in work:
        thread.join(60)
        assert not thread.is_alive()


def test_twenty_writers_at_once_never_meet_in_sqlite(db: Engine) -> None:
    errors: list[BaseException] = []
    go = threading.Barrier(20)

    def writer(n: int) -> None:
        try:
            go.wait()
            for round_ in range(10):
                with db.begin() as conn:
                    conn.execute(select(rows.c.id).limit(1)).all()  # a read before the write
                    conn.execute(insert(rows).values(who=f"{n}-{round_}-a"))
                    conn.execute(insert(rows).values(who=f"{n}-{round_}-b"))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    run_all([threading.Thread(target=writer, args=(n,)) for n in range(20)])
    assert errors == []
    with db.connect() as conn:
        assert len(conn.execute(select(rows.c.who)).all()) == 20 * 10 * 2


def test_reads_go_past_a_writer_that_holds_the_file(db: Engine) -> None:
    wrote, read = threading.Event(), threading.Event()
    seen: list[int] = []

    def reader() -> None:
        wrote.wait(30)
        with db.connect() as conn:  # no queue for a read, and WAL shows the committed state
            seen.append(len(conn.execute(select(rows.c.id)).all()))
        read.set()

    thread = threading.Thread(target=reader)
    thread.start()
    with db.begin() as conn:
        conn.execute(insert(rows).values(who="writer"))
        wrote.set()
        assert read.wait(30)  # the reader finished while this transaction was still open
    thread.join(30)
    assert seen == [0]


@pytest.mark.parametrize("ending", ["rollback", "exception", "closed without commit"])
def test_a_transaction_ended_any_way_lets_the_next_writer_in(db: Engine, ending: str) -> None:
    if ending == "rollback":
        with db.connect() as conn:
            conn.execute(insert(rows).values(who="undone"))
            conn.rollback()
    elif ending == "exception":
        with pytest.raises(RuntimeError), db.begin() as conn:
            conn.execute(insert(rows).values(who="undone"))
            raise RuntimeError("the work failed")
    else:
        conn = db.connect()
        conn.execute(insert(rows).values(who="undone"))
        conn.close()

    done: list[str] = []

    def other_thread() -> None:  # not the thread that wrote: a lock it kept would stop this one
        with db.begin() as conn:
            conn.execute(insert(rows).values(who="next"))
        done.append("next")

    run_all([threading.Thread(target=other_thread)])
    assert done == ["next"]
    with db.connect() as conn:
        assert [r.who for r in conn.execute(select(rows.c.who))] == ["next"]


def test_a_queue_never_given_back_costs_a_wait_not_a_hang(
        db: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A connection lost with the queue held (no commit, rollback or return to the pool):
    a transaction waits WriterQueue.WAIT once, then writes as before the queue."""
    monkeypatch.setattr(WriterQueue, "WAIT", 0.2)
    held, done = threading.Event(), threading.Event()
    holder = db.connect()

    def lose_it() -> None:
        holder.exec_driver_sql("INSERT INTO rows (who) VALUES ('lost')")
        holder.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
        held.set()
        done.wait(60)  # the thread keeps the queue; its connection is done with the file

    thread = threading.Thread(target=lose_it)
    thread.start()
    assert held.wait(30)
    try:
        with caplog.at_level(logging.WARNING, logger="kiosk.engine.db"), db.begin() as conn:
            conn.execute(insert(rows).values(who="after"))
            conn.execute(insert(rows).values(who="and again"))  # no second wait
        waits = [r for r in caplog.records if "waited" in r.getMessage()]
        assert len(waits) == 1
        with db.connect() as conn:
            assert [r.who for r in conn.execute(select(rows.c.who))] == ["after", "and again"]
    finally:
        done.set()
        thread.join(30)
