"""The audit log's hash chain: how a row's hash is made, and how a chain is checked.

Each audit row's hash covers the previous row's hash and every field of the row, and the item
row keeps the hash and number of its newest audit row. Editing, deleting, inserting or
reordering any row therefore breaks the chain at a point ``verify`` can name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["GENESIS", "AuditBreak", "chain_hash", "verify_chain"]

GENESIS = "0" * 64


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
) -> str:
    body = json.dumps(
        [item_id, seq, at.astimezone(dt.UTC).isoformat(), actor, trigger, source, dest, data],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditBreak:
    """The first broken link of one item's chain."""

    item_id: int
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"item {self.item_id}: audit row {self.seq}: {self.problem}"


def verify_chain(item_id: int, head_seq: int, head_hash: str, rows: Iterable[Mapping[Any, Any]]) -> AuditBreak | None:
    """Check one item's audit *rows* (ordered by seq) against each other and the item's head."""
    prev, expected_seq = GENESIS, 1
    for row in rows:
        if row["seq"] != expected_seq:
            return AuditBreak(item_id, expected_seq, f"row {expected_seq} is missing (found row {row['seq']} next)")
        if row["prev_hash"] != prev:
            return AuditBreak(
                item_id, row["seq"], "does not follow the previous row (rows deleted, inserted or reordered)"
            )
        actor = f"{row['actor_role']}:{row['actor_party']}" if row["actor_party"] else row["actor_role"]
        digest = chain_hash(
            prev, item_id, row["seq"], row["at"], actor, row["trigger"], row["source"], row["dest"], row["data"]
        )
        if digest != row["hash"]:
            return AuditBreak(item_id, row["seq"], "its content was changed after it was written")
        prev, expected_seq = row["hash"], expected_seq + 1
    if expected_seq - 1 != head_seq or prev != head_hash:
        return AuditBreak(
            item_id,
            expected_seq,
            f"the item records {head_seq} audit rows but the chain ends "
            f"after {expected_seq - 1} (rows deleted or the item row was edited)",
        )
    return None
