"""The store: migrations build exactly the models' schema, instants round-trip aware, commits are durable."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from workflow import Engine
from workflow.store import SQLModel, connect, current_revision, head_revision, migrate


def test_migrations_create_exactly_the_models_schema(db_url: str) -> None:
    """Alembic's migrations, not create_all, build the schema, and it matches the SQLModel tables."""
    db = connect(db_url)
    assert current_revision(db) is None
    migrate(db)
    assert current_revision(db) == head_revision()
    with db.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_name": lambda name, kind, _p: (
                    kind != "table" or ((name or "").startswith("duban_") and name != "duban_alembic_version")
                )
            },
        )
        assert compare_metadata(context, SQLModel.metadata) == []
    db.dispose()


def test_tables_of_the_host_application_are_left_alone(db_url: str) -> None:
    """duban shares a database with its host: it neither drops nor alters tables that are not its own."""
    db = connect(db_url)
    with db.begin() as conn:
        conn.execute(sa.text("CREATE TABLE host_orders (id INTEGER PRIMARY KEY, note VARCHAR(20))"))
        conn.execute(sa.text("INSERT INTO host_orders (id, note) VALUES (1, 'kept')"))
    migrate(db)
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT note FROM host_orders")).scalar() == "kept"
    db.dispose()


def test_instants_come_back_aware_in_utc(engine: Engine) -> None:
    """A time given in Asia/Shanghai is stored as UTC and returned as the same aware instant."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2026, 3, 20, 17, 30, 15, 123456, tzinfo=shanghai)
    item = engine.submit("suggestion", title="t", origin="session", proposers=["王芳"], at=at)
    got = engine.get(item.id).created_at
    assert got == at and got.utcoffset() == dt.timedelta(0)


def test_committed_fire_survives_sigkill(db_url: str, tmp_path: Path) -> None:
    """A fire that returned has been committed: killing the process right after loses nothing."""
    script = textwrap.dedent(f"""
        import sys
        from workflow import Engine
        eng = Engine({db_url!r})
        eng.add_party("unit", "市民政局")
        item = eng.submit("suggestion", title="t", origin="session", proposers=["王芳"])
        eng.fire(item.id, "register")
        eng.fire(item.id, "assign", lead_unit="市民政局")
        print(item.id, flush=True)
        sys.stdin.read()  # hold the engine open until killed
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    item_id = int(child.stdout.readline())
    child.send_signal(signal.SIGKILL)
    child.wait()
    eng = Engine(db_url)
    detail = eng.get(item_id)
    assert detail.state == "assigned" and [a["unit"] for a in detail.assignments] == ["市民政局"]
    assert eng.verify_audit() == []
    eng.close()
