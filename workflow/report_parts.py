"""The follow-up report's figures that count a split item (分办) part by part.

Each unit of a split item replies its own part with its own category (``assignment.reply``), so the
A/B/C/D mix and 按期答复率 count one per part; an ordinary item counts once, from the item. Split
items are few, so their parts are read as rows and judged here.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from workflow import store
from workflow.report_ledgers import Scope

__all__ = ["is_split", "parts"]

_I, _A, _D = store.TABLES["duban_item"], store.TABLES["duban_assignment"], store.TABLES["duban_deadline"]


def is_split() -> sa.ColumnElement[bool]:
    """The item has active split parts (an alias, so that it never correlates with a caller's join)."""
    a = _A.alias("split_part")
    return sa.exists().where(a.c.item_id == _I.c.id, a.c.active, a.c.role == "split")


def parts(scope: Scope) -> dict[str, int]:
    """Per active part of the selected split items: its category, and whether its first reply came
    within the item's reply period (the deadline is the item's, extensions and pauses included).
    A part not replied counts as due only once the period has ended."""
    d = _D.alias("pd")
    rows = scope.conn.execute(
        sa.select(_A.c.reply, d.c.deadline_at)
        .select_from(_A.join(_I, _I.c.id == _A.c.item_id).outerjoin(d, scope.response_on(d)))
        .where(*scope.where, sa.not_(scope.ended), _A.c.active, _A.c.role == "split")
    ).all()
    found = dict.fromkeys(("on_time", "due", *"ABCD"), 0)
    for reply, deadline in rows:
        reply = reply or {}
        category = str(reply.get("category"))
        if category in "ABCD" and len(category) == 1:
            found[category] += 1
        first = reply.get("first_at") or reply.get("at")
        if deadline is None:
            continue
        if first:
            found["due"] += 1
            found["on_time"] += dt.datetime.fromisoformat(first) <= deadline
        elif deadline <= scope.now:
            found["due"] += 1
    return found
