"""Readers never wait for writers: opening an Engine writes nothing when nothing changed, so listing,
showing, reporting and verifying work while another process holds the write lock, and on a database
that may not be written at all (a read-only file or copy; on PostgreSQL, read-only transactions)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import snapshot, to_replied

from workflow import Engine
from workflow.cli import main
from workflow.testing import FakeClock


def read_only(url: str) -> str:
    """The same database, opened so that any write fails."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///file:{parsed.database}?mode=ro&uri=true"
    return parsed.update_query_dict({"options": "-c default_transaction_read_only=on"}).render_as_string(False)


@contextmanager
def write_lock(url: str) -> Iterator[None]:
    """Another process's writer, mid-transaction: it holds SQLite's write lock (and on PostgreSQL row
    locks on the item and the definitions) until the block ends, then rolls back."""
    db = sa.create_engine(url, isolation_level="AUTOCOMMIT" if url.startswith("sqlite") else None)
    with db.connect() as conn:
        if url.startswith("sqlite"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.exec_driver_sql("UPDATE duban_item SET version = version")
        conn.exec_driver_sql("UPDATE duban_definition SET source = source")
        yield
        conn.rollback() if not url.startswith("sqlite") else conn.exec_driver_sql("ROLLBACK")
    db.dispose()


def cli(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    code = main(["--db", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def filled(engine: Engine) -> int:
    """A database with a replied suggestion (its audit rows, deadlines and notices); the engine closed."""
    item = to_replied(engine).id
    engine.close()
    return item


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_a_read_only_database_is_listed_shown_reported_and_verified(
    db_url: str, filled: int, clock: FakeClock, capsys: pytest.CaptureFixture[str], journal: str
) -> None:
    """A database that may not be written (SQLite opened read-only, in WAL or rollback-journal mode, as a
    copy handed to an auditor is; PostgreSQL with read-only transactions) opens as an Engine and as the
    CLI's --db: list, show, deadlines, the outbox, the follow-up report and audit verify all work; a
    change is refused with a message saying the database is read-only, and nothing is written."""
    if journal == "delete":
        if not db_url.startswith("sqlite"):
            pytest.skip("the journal mode is SQLite's")
        with sa.create_engine(db_url).connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    url = read_only(db_url)
    engine = Engine(url, clock=clock)
    try:
        assert [i.id for i in engine.items()] == [filled]
        assert engine.get(filled).state == "replied"
        assert engine.deadlines(item=filled, state=None) and engine.outbox(item=filled)
        assert engine.verify_audit() == []
        before = snapshot(engine)
    finally:
        engine.close()
    for args in (["list"], ["show", str(filled)], ["deadlines"], ["notices"], ["audit", "verify"]):
        code, out, err = cli(capsys, url, *args)
        assert code == 0 and out and not err, (args, err)
    code, out, err = cli(capsys, url, "report", "followup", "--year", "2026", "--format", "json")
    assert code == 0 and json.loads(out), err
    code, out, err = cli(capsys, url, "party", "add", "unit", "市审计局")
    assert code == 1 and "nothing was written" in err and "Traceback" not in err, err
    if url.startswith("sqlite"):
        assert "read-only" in err
    writable = Engine(db_url, clock=clock)
    try:
        assert snapshot(writable) == before
    finally:
        writable.close()


def test_readers_do_not_wait_for_a_writer(
    db_url: str, filled: int, clock: FakeClock, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """While another process holds the write lock mid-transaction, a new Engine opens and `duban list`,
    `show`, `deadlines`, `notices`, `audit verify` and the follow-up report answer at once (before, the
    Engine's start took the write lock itself and these waited 30 s and failed with "database is
    locked"); they see the data as last committed."""
    with write_lock(db_url):
        engine = Engine(db_url, clock=clock)
        try:
            assert engine.get(filled).state == "replied" and engine.verify_audit() == []
        finally:
            engine.close()
        for args in (["list"], ["show", str(filled)], ["deadlines"], ["notices"], ["audit", "verify"]):
            code, out, err = cli(capsys, db_url, *args)
            assert code == 0 and out and not err, (args, err)
        code, out, err = cli(capsys, db_url, "report", "followup", "--year", "2026", "--format", "json")
        assert code == 0 and json.loads(out), err
