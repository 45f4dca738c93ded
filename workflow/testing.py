"""Helpers for integrators' tests: a clock you move by hand and an engine in memory.

from workflow.testing import FakeClock, memory_engine
clock = FakeClock("2026-03-20T09:00:00+08:00")
eng = memory_engine(clock=clock)
clock.advance(days=3)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from workflow.audit import GENESIS, chain_hash
from workflow.engine import Engine
from workflow.model import Actor
from workflow.store import TABLES

__all__ = ["FakeClock", "clone_items", "memory_engine"]
_CHILDREN = ("assignment", "problem", "contact", "vote")


class FakeClock:
    """A clock that stands still until told to move. Call it to read the time."""

    def __init__(self, start: dt.datetime | str = "2026-01-01T09:00:00+08:00") -> None:
        now = dt.datetime.fromisoformat(start) if isinstance(start, str) else start
        if now.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by ``timedelta(**delta)`` and return the new time."""
        self.now += dt.timedelta(**delta)
        return self.now

    def set(self, when: dt.datetime | str) -> dt.datetime:
        self.now = dt.datetime.fromisoformat(when) if isinstance(when, str) else when
        return self.now


def memory_engine(**kwargs: Any) -> Engine:
    """An Engine on a private in-memory SQLite database, schema created, bundled definitions loaded."""
    return Engine("sqlite://", **kwargs)


def clone_items(engine: Engine, item_id: int, n: int, *, batch: int = 2000) -> list[int]:
    """Copy one item *n* times, as if each copy had lived the same history: its row, assignments,
    promises, problems, contacts, votes, deadlines (same due dates and next steps) and audit log,
    re-chained so that every copy's log verifies. For building large populations in tests and
    benchmarks fast: a copy costs a few rows of bulk insert, not a lifecycle of fires."""
    t = {
        name: TABLES[f"duban_{name}"] for name in ("item", "audit", "promise", "deadline", "deadline_step", *_CHILDREN)
    }
    with engine.db.begin() as conn:

        def rows(name: str, column: str, value: Any) -> list[dict[str, Any]]:
            table = t[name]
            found = conn.execute(sa.select(table).where(table.c[column] == value).order_by(table.c.id)).mappings()
            return [{k: v for k, v in r.items() if k != "id"} | {"_id": r["id"]} for r in found]

        item = rows("item", "id", item_id)
        if not item:
            raise ValueError(f"no item {item_id} to clone")
        audit = rows("audit", "item_id", item_id)
        promises = rows("promise", "item_id", item_id)
        deadlines = rows("deadline", "item_id", item_id)
        steps = [s for d in deadlines for s in rows("deadline_step", "deadline_id", d["_id"])]
        children = {name: rows(name, "item_id", item_id) for name in _CHILDREN}

        def insert(name: str, values: list[dict[str, Any]]) -> list[int]:
            if not values:
                return []
            table = t[name]
            clean = [{k: v for k, v in row.items() if k != "_id"} for row in values]
            statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
            return [r[0] for r in conn.execute(statement, clean)]

        made: list[int] = []
        for start in range(0, n, batch):
            count = min(batch, n - start)
            ids = insert("item", [item[0]] * count)
            made += ids
            # each copy's rows get new ids: its audit effects must name them (audit_rows.check_rows)
            renamed: list[dict[str, dict[str, str]]] = [{"duban_item": {str(item_id): str(new)}} for new in ids]
            for name, template in {**children, "promise": promises}.items():
                made_ids = insert(name, [{**r, "item_id": new} for new in ids for r in template])
                for k in range(len(ids)):
                    chunk = made_ids[k * len(template) : (k + 1) * len(template)]
                    renamed[k][f"duban_{name}"] = {str(r["_id"]): str(i) for r, i in zip(template, chunk, strict=True)}
            promise_ids = [int(i) for k in range(len(ids)) for i in renamed[k]["duban_promise"].values()]
            per = len(promises)
            new_deadlines: list[dict[str, Any]] = []
            for k, new in enumerate(ids):
                renumber = {
                    f"promise:{p['_id']}": f"promise:{promise_ids[k * per + j]}" for j, p in enumerate(promises)
                }
                new_deadlines += [
                    {**d, "item_id": new, "subject": renumber.get(d["subject"], d["subject"])} for d in deadlines
                ]
            deadline_ids = insert("deadline", new_deadlines)
            index = {d["_id"]: i for i, d in enumerate(deadlines)}
            insert(
                "deadline_step",
                [
                    {**s, "deadline_id": deadline_ids[k * len(deadlines) + index[s["deadline_id"]]]}
                    for k in range(len(ids))
                    for s in steps
                ],
            )
            chained, heads = [], {}
            for k, new in enumerate(ids):
                prev = GENESIS
                for a in audit:
                    actor = str(Actor(a["actor_role"], a["actor_party"]))
                    effects = {
                        table: {renamed[k][table][row]: cells for row, cells in rows.items()}
                        for table, rows in a["effects"].items()
                    }
                    args = (new, a["seq"], a["at"], actor, a["trigger"], a["source"], a["dest"], a["data"], effects)
                    digest = chain_hash(prev, *args)
                    chained.append({**a, "item_id": new, "effects": effects, "prev_hash": prev, "hash": digest})
                    prev = digest
                heads[new] = prev
            insert("audit", chained)
            head = t["item"]
            conn.execute(
                sa.update(head).where(head.c.id == sa.bindparam("w_id")).values(audit_head=sa.bindparam("w_head")),
                [{"w_id": k, "w_head": v} for k, v in heads.items()],
            )
    return made
