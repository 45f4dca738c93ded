"""Schema upgrades: a database written by duban's first release (schema 0001), and one written by the last
release before daemon leases (schema 0003, with clocks and the outbox), open in this duban with every row intact
and their items carry on. See tests/fixtures/README.md for how the fixture databases were made.

On SQLite the fixture file itself is opened. On PostgreSQL the schema is created by the migrations up to the
fixture's revision and the fixture's rows are copied in, as the old release would have left them; then this duban
upgrades it to head like any other database.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from workflow import Actor, Engine
from workflow.migrate import apply, plan
from workflow.store import current_revision, head_revision, migrate
from workflow.testing import FakeClock

FIXTURES = Path(__file__).parent / "fixtures"
NOW = dt.datetime(2026, 10, 12, 9, 0, tzinfo=dt.UTC)  # after every instant in the fixtures
LEAD, CO = Actor("unit", "市交通运输局"), Actor("unit", "市民政局")
# The tables each fixture release had; every row of each must come through the upgrade unchanged.
FIRST_RELEASE = ["definition", "party", "item", "assignment", "promise", "problem", "contact", "vote", "audit"]
REV_0003 = [*FIRST_RELEASE, "deadline", "deadline_step", "notice", "incident"]


def _normal(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value


def table_rows(db: sa.Engine, names: list[str], columns: dict[str, list[str]] | None = None) -> dict[str, list[Any]]:
    """Every row of each ``duban_NAME`` table, with *columns* (default: all), ordered by id, instants in UTC."""
    meta = sa.MetaData()
    meta.reflect(db, only=[f"duban_{n}" for n in names])
    found: dict[str, list[Any]] = {}
    with db.connect() as conn:
        for name in names:
            table = meta.tables[f"duban_{name}"]
            cols = [table.c[c] for c in columns[name]] if columns else list(table.c)
            rows = conn.execute(sa.select(*cols).order_by(table.c.id)).all()
            found[name] = [tuple(_normal(v) for v in row) for row in rows]
    return found


def columns_of(db: sa.Engine, names: list[str]) -> dict[str, list[str]]:
    inspector = sa.inspect(db)
    return {n: [c["name"] for c in inspector.get_columns(f"duban_{n}")] for n in names}


def load_fixture(name: str, db_url: str, tmp_path: Path) -> tuple[sa.Engine, str]:
    """Put fixture *name* into the test database as its release left it; returns the fixture (a private copy,
    for the expected rows) and its schema revision."""
    copy = tmp_path / f"fixture-{name}"
    shutil.copy(FIXTURES / name, copy)
    with sqlite3.connect(copy) as conn:
        revision = conn.execute("SELECT version_num FROM duban_alembic_version").fetchone()[0]
    old = sa.create_engine(f"sqlite:///{copy}")
    if db_url.startswith("sqlite"):
        shutil.copy(copy, sa.engine.make_url(db_url).database or "")
        return old, revision
    target = sa.create_engine(db_url)
    migrate(target, revision)  # the old release's schema, made by its own migrations
    meta, fixture_meta = sa.MetaData(), sa.MetaData()
    meta.reflect(target)
    fixture_meta.reflect(old)
    with old.connect() as src, target.begin() as dst:
        for table in meta.sorted_tables:
            if table.name.startswith("duban_") and table.name != "duban_alembic_version":
                rows = [
                    {k: _normal(v) for k, v in r.items()}
                    for r in src.execute(sa.select(fixture_meta.tables[table.name])).mappings()
                ]
                if rows:
                    dst.execute(table.insert(), rows)
                    sequence = f"pg_get_serial_sequence('{table.name}', 'id')"
                    dst.exec_driver_sql(f"SELECT setval({sequence}, (SELECT max(id) FROM {table.name}))")
    target.dispose()
    return old, revision


@pytest.fixture
def first_release(db_url: str, tmp_path: Path) -> Iterator[tuple[sa.Engine, str]]:
    old, revision = load_fixture("first-release.db", db_url, tmp_path)
    yield old, revision
    old.dispose()


def test_the_first_release_database_upgrades_with_every_row_intact(
    first_release: tuple[sa.Engine, str], db_url: str
) -> None:
    """A database the first release wrote (schema 0001) opens in this duban: the schema goes to head and every
    definition, party, item, assignment, promise, contact, vote and audit row is as it was; the chains verify."""
    old, revision = first_release
    assert revision == "0001"
    expected = table_rows(old, FIRST_RELEASE)
    with Engine(db_url, clock=FakeClock(NOW)) as eng:
        assert current_revision(eng.db) == head_revision()
        columns = columns_of(old, FIRST_RELEASE)
        got = table_rows(eng.db, FIRST_RELEASE, columns)
        old_defs = len(expected["definition"])
        assert got["definition"][:old_defs] == expected["definition"]  # the current definitions are added after
        assert {n: got[n] for n in FIRST_RELEASE if n != "definition"} == {
            n: expected[n] for n in FIRST_RELEASE if n != "definition"
        }
        assert eng.verify_audit() == []
        states = {i.id: i.state for i in eng.items()}
        assert states == {
            1: "submitted",
            2: "registered",
            3: "rejected",
            4: "assigned",
            5: "extension_requested",
            6: "replied",
            7: "closed",
            8: "handling",
            9: "vote_passed",
            10: "drafted",
        }
        assert eng.get(6).promises[0]["by"] == dt.date(2026, 12, 31)
        assert eng.deadlines() == []  # the first release had no clocks
        print(
            f"\nupgrade: first-release DB (rev {revision}) → head {head_revision()}, {len(states)} items intact, "
            f"{len(expected['audit'])} audit rows, chains verified"
        )


def test_upgraded_items_carry_on_under_their_own_version_then_migrate(
    first_release: tuple[sa.Engine, str], db_url: str
) -> None:
    """After the upgrade, items in flight fire under the first release's definition they started with; new items
    start under the current one; a migration then brings the old items under the current rules, clocks included."""
    with Engine(db_url, clock=FakeClock(NOW)) as eng:
        first = {i.id: i.definition_version for i in eng.items()}
        eng.fire(8, "submit_co_opinion", actor=CO, opinion="同意")
        assert eng.fire(8, "reply", actor=LEAD, category="A", text="已办结", signer="张局长").state == "replied"
        assert eng.fire(5, "approve_extension", period="1 month").state == "handling"
        assert eng.fire(6, "evaluate", actor=Actor("deputy", "王芳"), result="satisfied").state == "evaluated"
        assert eng.fire(9, "close").state == "closed"
        assert eng.fire(1, "register").state == "registered"
        assert {i.id: i.definition_version for i in eng.items()} == first
        assert eng.deadlines() == []  # the first release's definition has no clocks
        new = eng.submit("suggestion", title="新建议", origin="session", proposers=["王芳"])
        assert new.definition_version != first[1]
        moved = apply(eng, plan(eng, "suggestion", {}, from_version=1, same_names=True))
        assert {m.item_id for m in moved.moves} == {1, 2, 4, 5, 6, 7, 8} and moved.finished == [3]  # 3: rejected
        assert eng.get(2).definition_version == new.definition_version
        eng.fire(2, "assign", lead_unit="市交通运输局")
        assert {d["clock"] for d in eng.deadlines(item=2)} == {"reassignment_window", "reply"}
        assert eng.verify_audit() == []


@pytest.fixture
def rev0003(db_url: str, tmp_path: Path) -> Iterator[tuple[sa.Engine, str]]:
    old, revision = load_fixture("rev0003.db", db_url, tmp_path)
    yield old, revision
    old.dispose()


def test_a_database_with_clocks_and_notices_upgrades_intact(rev0003: tuple[sa.Engine, str], db_url: str) -> None:
    """A database written at schema 0003 (deadlines, produced reminder steps, the outbox, incidents) upgrades to
    head with every row as it was; the open clocks keep running: a sweep acts on them and a reply stops one."""
    old, revision = rev0003
    assert revision == "0003"
    expected = table_rows(old, REV_0003)
    clock = FakeClock(NOW)
    with Engine(db_url, clock=clock) as eng:
        assert current_revision(eng.db) == head_revision()
        got = table_rows(eng.db, REV_0003, columns_of(old, REV_0003))
        assert got["definition"][: len(expected["definition"])] == expected["definition"]
        for name in REV_0003[1:]:
            assert got[name] == expected[name], name
        assert eng.verify_audit() == []
        running = {(d["item_id"], d["clock"]) for d in eng.deadlines()}
        assert (8, "reply") in running and (6, "promise") in running
        swept = eng.sweep(clock.advance(days=10), dispatch=False)  # the problem's reminder falls due on 10-18
        assert swept.counts["claimed"] > 0 and swept.counts["reminders"] + swept.counts["escalations"] > 0
        eng.fire(8, "submit_co_opinion", actor=CO, opinion="同意")
        eng.fire(8, "reply", actor=LEAD, category="A", text="已办结", signer="张局长")
        assert (8, "reply") not in {(d["item_id"], d["clock"]) for d in eng.deadlines()}
        assert eng.verify_audit() == []
        print(
            f"\nupgrade: rev {revision} DB → head {head_revision()}, {len(expected['item'])} items, "
            f"{len(expected['deadline'])} deadlines, {len(expected['notice'])} notices, "
            f"{len(expected['incident'])} incidents intact; sweep claimed {swept.counts['claimed']}"
        )
