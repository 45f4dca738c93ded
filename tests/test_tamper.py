"""Tampering with the audit log directly in the database: every row of items with real histories, edited in
each column, deleted, reordered, or with a forged row inserted, and the item row's head edited; ``duban audit
verify`` exits 1 naming each tampered item and its first broken link, and never a clean one."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
import typer.main
from conftest import T0
from hostile_corpus import walk

import workflow.engine
import workflow.store
from workflow import Engine
from workflow.audit import chain_hash
from workflow.calendar import Calendar
from workflow.cli import main
from workflow.store import TABLES

AUDIT, ITEM = TABLES["duban_audit"], TABLES["duban_item"]
BROKEN = re.compile(r"^broken: item (\d+): audit row (-?\d+): (.+)$")
Apply = Callable[[sa.Connection], None]


@pytest.fixture
def quick_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each CLI call builds typer's command tree and parses the bundled definitions, calendar and migration
    scripts again, nine tenths of its time and no part of verifying: do those once, so that the hundreds of
    verify runs below take seconds. The command, the engine and the check run as they always do."""
    commands: dict[int, Any] = {}
    real_command = typer.main.get_command
    monkeypatch.setattr(
        typer.main, "get_command", lambda app: commands.get(id(app)) or commands.setdefault(id(app), real_command(app))
    )
    monkeypatch.setattr(workflow.store, "head_revision", functools.cache(workflow.store.head_revision))
    real_definitions, real_calendar = workflow.engine.load_definitions, Calendar.load
    bundled: dict[frozenset[str], Any] = {}
    calendar = real_calendar()

    def load_definitions(where: Any, registry: Any, types: set[str] | None = None) -> Any:
        if where is not None:
            return real_definitions(where, registry, types)
        key = frozenset(types or ())
        if key not in bundled:
            bundled[key] = real_definitions(None, registry, types)
        return bundled[key]

    monkeypatch.setattr(workflow.engine, "load_definitions", load_definitions)
    monkeypatch.setattr(
        Calendar, "load", classmethod(lambda cls, folders=None: real_calendar(folders) if folders else calendar)
    )


def verify(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[int, tuple[int, str]]]:
    """Run ``duban audit verify``; its exit status and what it names: item -> (seq, problem)."""
    code = main(["--db", url, "audit", "verify", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    named: dict[int, tuple[int, str]] = {}
    for line in err.splitlines():
        m = BROKEN.match(line)
        assert m, f"an unexpected line: {line!r}"
        assert int(m[1]) not in named, f"item {m[1]} named twice"
        named[int(m[1])] = (int(m[2]), m[3])
    return code, named


# ---- the population and what can be done to it --------------------------------------------------


def population(eng: Engine) -> list[int]:
    """Items with real histories: the walks of both lifecycles (a suggestion through reassignment, extension,
    reply, re-handling, closing and reopening; split, rejected and withdrawn ones; a review opinion through two
    votes, accountability and reopening), and a suggestion escalated by a sweep (rows written by the system)."""
    ids = list(walk(eng, lambda p: f"文本·{p}", contacts=False).items.values())
    for title in ("对照一", "对照二"):  # controls, never tampered with
        ids.append(
            eng.fire(eng.submit("suggestion", title=title, origin="session", proposers=["王芳"]).id, "register").id
        )
    item = eng.submit("suggestion", title="交通", origin="session", proposers=["王芳"])
    eng.fire(item.id, "register")
    eng.fire(item.id, "assign", lead_unit="市交通运输局")
    eng.sweep(T0 + dt.timedelta(days=200), dispatch=False)
    assert eng.get(item.id).history[-1].trigger == "escalate"
    return [item.id, *ids]


@dataclass(frozen=True)
class Case:
    item: int
    what: str
    expected: int  # the seq verify must name
    apply: Apply


def cases(item: int, rows: list[dict[str, Any]], dialect: str) -> Iterator[Case]:
    """Every tampering of every row of *item*, and of its head, with the first broken link each leaves."""
    n = len(rows)
    where = (AUDIT.c.item_id == item,)

    def edit(row: dict[str, Any], **values: Any) -> Apply:
        return sql(sa.update(AUDIT).where(AUDIT.c.id == row["id"]).values(**values))

    def renumber(c: sa.Connection, pairs: list[tuple[int, int]]) -> None:
        # Two steps through negative numbers: (item, seq) is unique at every statement on PostgreSQL.
        for old, new in pairs:
            c.execute(sa.update(AUDIT).where(*where, AUDIT.c.seq == old).values(seq=-new))
        c.execute(sa.update(AUDIT).where(*where, AUDIT.c.seq < 0).values(seq=-AUDIT.c.seq))

    def insert_after(row: dict[str, Any]) -> Apply:
        def apply(c: sa.Connection) -> None:
            seq = row["seq"] + 1
            renumber(c, [(r["seq"], r["seq"] + 1) for r in rows if r["seq"] >= seq])
            # A careful forger: a row chained to its predecessor, with a hash computed as duban does.
            data, at = {"forged": True}, row["at"] + dt.timedelta(seconds=1)
            digest = chain_hash(row["hash"], item, seq, at, "office", "close", row["dest"], "closed", data)
            c.execute(
                sa.insert(AUDIT).values(
                    item_id=item, seq=seq, at=at, actor_role="office", actor_party=None, trigger="close",
                    source=row["dest"], dest="closed", data=data, prev_hash=row["hash"], hash=digest,
                )
            )  # fmt: skip

        return apply

    for row in rows:
        s = row["seq"]
        other = "closed" if row["dest"] != "closed" else "handling"
        yield Case(item, f"row {s} data", s, edit(row, data={**row["data"], "category": "A", "added": 1}))
        yield Case(
            item,
            f"row {s} actor_role",
            s,
            edit(row, actor_role="leader" if row["actor_role"] != "leader" else "office"),
        )
        yield Case(item, f"row {s} actor_party", s, edit(row, actor_party=(row["actor_party"] or "") + "某单位"))
        yield Case(item, f"row {s} at", s, edit(row, at=row["at"] + dt.timedelta(seconds=1)))
        yield Case(item, f"row {s} trigger", s, edit(row, trigger="close" if row["trigger"] != "close" else "reopen"))
        yield Case(item, f"row {s} source", s, edit(row, source=other if row["source"] != other else "handling"))
        yield Case(item, f"row {s} dest", s, edit(row, dest=other))
        yield Case(item, f"row {s} hash", s, edit(row, hash=("f" if row["hash"][0] != "f" else "e") * 64))
        yield Case(
            item, f"row {s} prev_hash", s, edit(row, prev_hash=("e" if row["prev_hash"][0] != "e" else "d") * 64)
        )
        yield Case(item, f"row {s} seq", s, edit(row, seq=s + 1000))
        yield Case(item, f"row {s} deleted", s, sql(sa.delete(AUDIT).where(AUDIT.c.id == row["id"])))
        if n > 1:
            pair = (s, s + 1) if s < n else (s - 1, s)
            yield Case(item, f"rows {pair} swapped", pair[0], lambda c, p=pair: renumber(c, [p, p[::-1]]))  # type: ignore[misc]
        yield Case(item, f"forged row after {s}", s + 2 if s < n else n + 1, insert_after(row))
        if dialect == "sqlite":  # SQLite stores any value in any column: values that no longer load at all
            for column, value in (("data", "{not json"), ("at", "yesterday")):
                statement = sa.text(f"UPDATE duban_audit SET {column} = :v WHERE id = :id").bindparams(
                    v=value, id=row["id"]
                )
                yield Case(item, f"row {s} {column} unreadable", s, sql(statement))
    head = sa.update(ITEM).where(ITEM.c.id == item)
    yield Case(item, "head audit_seq - 1", n, sql(head.values(audit_seq=n - 1)))
    yield Case(item, "head audit_seq + 1", n + 1, sql(head.values(audit_seq=n + 1)))
    yield Case(item, "head audit_head", n, sql(head.values(audit_head="a" * 64)))
    yield Case(item, "every row deleted", 1, sql(sa.delete(AUDIT).where(*where)))
    first = rows[0]
    actor = f"{first['actor_role']}:{first['actor_party']}" if first["actor_party"] else first["actor_role"]
    forged = {k: v for k, v in first.items() if k != "id"} | {"seq": 0}
    forged["hash"] = chain_hash(
        "0" * 64, item, 0, first["at"], actor, first["trigger"], None, first["dest"], first["data"]
    )
    yield Case(item, "forged row 0 before the first", 0, sql(sa.insert(AUDIT).values(**forged)))


def sql(statement: sa.Executable) -> Apply:
    def apply(c: sa.Connection) -> None:
        c.execute(statement)

    return apply


def snapshot(eng: Engine, ids: list[int]) -> dict[int, tuple[list[dict[str, Any]], dict[str, Any]]]:
    with eng.db.connect() as conn:
        rows = conn.execute(sa.select(AUDIT).where(AUDIT.c.item_id.in_(ids)).order_by(AUDIT.c.item_id, AUDIT.c.seq))
        by_item: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        for r in rows.mappings():
            by_item[r["item_id"]].append(dict(r))
        heads = conn.execute(sa.select(ITEM.c.id, ITEM.c.audit_seq, ITEM.c.audit_head).where(ITEM.c.id.in_(ids)))
        return {h.id: (by_item[h.id], {"audit_seq": h.audit_seq, "audit_head": h.audit_head}) for h in heads}


def restore(conn: sa.Connection, saved: dict[int, tuple[list[dict[str, Any]], dict[str, Any]]], ids: list[int]) -> None:
    conn.execute(sa.delete(AUDIT).where(AUDIT.c.item_id.in_(ids)))
    conn.execute(sa.insert(AUDIT), [r for i in ids for r in saved[i][0]])
    for i in ids:
        conn.execute(sa.update(ITEM).where(ITEM.c.id == i).values(**saved[i][1]))


# ---- the tests ----------------------------------------------------------------------------------


def test_every_tampering_of_every_audit_row_is_named(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str], quick_cli: None
) -> None:
    """For every audit row of every item and every way of tampering with it in SQL (any column edited,
    the row deleted, two rows swapped, a forged row with a correctly computed hash inserted after it) and
    for the item row's head (audit_seq, audit_head), ``duban audit verify`` exits 1 and names exactly the
    tampered items, each with its first broken link; the untampered items are never named. Tamperings are
    applied one per item at a time, many items at once, and undone after each run."""
    ids = population(engine)
    control = ids[-2:]  # never tampered with: must never be named
    saved = snapshot(engine, ids)
    queues = {i: list(cases(i, saved[i][0], engine.db.dialect.name)) for i in ids if i not in control}
    assert verify(db_url, capsys) == (0, {})
    tried, missed, wrong = 0, [], []
    while any(queues.values()):
        batch = {i: q.pop() for i, q in queues.items() if q}
        with engine.db.begin() as conn:
            for case in batch.values():
                case.apply(conn)
        code, named = verify(db_url, capsys)
        tried += len(batch)
        for i, case in batch.items():
            if i not in named:
                missed.append(f"item {i}: {case.what}")
            elif named[i][0] != case.expected:
                wrong.append(
                    f"item {i}: {case.what}: named row {named[i][0]} ({named[i][1]}), expected {case.expected}"
                )
        wrong += [f"item {i} named but untouched: {named[i]}" for i in named if i not in batch]
        assert code == 1
        with engine.db.begin() as conn:
            restore(conn, saved, list(batch))
    rows = sum(len(saved[i][0]) for i in ids)
    with capsys.disabled():
        print(
            f"\ntamper: {tried} edits/deletes/reorders ({rows} audit rows, {len(ids)} items), "
            f"{tried - len(missed)} detected, {len(missed)} missed"
        )
    assert missed == [] and wrong == [], (missed + wrong)[:20]
    assert verify(db_url, capsys) == (0, {})  # everything restored exactly


def test_verify_of_one_clean_item_ignores_a_broken_one(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str], quick_cli: None
) -> None:
    """``duban audit verify ITEM`` checks that item only: a clean item verifies (exit 0, "audit chain intact")
    while another is broken, and the broken one is named when asked for."""
    ids = population(engine)
    with engine.db.begin() as conn:
        conn.execute(sa.delete(AUDIT).where(AUDIT.c.item_id == ids[0], AUDIT.c.seq == 2))
    assert verify(db_url, capsys, str(ids[1])) == (0, {})
    code, named = verify(db_url, capsys, str(ids[0]))
    assert (code, named[ids[0]][0]) == (1, 2) and "missing" in named[ids[0]][1]


def test_an_edited_item_state_is_caught_by_the_export(engine: Engine) -> None:
    """The item row's state must be where its history leads: the export's verification names the newest row
    when someone sets the state in SQL (``duban audit verify`` checks the chain and the head)."""
    from workflow.audit_export import collect

    item = population(engine)[0]
    assert collect(engine, item)["verification"]["intact"]
    with engine.db.begin() as conn:
        conn.execute(sa.update(ITEM).where(ITEM.c.id == item).values(state="closed"))
    found = collect(engine, item)["verification"]
    assert (found["intact"], found["seq"]) == (False, engine.get(item).history[-1].seq)
    assert "state 'closed'" in found["problem"]
