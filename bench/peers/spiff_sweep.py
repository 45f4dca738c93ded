"""SpiffWorkflow 3.x as a deadline sweeper: one BPMN process with a timer per item, stored in SQLite.

What someone would build to chase reply deadlines with SpiffWorkflow: a small BPMN process per item
(start → intermediate timer catch event ``timeDuration P3M`` → script task ``escalate`` → end), the
workflow serialized with ``BpmnWorkflowSerializer`` (the whole JSON, spec included, as the serializer
writes it by default) into a row of a SQLite table, and a sweep that loads each workflow, calls
``refresh_waiting_tasks()`` and ``do_engine_steps()`` and saves it back. The table also keeps each
workflow's next timer instant (from ``waiting_events()``) in an indexed column, as a deployment would
to avoid loading every workflow (spiff-arena keeps such a ``future_task`` table); the idle sweep is
measured both ways: the index probe, and the scan that SpiffWorkflow on its own implies (load every
waiting workflow and ask it).

SpiffWorkflow's timers read ``datetime.now(timezone.utc)`` in
``SpiffWorkflow.bpmn.specs.event_definitions.timer``; :class:`FrozenClock` replaces that module's
``datetime`` so the sweep can be run "five months later", as duban's ``sweep(now)`` is. Nothing else
is patched.

What it does not do, where duban does: no audit row, no notice rendered or queued (the script task
only sets a variable), one timer per item (no reminders, no escalation ladder, no working days or
holidays), no exactly-once claim across processes (one process sweeps).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.specs.event_definitions import timer
from SpiffWorkflow.util.task import TaskState

__all__ = ["BPMN", "FrozenClock", "run"]

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="reply_clock_definitions"
                  targetNamespace="http://duban.example/bench">
  <bpmn:process id="reply_clock" isExecutable="true">
    <bpmn:startEvent id="assigned"><bpmn:outgoing>to_timer</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_timer" sourceRef="assigned" targetRef="reply_due"/>
    <bpmn:intermediateCatchEvent id="reply_due">
      <bpmn:incoming>to_timer</bpmn:incoming><bpmn:outgoing>to_escalate</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P3M"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="to_escalate" sourceRef="reply_due" targetRef="escalate"/>
    <bpmn:scriptTask id="escalate">
      <bpmn:incoming>to_escalate</bpmn:incoming><bpmn:outgoing>to_end</bpmn:outgoing>
      <bpmn:script>level = 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="escalate" targetRef="done"/>
    <bpmn:endEvent id="done"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
BATCH = 500  # workflows per transaction, as duban's sweep claims 500 deadlines at a time
SCHEMA = """
CREATE TABLE spiff_workflow (
    id INTEGER PRIMARY KEY,
    completed INTEGER NOT NULL DEFAULT 0,
    next_timer_at TEXT,
    state TEXT NOT NULL
);
CREATE INDEX ix_spiff_workflow_next ON spiff_workflow (next_timer_at);
"""


class FrozenClock(dt.datetime):
    """``datetime`` whose ``now()`` is :attr:`instant`: SpiffWorkflow's timer module reads the time here."""

    instant = dt.datetime(2026, 3, 20, 1, 0, tzinfo=dt.UTC)

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> Any:
        return cls.instant if tz is None else cls.instant.astimezone(tz)


def _connect(path: Path) -> sqlite3.Connection:
    # The same pragmas as duban's SQLite: WAL, synchronous NORMAL.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _next_timer(wf: BpmnWorkflow) -> str | None:
    """The workflow's earliest pending timer instant, as UTC ISO text (sortable in the index), or None."""
    values = [e.value for e in wf.waiting_events() if e.event_type.endswith("TimerEventDefinition")]
    if not values:
        return None
    return str(min(timer.TimerEventDefinition.get_datetime(v) for v in values).isoformat())


def _timer_fired(wf: BpmnWorkflow) -> bool:
    return any(t.task_spec.name == "reply_due" and t.state == TaskState.COMPLETED for t in wf.get_tasks())


def run(
    n: int, folder: str, start: dt.datetime, idle_at: dt.datetime, due_at: dt.datetime, probes: int
) -> dict[str, Any]:
    """Build *n* waiting workflows (timer reached at *start*), sweep them idle at *idle_at* (index probes
    and a full scan), then sweep them all due at *due_at*. Returns the figures."""
    timer.datetime = FrozenClock  # the clock injection described above
    parser = BpmnParser()
    parser.add_bpmn_xml(etree.fromstring(BPMN.encode()), filename="reply_clock.bpmn")
    spec = parser.get_spec("reply_clock")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
    path = Path(folder) / "spiff.db"
    conn = _connect(path)
    conn.executescript(SCHEMA)

    # Build: each item's workflow runs to its timer at *start*, then is saved (not part of the sweep figures).
    FrozenClock.instant = start
    t0 = time.perf_counter()
    rows: list[tuple[int, str | None, str]] = []
    for i in range(1, n + 1):
        wf = BpmnWorkflow(spec)
        wf.data["item_id"] = i
        wf.do_engine_steps()
        rows.append((i, _next_timer(wf), serializer.serialize_json(wf)))
        if len(rows) == BATCH or i == n:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO spiff_workflow (id, next_timer_at, state) VALUES (?, ?, ?)", rows)
            conn.execute("COMMIT")
            rows.clear()
    build_s = time.perf_counter() - t0
    state_bytes = conn.execute("SELECT avg(length(state)) FROM spiff_workflow").fetchone()[0]

    # Idle, with the index: which workflows have a timer due? (none)
    FrozenClock.instant = idle_at
    probe = "SELECT id, state FROM spiff_workflow WHERE next_timer_at <= ? ORDER BY next_timer_at LIMIT ?"
    idle_index_ms = []
    for _ in range(probes):
        t0 = time.perf_counter()
        found = conn.execute(probe, (idle_at.astimezone(dt.UTC).isoformat(), BATCH)).fetchall()
        idle_index_ms.append((time.perf_counter() - t0) * 1000)
        if found:
            raise RuntimeError(f"spiff: {len(found)} timers due at the idle instant")
    plan = [r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + probe, (idle_at.isoformat(), BATCH))]

    # Idle, as SpiffWorkflow alone has it: load every waiting workflow, refresh its timers, run engine steps.
    t0 = time.perf_counter()
    scanned = 0
    for _id, state in conn.execute("SELECT id, state FROM spiff_workflow WHERE completed = 0"):
        wf = serializer.deserialize_json(state)
        wf.refresh_waiting_tasks()
        wf.do_engine_steps()
        if _timer_fired(wf):
            raise RuntimeError("spiff: a timer fired at the idle instant")
        scanned += 1  # nothing changed, so nothing is saved back
    idle_scan_s = time.perf_counter() - t0

    # Loaded: every timer is due. Batches of due workflows by the index; each loaded, refreshed, stepped
    # and saved back with its new next timer, one transaction per batch.
    FrozenClock.instant = due_at
    key = due_at.astimezone(dt.UTC).isoformat()
    fired = batches = 0
    t0 = time.perf_counter()
    while True:
        conn.execute("BEGIN IMMEDIATE")
        due = conn.execute(probe, (key, BATCH)).fetchall()
        updates = []
        for wf_id, state in due:
            wf = serializer.deserialize_json(state)
            wf.refresh_waiting_tasks()
            wf.do_engine_steps()
            fired += _timer_fired(wf)
            updates.append((int(wf.is_completed()), _next_timer(wf), serializer.serialize_json(wf), wf_id))
        conn.executemany("UPDATE spiff_workflow SET completed = ?, next_timer_at = ?, state = ? WHERE id = ?", updates)
        conn.execute("COMMIT")
        if not due:
            break
        batches += 1
    loaded_s = time.perf_counter() - t0
    completed = conn.execute("SELECT count(*) FROM spiff_workflow WHERE completed = 1").fetchone()[0]
    conn.close()
    if fired != n or completed != n:
        raise RuntimeError(f"spiff: expected {n} timers fired and workflows completed, got {fired} / {completed}")
    return {
        "timers": n,
        "build_s": build_s,
        "built_per_s": n / build_s,
        "state_bytes": state_bytes,
        "idle_index_ms": statistics.median(idle_index_ms),
        "idle_index_ms_all": idle_index_ms,
        "idle_index_plan": plan,
        "idle_scan_s": idle_scan_s,
        "idle_scan_us_per_workflow": idle_scan_s / scanned * 1e6,
        "loaded_s": loaded_s,
        "loaded_batches": batches,
        "fired": fired,
        "fired_per_s": fired / loaded_s,
        "us_per_timer": loaded_s / fired * 1e6,
    }
