"""The audit log: every fire is recorded, and any edit, deletion or reordering is detected."""

from __future__ import annotations

import sqlalchemy as sa
from conftest import suggestion, to_replied

from workflow import Actor, Engine
from workflow.store import TABLES

AUDIT, ITEM = TABLES["duban_audit"], TABLES["duban_item"]


def walked(engine: Engine) -> int:
    item = to_replied(engine)
    engine.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="satisfied")
    engine.fire(item.id, "close")
    return item.id


def execute(engine: Engine, statement: sa.Executable) -> None:
    with engine.db.begin() as conn:
        conn.execute(statement)


def test_history_records_every_step_with_actor_and_data(engine: Engine) -> None:
    """The history lists each fired trigger in order with who fired it, from and to, and its data."""
    item_id = walked(engine)
    history = engine.get(item_id).history
    assert [h.trigger for h in history] == [
        "submit",
        "register",
        "assign",
        "accept",
        "accept",
        "submit_co_opinion",
        "reply",
        "evaluate",
        "close",
    ]
    assert [h.seq for h in history] == list(range(1, 10))
    reply = history[6]
    assert (reply.actor, reply.source, reply.dest, reply.data["category"]) == (
        "unit:市交通运输局",
        "handling",
        "replied",
        "A",
    )
    assert engine.verify_audit() == []


def test_edited_row_is_named(engine: Engine) -> None:
    """Changing any audit row's content breaks the chain at that row."""
    item_id = walked(engine)
    execute(engine, sa.update(AUDIT).where(AUDIT.c.item_id == item_id, AUDIT.c.seq == 7).values(data={"category": "D"}))
    [found] = engine.verify_audit()
    assert (found.item_id, found.seq) == (item_id, 7) and "changed" in found.problem


def test_deleted_middle_row_is_named(engine: Engine) -> None:
    """Deleting a row in the middle is reported at the missing row."""
    item_id = walked(engine)
    execute(engine, sa.delete(AUDIT).where(AUDIT.c.item_id == item_id, AUDIT.c.seq == 4))
    [found] = engine.verify_audit(item_id)
    assert found.seq == 4 and "missing" in found.problem


def test_deleted_last_row_is_named(engine: Engine) -> None:
    """Deleting the newest row is caught by the head kept on the item row."""
    item_id = walked(engine)
    execute(engine, sa.delete(AUDIT).where(AUDIT.c.item_id == item_id, AUDIT.c.seq == 9))
    [found] = engine.verify_audit()
    assert found.seq == 9 and "records 9 audit rows" in found.problem


def test_reordered_rows_are_named(engine: Engine) -> None:
    """Swapping two rows' positions breaks the chain at the first of them."""
    item_id = walked(engine)
    where = AUDIT.c.item_id == item_id
    execute(engine, sa.update(AUDIT).where(where, AUDIT.c.seq == 3).values(seq=-3))
    execute(engine, sa.update(AUDIT).where(where, AUDIT.c.seq == 4).values(seq=3))
    execute(engine, sa.update(AUDIT).where(where, AUDIT.c.seq == -3).values(seq=4))
    [found] = engine.verify_audit()
    assert found.seq == 3 and "does not follow" in found.problem


def test_only_the_tampered_item_is_reported(engine: Engine) -> None:
    """Each item has its own chain: tampering with one leaves the others verified."""
    first, second = walked(engine), suggestion(engine).id
    execute(engine, sa.update(AUDIT).where(AUDIT.c.item_id == second).values(actor_role="leader"))
    assert [b.item_id for b in engine.verify_audit()] == [second]
    assert engine.verify_audit(first) == []
