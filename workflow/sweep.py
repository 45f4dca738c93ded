"""One sweep: claim the deadline steps that fell due, act on them, each exactly once.

A pass claims due deadlines in bounded batches with one statement,

    UPDATE duban_deadline SET claimed_by = :me, claimed_until = :lease
    WHERE id IN (SELECT id … ORDER BY next_at LIMIT :n FOR UPDATE SKIP LOCKED) AND <still due>
    RETURNING …

committed at once, so the claim is a lease: a sweeper killed in the middle of a batch holds its
deadlines only until the lease runs out, then another takes them over. The batch is then acted on
in one transaction that advances each deadline's step counter with a compare-and-set on the claim
and the counter, so a step is produced by one sweeper only, even by a sweeper whose lease ran out
while it worked. Every escalation level becomes an audit row on its item and queues its notice; a
clock with ``on_due`` fires its trigger (deemed satisfied); reminders queue their notice. Items are
written in id order, so two sweepers never wait on each other in a cycle.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow import store
from workflow.audit import next_event, write_events
from workflow.beijing import beijing_date
from workflow.clocks import Step, climb, schedule
from workflow.deadlines import DueStep
from workflow.errors import WorkflowError
from workflow.model import Actor
from workflow.notify import Lookup, Outbox, queue_step, record_incidents

if TYPE_CHECKING:
    from workflow.engine import Engine

__all__ = ["SweepResult", "default_worker", "produce", "sweep"]

log = logging.getLogger("duban.sweep")
SYSTEM = Actor("system")
_D, _S, _ITEM = (store.TABLES[f"duban_{n}"] for n in ("deadline", "deadline_step", "item"))
KINDS = ("reminders", "escalations", "timeouts")
_INSERT_STEP = store.Prepared(sa.insert(_S), [c.key for c in _S.c if c.key != "id"])
# Under the lock _confirm took: the deadline's step counter moves on and the lease ends.
_FINISH = store.Prepared(
    sa.update(_D).where(_D.c.id == sa.bindparam("w_id")),
    ["next_step", "next_at", "level", "claimed_by", "claimed_until"],
)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one pass did: counts per kind (claimed, reminders, escalations, timeouts, notices,
    released, and the dispatch's sent / retry / failed / dead), how long it took, and who swept."""

    now: dt.datetime
    worker: str
    counts: dict[str, int] = field(default_factory=dict)
    duration: float = 0.0
    batches: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "worker": self.worker,
            "counts": dict(self.counts),
            "duration_ms": round(self.duration * 1000, 3),
            "batches": self.batches,
        }


def default_worker() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def sweep(
    engine: Engine,
    now: dt.datetime,
    *,
    batch: int,
    dispatch: bool,
    worker: str,
    lease: dt.timedelta,
    stop: Callable[[], bool] | None = None,
) -> SweepResult:
    """Claim and act on due steps batch by batch until none is left (or *stop* says so, checked
    between batches), then dispatch the outbox."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, not {batch}")
    started = time.perf_counter()
    counts = dict.fromkeys(("claimed", *KINDS, "notices", "released", "skipped"), 0)
    batches = 0
    lookup = Lookup()  # parties are read once per sweep; units and problems once per batch
    while not (stop and stop()):
        claimed = _claim(engine.db, now, worker, now + lease, batch)
        if not claimed:
            break
        batches += 1
        counts["claimed"] += len(claimed)
        for key, value in _act(engine, claimed, now, worker, lookup)[0].items():
            counts[key] += value
        if len(claimed) < batch:
            break
    if dispatch:
        while not (stop and stop()):
            sent = engine.dispatch(now)
            for key in ("sent", "retry", "failed", "dead"):
                counts[key] = counts.get(key, 0) + sent[key]
            if sent["claimed"] < 100:
                break
    result = SweepResult(now, worker, counts, time.perf_counter() - started, batches)
    log.info("sweep", extra={"sweep": result.to_dict()})
    return result


def _due(now: dt.datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        _D.c.state == "running",
        _D.c.next_at <= now,
        sa.or_(_D.c.claimed_until.is_(None), _D.c.claimed_until <= now),
    )


def _claim(db: sa.Engine, now: dt.datetime, worker: str, until: dt.datetime, limit: int) -> list[dict[str, Any]]:
    """Lease up to *limit* due deadlines to *worker*, in one statement, committed at once."""
    with db.begin() as conn:
        values = {"claimed_by": worker, "claimed_until": until}
        return store.claim(conn, _D, _due(now), (_D.c.next_at, _D.c.id), limit, values)


def produce(engine: Engine, now: dt.datetime, limit: int, worker: str) -> list[DueStep]:
    """Claim up to *limit* due deadlines and produce their steps with their notices, without acting
    on them (no escalation audit row, no timeout fired): the raw feed behind ``Engine.due``."""
    claimed = _claim(engine.db, now, worker, now + dt.timedelta(minutes=5), limit)
    return _act(engine, claimed, now, worker, Lookup(), act=False)[1] if claimed else []


def _act(
    engine: Engine, claimed: list[dict[str, Any]], now: dt.datetime, worker: str, lookup: Lookup, act: bool = True
) -> tuple[dict[str, int], list[DueStep]]:
    """Produce the claimed deadlines' due steps in one transaction, item by item in id order, with
    a handful of statements per batch whatever its size; *act* records escalations and fires
    timeouts as well. Returns the counts and the steps produced."""
    counts = dict.fromkeys((*KINDS, "notices", "released", "skipped"), 0)
    produced: list[DueStep] = []
    with engine.db.begin() as conn:
        # Which claims are still ours, locked now: a lease that ran out may have been taken over.
        ours = _confirm(conn, [r["id"] for r in claimed], worker)
        by_item: dict[int, list[dict[str, Any]]] = {}
        for row in sorted(claimed, key=lambda r: r["id"]):
            if ours.get(row["id"]) == row["next_step"]:
                by_item.setdefault(row["item_id"], []).append(row)
        items = _lock_items(conn, sorted(by_item))
        lookup.preload(conn, by_item)
        finished: list[dict[str, Any]] = []
        made: list[dict[str, Any]] = []
        outbox = Outbox()
        writes: list[tuple[int, int, dict[str, Any], list[dict[str, Any]]]] = []
        for item_id in sorted(by_item):
            events = _Events(items[item_id])
            defn, _, params = engine._version(events.item["definition_id"], conn)
            for row in by_item[item_id]:
                spec = defn.clocks.get(row["clock"])
                steps = schedule(spec, row["due"], engine.calendar)[row["next_step"] :] if spec else []
                ready = [s for s in steps if s.at <= now]
                later = steps[len(ready)].at if len(ready) < len(steps) else None
                level = max([row["level"], *(s.level for s in ready)])
                finished.append(
                    {"w_id": row["id"], "next_step": row["next_step"] + len(ready), "next_at": later, "level": level}
                )
                counts["released"] += not ready  # the clock changed since it was claimed: nothing is due
                rungs = row["round"] - 1 if spec and spec.climb_by_round and params[spec.climb_by_round] else 0
                skipped = _superseded(ready, row["due"], now)
                for i, s in enumerate(ready):
                    step = DueStep(
                        row["id"],
                        item_id,
                        row["clock"],
                        row["subject"],
                        s.kind,
                        s.level,
                        row["next_step"] + i,
                        s.at,
                        row["due"],
                        climb(s.notify, rungs),
                        s.template,
                        row["explanation"],
                    )
                    made.append(
                        {
                            "deadline_id": row["id"],
                            "step": step.step,
                            "kind": s.kind,
                            "level": s.level,
                            "scheduled_at": s.at,
                            "produced_at": now,
                            "skipped": skipped.get(i),
                        }
                    )
                    counts[s.kind + "s"] += 1
                    counts["skipped"] += i in skipped
                    produced.append(step)
                    _produce(engine, conn, events, step, now, lookup, outbox, act, notice=i not in skipped)
            writes += events.pending()
        _FINISH.execute_many(conn, [{**f, "claimed_by": None, "claimed_until": None} for f in finished])
        write_events(conn, writes)
        _INSERT_STEP.execute_many(conn, made)
        counts["notices"] = outbox.write(conn)
    return counts, produced


def _superseded(ready: list[Step], due: dt.date, now: dt.datetime) -> dict[int, str]:
    """Which of one clock's steps that fell due together send no notice, and why.

    After downtime (or an import of items in flight) a sweep finds several steps of a clock due at
    once. Each is still recorded (an escalation is an event on the item), but a recipient is told
    only the latest: a 督办函 of level 3 says all that levels 1 and 2 would, and two reminders
    rendered on the same day would say the same thing twice. A reminder that the due date has
    already passed by is not sent either: "15 days before" is false on the day after.
    """
    noticed = [i for i, s in enumerate(ready) if s.kind != "timeout"]
    skipped: dict[int, str] = {}
    if noticed:
        latest = ready[noticed[-1]]
        label = f"第{latest.level}级督办" if latest.kind == "escalation" else "提醒"
        skipped = dict.fromkeys(noticed[:-1], f"与{label}同时到期，只发送最新的通知")
    if noticed and ready[noticed[-1]].kind == "reminder" and beijing_date(now) > due:
        skipped[noticed[-1]] = f"提醒时点已过期限（{due.isoformat()}），不再发送提醒"
    return skipped


def _confirm(conn: sa.Connection, ids: list[int], worker: str) -> dict[int, int]:
    """The claimed deadlines *worker* still holds, with their step counters, locked for this
    transaction (the lease is stretched a little so that nobody takes them while it runs)."""
    statement = (
        sa.update(_D)
        .where(_D.c.id.in_(ids), _D.c.claimed_by == worker)
        .values(claimed_until=_D.c.claimed_until)
        .returning(_D.c.id, _D.c.next_step)
    )
    return {r.id: r.next_step for r in conn.execute(statement)}


class _Events:
    """An item's events in this batch, chained in memory and written with the batch."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item
        self.version = item["version"]
        self.audits: list[dict[str, Any]] = []
        self.new: dict[str, Any] = {}

    def add(self, trigger: str, data: dict[str, Any], at: dt.datetime) -> None:
        self.new, audit = next_event(self.item, SYSTEM, at, trigger, self.item["state"], data, {})
        self.item.update(self.new)
        self.audits.append(audit)

    def pending(self) -> list[tuple[int, int, dict[str, Any], list[dict[str, Any]]]]:
        """What is still to write, and forget it: (item, version before, new values, audit rows)."""
        found = [(self.item["id"], self.version, self.new, self.audits)] if self.audits else []
        self.version, self.audits = self.item["version"], []
        return found


def _lock_items(conn: sa.Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The batch's items, locked in id order on PostgreSQL (SQLite's writer already holds them all)."""
    query = sa.select(_ITEM).where(_ITEM.c.id.in_(ids)).order_by(_ITEM.c.id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {r["id"]: dict(r) for r in conn.execute(query).mappings()}


def _produce(
    engine: Engine,
    conn: sa.Connection,
    events: _Events,
    step: DueStep,
    now: dt.datetime,
    lookup: Lookup,
    outbox: Outbox,
    act: bool = True,
    notice: bool = True,
) -> None:
    """Act on one step (record an escalation, fire a timeout's trigger) and, unless *notice* is
    false, render its notice into *outbox*."""
    item = events.item
    at = max(now, item["updated_at"])
    defn = engine._version(item["definition_id"], conn)[0]
    if step.kind == "timeout":  # it has no notice of its own: the trigger it fires sends what it sends
        if not act:
            return
        trigger, data = defn.clocks[step.clock].on_due or ("", {})
        write_events(conn, events.pending())  # the fire reads and writes the item itself
        try:
            with conn.begin_nested():
                item.update(engine._fire_in(conn, item, trigger, SYSTEM, at, data, timeout=True))
        except WorkflowError as exc:  # the item moved on in a way the definition did not foresee
            record_incidents(conn, item["id"], [f"{step.clock}: on_due {trigger} failed: {exc}"], now)
        events.version = item["version"]
        lookup.forget(item["id"])
        return
    if act and step.kind == "escalation":
        event = {
            "clock": step.clock,
            "subject": step.subject,
            "level": step.level,
            "due": step.due.isoformat(),
            "scheduled_at": step.scheduled_at.isoformat(),
            "notify": list(step.notify),
        }
        events.add("escalate", event, at)
    if notice:
        queue_step(conn, engine.notices, engine.settings, item, defn, step, now, lookup, outbox)
