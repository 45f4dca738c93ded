"""The audit's record of the rows the figures are computed from, and the check that re-derives them.

The hash chain proves the history of events; it says nothing by itself of the rows those events
wrote. 落实率, 整改率 and the A/B/C/D mix are read from those rows, so each audit row also carries
its event's *effects*: every column it wrote in the item row (title, year, round, key_supervised,
data) and in the item's assignments, promises, problems, contacts and votes. The effects are hashed
with the row, so they are as tamper-evident as the event. Folding an item's effects in order gives
what each of those rows must hold now; :func:`check_rows` compares that with the rows as they stand
and names the first one that differs: edited, added or deleted outside duban.

Writes go through :meth:`workflow.registry.Context.insert` / :meth:`~workflow.registry.Context.update`
(or :func:`record` beside a faster statement), which record as they write; an action that wrote
behind them would leave a row the check reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from workflow.store import TABLES

__all__ = ["CHILD_TABLES", "ITEM_COLUMNS", "Effects", "RowBreak", "check_rows", "item_changes", "record", "value"]

#: table → row id (as text) → column → the value written, in its JSON form.
Effects = dict[str, dict[str, dict[str, Any]]]

ITEM_TABLE = "duban_item"
#: The item columns the reports read (its state is proven by the chain itself).
ITEM_COLUMNS = ("title", "year", "round", "key_supervised", "data")
#: The tables of an item's own rows that the reports read, each row keyed by ``item_id``.
CHILD_TABLES = ("duban_assignment", "duban_promise", "duban_problem", "duban_contact", "duban_vote")
_NOT_RECORDED = {"id", "item_id"}


def value(v: Any) -> Any:
    """The JSON form an effect keeps of a column value: instants in UTC ISO form, dates ISO."""
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Mapping):
        return {str(k): value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    return v


def record(effects: Effects, table: str, row_id: int, values: Mapping[str, Any]) -> None:
    """Note in *effects* that this event wrote *values* into row *row_id* of *table*."""
    row = effects.setdefault(table, {}).setdefault(str(row_id), {})
    row.update({k: value(v) for k, v in values.items() if k not in _NOT_RECORDED})


def item_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The covered item columns whose value *new* changes from *old*."""
    return {c: new[c] for c in ITEM_COLUMNS if c in new and value(new[c]) != value(old.get(c))}


class RowBreak:
    """A row that is not what the audit chain says it must be."""

    __slots__ = ("column", "problem", "row", "seq", "table")

    def __init__(self, seq: int, table: str, row: int, column: str | None, problem: str) -> None:
        self.seq, self.table, self.row, self.column, self.problem = seq, table, row, column, problem


_Folded = dict[str, dict[int, dict[str, tuple[Any, int]]]]


def _expected(chain: Iterable[Mapping[Any, Any]]) -> tuple[_Folded, bool, int]:
    """Fold an item's effects in seq order: table → row id → column → (value, seq that wrote it); also
    whether the chain records effects at all, and its last seq."""
    out: _Folded = {}
    covered, last = False, 0
    for audit in chain:
        last = audit["seq"]
        effects = audit.get("effects") or {}
        if audit["seq"] == 1 and effects:
            covered = True  # written since migration 0006: the submit row records the item's columns
        for table, rows in effects.items():
            for row_id, columns in rows.items():
                kept = out.setdefault(table, {}).setdefault(int(row_id), {})
                kept.update({c: (v, audit["seq"]) for c, v in columns.items()})
    return out, covered, last


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def check_rows(conn: sa.Connection, item_id: int, chain: Iterable[Mapping[Any, Any]]) -> RowBreak | None:
    """Compare the item's rows with what its (already verified) *chain* says they hold; the first
    difference, in table order, then row id, then column. None when they agree, or when the item was
    written before effects were recorded (its submit row has none: nothing to derive them from)."""
    expected, covered, head = _expected(chain)
    if not covered:
        return None
    item = TABLES[ITEM_TABLE]
    for table_name in (ITEM_TABLE, *CHILD_TABLES):
        table = TABLES[table_name]
        key = item.c.id if table_name == ITEM_TABLE else table.c.item_id
        columns = [table.c.id, *(table.c[c] for c in ITEM_COLUMNS)] if table_name == ITEM_TABLE else list(table.c)
        query = sa.select(*columns).where(key == item_id).order_by(table.c.id)
        actual = {r["id"]: r for r in conn.execute(query).mappings()}
        wanted = expected.get(table_name, {})
        for row_id in sorted(set(actual) | set(wanted)):
            if row_id not in wanted:
                return RowBreak(head, table_name, row_id, None, "no event of the chain wrote it (added in SQL)")
            cells = wanted[row_id]
            last = max(seq for _, seq in cells.values())
            if row_id not in actual:
                return RowBreak(last, table_name, row_id, None, "the chain wrote it; it is gone (deleted in SQL)")
            for column in sorted(cells):
                want, seq = cells[column]
                have = value(actual[row_id][column]) if column in actual[row_id] else None
                if have != want:
                    return RowBreak(
                        seq,
                        table_name,
                        row_id,
                        column,
                        f"holds {_show(have)} but the chain wrote {_show(want)} (edited in SQL)",
                    )
    return None
