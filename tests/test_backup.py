"""duban backup / restore: SQLite's online backup and PostgreSQL's pg_dump / pg_restore give consistent snapshots
while another process keeps firing, and a restore brings back exactly what was backed up, chains verified."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import SPAWN, to_handling, unit

from workflow import Engine
from workflow.backup import backup as take_backup
from workflow.backup import pg_tool, restore, verify_chains
from workflow.cli import main
from workflow.store import TABLES

LEAD = "市交通运输局"
_ITEM, _AUDIT, _CONTACT = TABLES["duban_item"], TABLES["duban_audit"], TABLES["duban_contact"]


def is_pg(url: str) -> bool:
    return url.startswith("postgresql")


def pg_tools() -> None:
    """On PostgreSQL the test needs pg_dump and pg_restore: fail, never skip, when they are missing."""
    missing = [t for t in ("pg_dump", "pg_restore") if pg_tool(t) is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found on PATH or in /usr/lib/postgresql/*/bin: install the PostgreSQL "
            "client (Debian: apt-get install postgresql-client; CI installs postgresql)"
        )


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Another empty database of the same kind as the test's: a new SQLite file or a new PostgreSQL database."""
    made: list[str] = []
    base = os.environ.get("DUBAN_TEST_DB")

    def make(name: str) -> str:
        if not base:
            return f"sqlite:///{tmp_path / name}.db"
        db = f"duban_test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{db}"')
        admin.dispose()
        made.append(db)
        return sa.engine.make_url(base).set(database=db).render_as_string(hide_password=False)

    yield make
    if made and base:
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for db in made:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.dispose()


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every duban table."""
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            return {n: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr) for n, t in TABLES.items()}
    finally:
        db.dispose()


def consistent(url: str) -> dict[str, Any]:
    """The database is one instant's snapshot: every chain verifies, every item's version equals its audit rows,
    and every recorded contact has its audit row (the two are written in one transaction). Returns counts."""
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            items, audits, breaks = verify_chains(conn)
            assert breaks == []
            versions = dict(conn.execute(sa.select(_ITEM.c.id, _ITEM.c.version)).all())
            counted = sa.select(_AUDIT.c.item_id, sa.func.count()).group_by(_AUDIT.c.item_id)
            assert versions == dict(conn.execute(counted).all())
            contacts = conn.execute(sa.select(sa.func.count()).select_from(_CONTACT)).scalar_one()
            fired = sa.select(sa.func.count()).where(_AUDIT.c.trigger == "record_contact")
            assert contacts == conn.execute(fired).scalar_one()
            hashes = {(i, q): h for i, q, h in conn.execute(sa.select(_AUDIT.c.item_id, _AUDIT.c.seq, _AUDIT.c.hash))}
    finally:
        db.dispose()
    counts = {"items": items, "audit": audits, "contacts": contacts, "rows": sum(len(v) for v in rows(url).values())}
    return {**counts, "hashes": hashes}


def writer(db_url: str, ids: list[int], ready: Any, stop: Any, out: Any) -> None:
    """Fire record_contact round the items until told to stop; put how many fires it made."""
    eng = Engine(db_url)
    fired = 0
    while not stop.is_set():
        for item in ids:
            eng.fire(item, "record_contact", actor=unit(LEAD), stage="during", method="phone", note=f"第{fired}次")
            fired += 1
        ready.set()
    eng.close()
    out.put(fired)


def test_backups_taken_while_a_process_writes_are_consistent_and_restore_exactly(
    engine: Engine, db_url: str, tmp_path: Path, fresh: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Backups taken while another process fires are each one consistent instant (chains verify, versions equal
    audit rows, no half transaction); a backup restored into an empty database holds exactly the rows backed up,
    and duban audit verify passes on it."""
    if is_pg(db_url):
        pg_tools()
    ids = [to_handling(engine, co_units=()).id for _ in range(8)]
    ready, stop, out = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
    proc = SPAWN.Process(target=writer, args=(db_url, ids, ready, stop, out))
    proc.start()
    try:
        assert ready.wait(60), "the writer process did not start firing"
        taken = []
        for n in range(3 if is_pg(db_url) else 6):
            file = tmp_path / f"during-{n}.backup"
            done = take_backup(db_url, file)
            assert file.is_file() and done.size > 0
            if is_pg(db_url):  # a dump is read by restoring it
                target = fresh(f"during{n}")
                restore(target, file)
            else:
                target = f"sqlite:///{file}"
            taken.append(consistent(target))
            time.sleep(0.1)
    finally:
        stop.set()
        fired = out.get(timeout=60)
        proc.join(30)
    final = consistent(db_url)
    assert len({t["audit"] for t in taken}) > 1, "the backups should have caught the writer at different points"
    for snap in taken:  # each backup is an earlier state of the source: its audit rows are the source's own
        assert all(final["hashes"][key] == digest for key, digest in snap["hashes"].items())
    quiet = tmp_path / "final.backup"
    capsys.readouterr()
    assert main(["--db", db_url, "backup", str(quiet)]) == 0
    assert "backed up" in capsys.readouterr().out
    target = fresh("restored")
    assert main(["--db", target, "restore", str(quiet)]) == 0
    assert "audit chains verified" in capsys.readouterr().out
    assert rows(target) == rows(db_url)
    assert main(["--db", target, "audit", "verify"]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    with Engine(target) as restored:  # the restored database carries on: new rows take fresh ids
        restored.fire(ids[0], "record_contact", actor=unit(LEAD), stage="after", method="letter")
        assert to_handling(restored, co_units=()).id == max(ids) + 1
        assert restored.verify_audit() == []
    how = "pg_dump" if is_pg(db_url) else "SQLite online backup"
    print(
        f"\nbackup ({how}): {len(taken)} backups under {fired} concurrent fires, up to "
        f"{max(t['rows'] for t in taken)} rows each, chains verified; restore of {final['rows']} rows exact"
    )


def test_restore_refuses_to_replace_a_database_with_items(
    engine: Engine, db_url: str, tmp_path: Path, fresh: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    """restore will not replace a database holding items or parties unless --force; a file that is not a duban
    backup is refused; backup will not overwrite a file; each refusal is one line and changes nothing."""
    if is_pg(db_url):
        pg_tools()
    to_handling(engine)
    saved = tmp_path / "saved.backup"
    assert main(["--db", db_url, "backup", str(saved)]) == 0
    engine.fire(to_handling(engine).id, "record_contact", actor=unit(LEAD), stage="during", method="visit")
    capsys.readouterr()

    def refused(args: list[str], code: int, message: str) -> None:
        assert main(args) == code
        out, err = capsys.readouterr()
        assert message in err and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in out + err

    before = rows(db_url)
    refused(["--db", db_url, "backup", str(saved)], 1, "already exists; name a new file, or pass --force")
    refused(["--db", db_url, "restore", str(saved)], 1, "holds 2 items and 7 parties; restoring would replace them")
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup", encoding="utf-8")
    refused(["--db", db_url, "restore", str(junk)], 2, "notes.txt: not a")
    refused(["--db", db_url, "restore", str(tmp_path / "missing.backup")], 2, "no such backup file")
    assert rows(db_url) == before
    assert main(["--db", db_url, "restore", "--force", str(saved)]) == 0
    assert len(rows(db_url)["duban_item"]) == 1
    assert main(["--db", db_url, "audit", "verify"]) == 0
    empty = fresh("empty")
    assert main(["--db", empty, "init"]) == 0  # schema and definitions, no items: restoring over it is allowed
    assert main(["--db", empty, "restore", str(saved)]) == 0
    assert rows(empty) == rows(db_url)


def test_without_pg_dump_backup_prints_the_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where pg_dump is not installed, duban backup on PostgreSQL says so and prints the exact command to run
    (the password stays out of it); exit 1, no file."""
    monkeypatch.setattr("workflow.backup.pg_tool", lambda name: None)
    url = "postgresql+psycopg://duban:s3cret@db.example:5433/duban"
    target = tmp_path / "duban.dump"
    code = main(["--db", url, "backup", str(target)])
    _, err = capsys.readouterr()
    assert code == 1 and not target.exists() and err.count("\n") == 1
    assert err.startswith("error: pg_dump is not installed (Debian: apt-get install postgresql-client); run it")
    assert err.rstrip().endswith(
        f"pg_dump --format=custom '--table=duban_*' --file={target} --dbname=postgresql://duban@db.example:5433/duban"
    )
    assert "s3cret" not in err


def test_a_sqlite_backup_is_one_self_contained_file(tmp_path: Path) -> None:
    """A SQLite backup needs no -wal file beside it: it opens read-only anywhere and passes SQLite's own check."""
    source = tmp_path / "source.db"
    with Engine(f"sqlite:///{source}") as eng:
        eng.add_party("unit", LEAD)
        to_handling(eng, co_units=())
        done = take_backup(f"sqlite:///{source}", tmp_path / "copy.db")
    assert (done.items, done.audit_rows) == (1, 4)
    with sqlite3.connect(f"file:{tmp_path / 'copy.db'}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not (tmp_path / "copy.db-wal").exists()


def _foreign(url: str, *statements: str) -> None:
    """Run SQL on *url* as a hand editor (or another program) would."""
    db = sa.create_engine(url)
    try:
        with db.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        db.dispose()


@pytest.mark.parametrize("kind", ["trigger", "view"])
def test_restore_refuses_a_backup_carrying_a_trigger_or_view(
    kind: str,
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    fresh: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """duban creates no trigger, rule or view on its tables; a backup carrying one (it could change what duban
    writes, behind the audit's back) is refused on restore with a one-line message naming each one, its table
    and how to go on, and the target database is left as it was (nothing restored, exit 1)."""
    if is_pg(db_url):
        pg_tools()
    to_handling(engine)
    pg = is_pg(db_url)
    if kind == "view":
        _foreign(db_url, "CREATE VIEW duban_open AS SELECT id, title FROM duban_item")
        named = ["view 'duban_open'" if pg else "view 'duban_open' on duban_item"]
    elif pg:
        _foreign(
            db_url,
            "CREATE FUNCTION keep_it_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "CREATE TRIGGER keep_it_kept BEFORE UPDATE ON duban_promise FOR EACH ROW EXECUTE FUNCTION keep_it_fn()",
            "CREATE RULE no_votes AS ON INSERT TO duban_vote DO INSTEAD NOTHING",
        )
        named = ["trigger 'keep_it_kept' on duban_promise", "rule 'no_votes' on duban_vote"]
    else:
        _foreign(db_url, "CREATE TRIGGER keep_it_kept AFTER UPDATE ON duban_promise BEGIN SELECT 1; END")
        named = ["trigger 'keep_it_kept' on duban_promise"]
    saved = tmp_path / "carried.backup"
    assert main(["--db", db_url, "backup", str(saved)]) == 0
    target = fresh("target")
    assert main(["--db", target, "init"]) == 0
    before = rows(target)
    capsys.readouterr()
    assert main(["--db", target, "restore", "--force", str(saved)]) == 1  # --force does not let it through
    out, err = capsys.readouterr()
    assert err.startswith(f"error: {saved} carries ") and err.count("\n") == 1 and "Traceback" not in out + err
    assert all(name in err for name in named), err
    assert "nothing was restored" in err and ("pg_restore --use-list" in err if pg else "DROP TRIGGER" in err)
    assert rows(target) == before
