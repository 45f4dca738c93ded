"""The audit covers what the figures are computed from: every row the report reads is re-derived from
the hash chain by ``audit verify``, and a row edited, added or deleted in SQL is named (item, table, row,
column) even though every audit row is still intact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from hostile_corpus import walk

from workflow import Engine
from workflow.audit_rows import CHILD_TABLES
from workflow.cli import main
from workflow.store import TABLES
from workflow.testing import clone_items

T = TABLES
Edit = Callable[[sa.Connection, dict[str, int]], tuple[str, str, int, str | None]]


def _first(conn: sa.Connection, table: str, item: int, *where: sa.ColumnElement[bool]) -> dict[str, Any]:
    t = T[table]
    row = conn.execute(sa.select(t).where(t.c.item_id == item, *where).order_by(t.c.id)).mappings().first()
    assert row is not None, (table, item)
    return dict(row)


def _set(conn: sa.Connection, table: str, row_id: int, **values: Any) -> None:
    conn.execute(sa.update(T[table]).where(T[table].c.id == row_id).values(**values))


def promise_kept(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    p = _first(conn, "duban_promise", items["suggestion"], T["duban_promise"].c.status == "broken")
    _set(conn, "duban_promise", p["id"], status="kept")
    return "suggestion", "duban_promise", p["id"], "status"


def reply_category(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    a = _first(
        conn,
        "duban_assignment",
        items["suggestion"],
        T["duban_assignment"].c.active,
        T["duban_assignment"].c.role == "lead",
    )
    _set(conn, "duban_assignment", a["id"], reply={**a["reply"], "category": "A"})
    return "suggestion", "duban_assignment", a["id"], "reply"


def problem_status(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    p = _first(conn, "duban_problem", items["review_opinion"])
    _set(conn, "duban_problem", p["id"], status="open")
    return "review_opinion", "duban_problem", p["id"], "status"


def vote_counts(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    v = _first(conn, "duban_vote", items["review_opinion"])
    _set(conn, "duban_vote", v["id"], unsatisfied=0, result="satisfactory")
    return "review_opinion", "duban_vote", v["id"], "result"


def contact_date(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    c = _first(conn, "duban_contact", items["suggestion"])
    _set(conn, "duban_contact", c["id"], contacted_on=dt.date(2026, 1, 2))
    return "suggestion", "duban_contact", c["id"], "contacted_on"


def assignment_unit(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    a = _first(conn, "duban_assignment", items["split"], T["duban_assignment"].c.active)
    _set(conn, "duban_assignment", a["id"], unit="别的单位")
    return "split", "duban_assignment", a["id"], "unit"


def item_round(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    conn.execute(sa.update(T["duban_item"]).where(T["duban_item"].c.id == items["suggestion"]).values(round=0))
    return "suggestion", "duban_item", items["suggestion"], "round"


def item_key(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    conn.execute(sa.update(T["duban_item"]).where(T["duban_item"].c.id == items["split"]).values(key_supervised=True))
    return "split", "duban_item", items["split"], "key_supervised"


def item_category(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    i = T["duban_item"]
    data = conn.execute(sa.select(i.c.data).where(i.c.id == items["suggestion"])).scalar_one()
    conn.execute(sa.update(i).where(i.c.id == items["suggestion"]).values(data={**data, "category": "A"}))
    return "suggestion", "duban_item", items["suggestion"], "data"


def promise_added(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    p = _first(conn, "duban_promise", items["suggestion"])
    new = {k: v for k, v in p.items() if k != "id"} | {"status": "kept"}
    row_id = conn.execute(sa.insert(T["duban_promise"]).values(**new).returning(T["duban_promise"].c.id)).scalar_one()
    return "suggestion", "duban_promise", row_id, None


def contact_deleted(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    c = _first(conn, "duban_contact", items["suggestion"])
    conn.execute(sa.delete(T["duban_contact"]).where(T["duban_contact"].c.id == c["id"]))
    return "suggestion", "duban_contact", c["id"], None


def row_moved(conn: sa.Connection, items: dict[str, int]) -> tuple[str, str, int, str | None]:
    """A problem handed to another item: gone from its own item (the lower id is reported first)."""
    p = _first(conn, "duban_problem", items["review_opinion"])
    _set(conn, "duban_problem", p["id"], item_id=items["split"])
    first = min(items["review_opinion"], items["split"])
    return ("split" if first == items["split"] else "review_opinion"), "duban_problem", p["id"], None


EDITS: list[Edit] = [
    promise_kept,
    reply_category,
    problem_status,
    vote_counts,
    contact_date,
    assignment_unit,
    item_round,
    item_key,
    item_category,
    promise_added,
    contact_deleted,
    row_moved,
]


@pytest.fixture
def walked(engine: Engine) -> dict[str, int]:
    items = walk(engine, lambda p: f"文本·{p}").items
    assert engine.verify_audit() == []
    return items


def test_every_row_the_report_reads_is_recorded_by_the_event_that_wrote_it(
    engine: Engine, walked: dict[str, int]
) -> None:
    """Both lifecycles walked end to end (assignments, reassignment, contacts, replies with promises,
    verification, problems, plans, votes, key designation, rounds) verify clean: every row of every
    covered table is exactly what the chain's events wrote, so none was written behind the audit."""
    with engine.db.connect() as conn:
        counts = {t: conn.execute(sa.select(sa.func.count()).select_from(T[t])).scalar_one() for t in CHILD_TABLES}
    assert all(counts.values()), f"the walk writes every covered table: {counts}"
    assert engine.verify_audit() == []


@pytest.mark.parametrize("edit", EDITS, ids=[e.__name__ for e in EDITS])
def test_a_row_edited_added_or_deleted_in_sql_is_named(engine: Engine, walked: dict[str, int], edit: Edit) -> None:
    """An edit in SQL to a row the figures are computed from (a promise's status, a reply's category, a
    problem's status, a vote, a contact's date, an assignment's unit, the item's round, key flag or data),
    an added or a deleted row, leaves every audit row intact, yet ``verify_audit`` reports that item, naming
    the table, the row and (for an edited value) the column; the other items still verify."""
    before = engine.report(year=2026).data["summary"]
    with engine.db.begin() as conn:
        name, table, row, column = edit(conn, walked)
    breaks = engine.verify_audit()
    assert [(b.item_id, b.table, b.row, b.column) for b in breaks[:1]] == [(walked[name], table, row, column)]
    assert all(b.table is not None for b in breaks), "the chains themselves are intact"
    assert engine.verify_audit(walked["withdrawn"]) == []
    text = str(breaks[0])
    assert table in text and str(row) in text and (column is None or column in text)
    if edit in (promise_kept, problem_status, item_category):
        assert engine.report(year=2026).data["summary"] != before, "the edit moves a figure"


def test_audit_verify_names_the_row_on_the_command_line(
    engine: Engine, walked: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """``duban audit verify`` exits 1 and prints the item, table, row and column of a promise whose status
    was edited in SQL (broken → kept), which moves 落实率."""
    with engine.db.begin() as conn:
        _, table, row, column = promise_kept(conn, walked)
    code = main(["--db", engine.url, "audit", "verify"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert f"item {walked['suggestion']}: {table} row {row} column {column}" in err


def test_copies_made_by_clone_items_verify_and_each_copy_guards_its_own_rows(
    engine: Engine, walked: dict[str, int]
) -> None:
    """clone_items gives each copy new row ids and its audit records name them: every copy verifies, and
    an edit to one copy's promise is reported on that copy alone."""
    copies = clone_items(engine, walked["suggestion"], 3)
    assert engine.verify_audit() == []
    with engine.db.begin() as conn:
        p = _first(conn, "duban_promise", copies[1])
        _set(conn, "duban_promise", p["id"], status="kept" if p["status"] != "kept" else "broken")
    assert [(b.item_id, b.table, b.row) for b in engine.verify_audit()] == [(copies[1], "duban_promise", p["id"])]
