"""The audit log's hash chain: how a row's hash is made, and how a chain is checked.

Each audit row's hash covers the previous row's hash and every field of the row, and the item
row keeps the hash and number of its newest audit row. Editing, deleting, inserting or
reordering any row therefore breaks the chain at a point ``verify`` can name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from workflow.audit_rows import ITEM_TABLE, Effects, check_rows, item_changes
from workflow.errors import ConflictError, NotFound
from workflow.model import Actor
from workflow.store import TABLES, Prepared

__all__ = [
    "GENESIS",
    "INSERT_AUDIT",
    "AuditBreak",
    "append_event",
    "audit_values",
    "chain_hash",
    "foreign_triggers",
    "next_event",
    "rows_break",
    "verify_chain",
    "verify_items",
    "write_events",
]

GENESIS = "0" * 64
_ITEM, _AUDIT = TABLES["duban_item"], TABLES["duban_audit"]
_FIRE_COLUMNS = ["state", "version", "updated_at", "audit_seq", "audit_head", "data", "round", "key_supervised"]
_UPDATE_ITEM = Prepared(
    sa.update(_ITEM).where(_ITEM.c.id == sa.bindparam("w_id"), _ITEM.c.version == sa.bindparam("w_version")),
    _FIRE_COLUMNS,
)
INSERT_AUDIT = Prepared(sa.insert(_AUDIT), [c.key for c in _AUDIT.c if c.key != "id"])


def chain_hash(
    prev: str,
    item_id: int,
    seq: int,
    at: dt.datetime,
    actor: str,
    trigger: str,
    source: str | None,
    dest: str,
    data: Mapping[str, Any],
    effects: Mapping[str, Any] | None = None,
) -> str:
    fields: list[Any] = [item_id, seq, at.astimezone(dt.UTC).isoformat(), actor, trigger, source, dest, data]
    if effects:  # rows written before migration 0006 record none and keep their hashes
        fields.append(effects)
    body = json.dumps(
        fields,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditBreak:
    """The first broken link of one item's chain, or the first of its rows that is not what the chain
    wrote (then *table*, *row* and, for an edited value, *column* name it)."""

    item_id: int
    seq: int
    problem: str
    table: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        if self.table is None:
            return f"item {self.item_id}: audit row {self.seq}: {self.problem}"
        cell = f"{self.table} row {self.row}" + (f" column {self.column}" if self.column else "")
        return f"item {self.item_id}: {cell}: {self.problem} (audit row {self.seq})"


def verify_chain(
    item_id: int,
    head_seq: int,
    head_hash: str,
    rows: Iterable[Mapping[Any, Any]],
    *,
    state: str | None = None,
) -> AuditBreak | None:
    """Check one item's audit *rows* (ordered by seq) against each other and the item's head.

    Returns the first broken link: the lowest seq at which the stored history stops being the one that
    was written. With *state* (the item row's), the newest row must also lead to that state.
    """
    prev, expected_seq, last_dest = GENESIS, 1, None
    found = iter(rows)
    while True:
        try:
            row = next(found, None)
        except (ValueError, TypeError, OverflowError) as exc:
            # A value edited in place (possible on SQLite, whose columns take any type) can fail to
            # load at all: that is a break at this row, not a crash of the check.
            return AuditBreak(
                item_id, expected_seq, f"cannot be read ({type(exc).__name__}): its stored values were altered"
            )
        if row is None:
            break
        seq = row["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < expected_seq:
            # Rows come ordered by seq and (item, seq) is unique: a seq below the next expected one
            # (0, negative, or not a number) was never written by duban.
            where = seq if isinstance(seq, int) and not isinstance(seq, bool) else expected_seq
            return AuditBreak(item_id, where, f"row {seq!r} is not part of the chain (rows are numbered from 1)")
        if seq != expected_seq:
            return AuditBreak(item_id, expected_seq, f"row {expected_seq} is missing (found row {seq} next)")
        if row["prev_hash"] != prev:
            return AuditBreak(item_id, seq, "does not follow the previous row (rows deleted, inserted or reordered)")
        actor = f"{row['actor_role']}:{row['actor_party']}" if row["actor_party"] else row["actor_role"]
        try:
            digest = chain_hash(
                prev,
                item_id,
                seq,
                row["at"],
                actor,
                row["trigger"],
                row["source"],
                row["dest"],
                row["data"],
                row.get("effects"),
            )
        except (ValueError, TypeError, AttributeError) as exc:
            return AuditBreak(item_id, seq, f"cannot be read ({type(exc).__name__}): its stored values were altered")
        if digest != row["hash"]:
            return AuditBreak(item_id, seq, "its content was changed after it was written")
        prev, expected_seq, last_dest = row["hash"], expected_seq + 1, row["dest"]
    count = expected_seq - 1
    if not isinstance(head_seq, int) or isinstance(head_seq, bool):
        return AuditBreak(
            item_id, count, f"the item row's audit_seq {head_seq!r} is not a number (the item row was edited)"
        )
    if count > head_seq:
        # Rows beyond the head the item row records: the first of them was added behind its back.
        return AuditBreak(
            item_id,
            head_seq + 1,
            f"the item records {head_seq} audit rows but the chain has {count} "
            "(rows added, or the item row was edited)",
        )
    if count < head_seq:
        return AuditBreak(
            item_id,
            expected_seq,
            f"the item records {head_seq} audit rows but the chain ends "
            f"after {count} (rows deleted or the item row was edited)",
        )
    if prev != head_hash:
        return AuditBreak(
            item_id,
            count,
            "the chain does not end at the hash the item row records (the row or the item row was rewritten)",
        )
    if state is not None and count and last_dest != state:
        return AuditBreak(
            item_id, count, f"the item is in state {state!r} but its history leads to {last_dest!r} (item row edited)"
        )
    return None


def audit_values(
    item_id: int,
    seq: int,
    prev: str,
    at: dt.datetime,
    actor: Actor,
    trigger: str,
    source: str | None,
    dest: str,
    data: dict[str, Any],
    effects: Effects | None = None,
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "seq": seq,
        "at": at,
        "actor_role": actor.role,
        "actor_party": actor.party,
        "trigger": trigger,
        "source": source,
        "dest": dest,
        "data": data,
        "effects": effects or {},
        "prev_hash": prev,
        "hash": chain_hash(prev, item_id, seq, at, str(actor), trigger, source, dest, data, effects),
    }


def next_event(
    item: dict[str, Any],
    actor: Actor,
    at: dt.datetime,
    trigger: str,
    dest: str,
    data: dict[str, Any],
    changes: dict[str, Any],
    effects: Effects | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An event on *item*, not yet written: the item's new column values and the audit row chained
    to its previous one, with the rows the event wrote (*effects*, and the item columns *changes* moves)."""
    seq = item["audit_seq"] + 1
    moved = item_changes(item, changes)
    if moved:
        effects = {**(effects or {}), ITEM_TABLE: {str(item["id"]): moved}}
    audit = audit_values(item["id"], seq, item["audit_head"], at, actor, trigger, item["state"], dest, data, effects)
    new = {
        "state": dest,
        "version": item["version"] + 1,
        "updated_at": at,
        "audit_seq": seq,
        "audit_head": audit["hash"],
        "data": item["data"],
        "round": item["round"],
        "key_supervised": item["key_supervised"],
        **changes,
    }
    return new, audit


def write_events(conn: sa.Connection, writes: list[tuple[int, int, dict[str, Any], list[dict[str, Any]]]]) -> None:
    """Write events computed with :func:`next_event`, for one item or many: each item's final
    values, compare-and-set on the version it had before them, then the audit rows. The
    compare-and-set comes first: a loser of a race stops here with a ConflictError instead of
    colliding on an audit row's (item, seq) key. *writes* holds (item id, version before, new
    values, audit rows)."""
    if not writes:
        return
    done = _UPDATE_ITEM.execute_many(conn, [{"w_id": i, "w_version": v, **new} for i, v, new, _ in writes])
    if done != len(writes):
        which = writes[0][0] if len(writes) == 1 else f"among {', '.join(str(w[0]) for w in writes[:5])}…"
        raise ConflictError(f"item {which} was changed by another process during this fire; reload and retry")
    INSERT_AUDIT.execute_many(conn, [a for *_, audits in writes for a in audits])


def append_event(
    conn: sa.Connection,
    item: dict[str, Any],
    actor: Actor,
    at: dt.datetime,
    trigger: str,
    dest: str,
    data: dict[str, Any],
    changes: dict[str, Any],
    effects: Effects | None = None,
) -> dict[str, Any]:
    """Record an event on *item* (its new state and *changes*, and its audit row with the rows it
    wrote) in this transaction. Returns the item's new column values."""
    new, audit = next_event(item, actor, at, trigger, dest, data, changes, effects)
    write_events(conn, [(item["id"], item["version"], new, [audit])])
    return new


#: duban creates no triggers or rules: any on its tables came from elsewhere (a restored backup, a hand edit)
#: and can rewrite later writes behind the audit's back. A host application's own tables are its business.
_TRIGGERS = {
    "sqlite": (
        "SELECT 'trigger', name, tbl_name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE :p ESCAPE '!'"
    ),
    "postgresql": (
        "SELECT 'trigger', t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal "
        "AND n.nspname = current_schema() AND c.relname LIKE :p ESCAPE '!' "
        "UNION ALL SELECT 'rule', rulename, tablename FROM pg_rules "
        "WHERE schemaname = current_schema() AND tablename LIKE :p ESCAPE '!'"
    ),
}


def foreign_triggers(conn: sa.Connection) -> list[str]:
    """Every SQL trigger or rule on one of duban's tables (duban makes none), as ``trigger NAME on TABLE``."""
    query = _TRIGGERS.get(conn.dialect.name)
    if query is None:
        return []
    return [
        f"{kind} {name!r} on {table}"
        for kind, name, table in sorted(conn.execute(sa.text(query), {"p": "duban!_%"}).all())
    ]


def rows_break(conn: sa.Connection, item_id: int, chain: Iterable[Mapping[Any, Any]]) -> AuditBreak | None:
    """The first of the item's rows that is not what its verified *chain* wrote, as a break naming it."""
    row = check_rows(conn, item_id, chain)
    return None if row is None else AuditBreak(item_id, row.seq, row.problem, row.table, row.row, row.column)


def _kept(conn: sa.Connection, query: sa.Select[Any], into: list[Mapping[Any, Any]]) -> Iterator[Mapping[Any, Any]]:
    """The rows of *query* one by one (a value that fails to load is a break at its row, see
    :func:`verify_chain`), each also kept in *into*."""
    for row in conn.execute(query).mappings():
        into.append(row)
        yield row


def verify_items(conn: sa.Connection, item_id: int | None = None) -> list[AuditBreak]:
    """The first break of each item (or of *item_id*): in its hash chain, else in the rows its figures
    are read from, which must be what the chain's events wrote (:func:`workflow.audit_rows.check_rows`)."""
    heads = sa.select(_ITEM.c.id, _ITEM.c.audit_seq, _ITEM.c.audit_head, _ITEM.c.state).order_by(_ITEM.c.id)
    if item_id is not None:
        heads = heads.where(_ITEM.c.id == item_id)
    found = conn.execute(heads).all()
    if item_id is not None and not found:
        raise NotFound(f"no item {item_id}")
    breaks = []
    for head in found:
        query = sa.select(_AUDIT).where(_AUDIT.c.item_id == head.id).order_by(_AUDIT.c.seq)
        chain: list[Mapping[Any, Any]] = []
        problem = verify_chain(head.id, head.audit_seq, head.audit_head, _kept(conn, query, chain), state=head.state)
        if problem is None:
            problem = rows_break(conn, head.id, chain)
        if problem:
            breaks.append(problem)
    return breaks
