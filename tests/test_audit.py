"""The audit log: every fire is recorded, and any edit, deletion or reordering is detected."""

from __future__ import annotations

import sqlalchemy as sa
from conftest import suggestion, to_replied

from workflow import Actor, Engine
from workflow.audit import GENESIS, chain_hash
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


def test_a_row_added_after_the_head_is_named_at_its_own_seq(engine: Engine) -> None:
    """A row appended behind the item row's back, even one whose hash is computed as duban does, is named at
    its own seq: the item row records fewer rows than the chain has."""
    item_id = walked(engine)
    [last] = [h for h in engine.get(item_id).history if h.seq == 9]
    data = {"forged": True}
    digest = chain_hash(last.hash, item_id, 10, last.at, "office", "reopen", "closed", "rehandling", data)
    execute(
        engine,
        sa.insert(AUDIT).values(
            item_id=item_id, seq=10, at=last.at, actor_role="office", actor_party=None, trigger="reopen",
            source="closed", dest="rehandling", data=data, prev_hash=last.hash, hash=digest,
        ),
    )  # fmt: skip
    [found] = engine.verify_audit(item_id)
    assert found.seq == 10 and "records 9 audit rows but the chain has 10" in found.problem


def test_an_edited_head_hash_names_the_newest_row(engine: Engine) -> None:
    """The item row keeps the newest row's hash: editing it breaks the link at that row."""
    item_id = walked(engine)
    execute(engine, sa.update(ITEM).where(ITEM.c.id == item_id).values(audit_head="0" * 64))
    [found] = engine.verify_audit(item_id)
    assert found.seq == 9 and "does not end at the hash the item row records" in found.problem


def test_a_row_numbered_before_the_first_is_named(engine: Engine) -> None:
    """A row with seq 0 or below was never written by duban: it is named at its own number."""
    item_id = walked(engine)
    first = engine.get(item_id).history[0]
    execute(
        engine,
        sa.insert(AUDIT).values(
            item_id=item_id, seq=0, at=first.at, actor_role="office", actor_party=None, trigger="submit",
            source=None, dest="submitted", data={}, prev_hash=GENESIS, hash=first.hash,
        ),
    )  # fmt: skip
    [found] = engine.verify_audit(item_id)
    assert found.seq == 0 and "not part of the chain" in found.problem


def test_a_value_that_no_longer_loads_is_a_break_not_a_crash(engine: Engine) -> None:
    """On SQLite a column takes any value: a row whose data is no longer JSON is reported as the break at that
    row, and the other items are still checked."""
    if engine.db.dialect.name != "sqlite":
        return  # PostgreSQL refuses such a value in the first place
    item_id, other = walked(engine), suggestion(engine).id
    with engine.db.begin() as conn:
        conn.exec_driver_sql(f"UPDATE duban_audit SET data = '{{not json' WHERE item_id = {item_id} AND seq = 4")
    [found] = engine.verify_audit()
    assert (found.item_id, found.seq) == (item_id, 4) and "cannot be read" in found.problem
    assert engine.verify_audit(other) == []
