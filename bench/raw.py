"""The physical limit: the rows of a fire written by plain ``sqlite3`` and nothing else.

No engine, no ORM, no state machine, no checks: each operation of the lifecycle is one
``BEGIN IMMEDIATE`` … ``COMMIT`` holding the statements every engine must issue for a fire,

* read the item row by primary key (its version and audit head: the compare-and-set and the hash
  chain need them),
* ``UPDATE`` the item (state, version, audit sequence and head, time),
* ``INSERT`` its audit row (with the SHA-256 link of the chain, as duban's),
* ``INSERT`` one outbox row (a notice of a few hundred characters),

into duban's own tables (``duban_item``, ``duban_audit``, ``duban_notice``, made by opening a duban
engine on the file before the clock starts) with the same pragmas: WAL, ``synchronous`` from
``--durability``, foreign keys on. ``sqlite3`` keeps each statement prepared in its cache.
The next state is looked up in a dict of the eleven steps. This is what duban's figures are a
fraction of; it is not a peer (it checks nothing and would accept any trigger).

It writes an outbox row on every fire, which duban does only on the fires that notify (assign,
reply, close...), and none of the assignment, deadline or contact rows duban writes; both make the
limit a little lower and higher respectively than a "same work" floor, and neither by much: the
commit (one WAL append) is most of a fire's cost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.lifecycle import STEPS, Who

__all__ = ["RawContestant"]

SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}
#: trigger -> the state after it, in the order the driver fires them (accept is fired three times).
NEXT = {
    "register": "registered",
    "assign": "assigned",
    "accept": "handling",
    "submit_co_opinion": "handling",
    "record_contact": "handling",
    "reply": "replied",
    "evaluate": "evaluated",
    "close": "closed",
}
GENESIS = "0" * 64
BODY = "市交通运输局：\n\n现将代表建议《关于增加通勤班车密度的建议》交由你单位办理，请按期答复。\n" * 3

_ITEM = """INSERT INTO duban_item (kind, definition_id, state, title, year, round, key_supervised, data,
    version, audit_seq, audit_head, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0, ?, 1, 1, ?, ?, ?)"""
_READ = "SELECT state, version, audit_seq, audit_head FROM duban_item WHERE id = ?"
_UPDATE = """UPDATE duban_item SET state = ?, version = ?, audit_seq = ?, audit_head = ?, updated_at = ?
    WHERE id = ? AND version = ?"""
_AUDIT = """INSERT INTO duban_audit (item_id, seq, at, actor_role, actor_party, "trigger", source, dest, data,
    prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_NOTICE = """INSERT INTO duban_notice (key, item_id, type, channel, recipient, role, address, subject,
    body_text, body_html, cause, status, attempts, next_attempt_at, queued_at)
    VALUES (?, ?, ?, 'mail', ?, 'unit', 'unit@example.org', ?, ?, NULL, ?, 'queued', 0, ?, ?)"""


def _link(prev: str, item_id: int, seq: int, at: str, actor: Who, trigger: str, dest: str, data: str) -> str:
    body = json.dumps([item_id, seq, at, actor[0], trigger, dest, data], ensure_ascii=False)
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


class RawContestant:
    """The lifecycle's rows written with plain sqlite3 (see the module docstring)."""

    def __init__(self, folder: Path, durability: str) -> None:
        from workflow import Engine

        path = folder / "raw.db"
        Engine(f"sqlite:///{path}", durability=durability).close()  # duban's schema, untimed
        self.db = sqlite3.connect(path, isolation_level=None, cached_statements=32)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={SYNCHRONOUS[durability]}")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.definition_id = self.db.execute(
            "SELECT max(id) FROM duban_definition WHERE kind = 'suggestion'"
        ).fetchone()[0]
        assert {s.trigger for s in STEPS} <= NEXT.keys()

    def submit(self, at: dt.datetime, fields: Mapping[str, Any]) -> int:
        when = at.isoformat()
        data = json.dumps(dict(fields), ensure_ascii=False)
        head = _link(GENESIS, 0, 1, when, ("office", None), "submit", "submitted", data)
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        item_id = db.execute(
            _ITEM, ("suggestion", self.definition_id, "submitted", fields["title"], at.year, data, head, when, when)
        ).lastrowid
        assert item_id is not None
        db.execute(_AUDIT, (item_id, 1, when, "office", None, "submit", None, "submitted", data, GENESIS, head))
        db.execute("COMMIT")
        return item_id

    def fire(self, item_id: int, trigger: str, actor: Who, at: dt.datetime, data: Mapping[str, Any]) -> object:
        when = at.isoformat()
        payload = json.dumps(dict(data), ensure_ascii=False)
        dest = NEXT[trigger]
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        state, version, seq, head = db.execute(_READ, (item_id,)).fetchone()
        new = _link(head, item_id, seq + 1, when, actor, trigger, dest, payload)
        db.execute(_UPDATE, (dest, version + 1, seq + 1, new, when, item_id, version))
        db.execute(_AUDIT, (item_id, seq + 1, when, actor[0], actor[1], trigger, state, dest, payload, head, new))
        cause = f"audit:{item_id}:{seq + 1}"
        db.execute(_NOTICE, (cause, item_id, trigger, "市交通运输局", f"{trigger}通知", BODY, cause, when, when))
        db.execute("COMMIT")
        return dest

    def count(self, state: str) -> int:
        found: int = self.db.execute("SELECT count(*) FROM duban_item WHERE state = ?", (state,)).fetchone()[0]
        return found

    def close(self) -> None:
        self.db.close()
