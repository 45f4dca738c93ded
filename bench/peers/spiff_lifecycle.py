"""A SpiffWorkflow peer for the lifecycle benchmark: the suggestion as a BPMN process, one workflow per item.

What someone would build with SpiffWorkflow 3.x instead of duban: the lifecycle drawn as BPMN
(``suggestion.bpmn`` beside this file: register → assign → a *handling* subprocess — a parallel
multi-instance subprocess per co-unit (accept, co-opinion) beside the lead unit's accept and contact,
joined before the reply, with a non-interrupting timer boundary event ``P3M`` for the statutory reply
deadline — → evaluate → close), the BPMN parsed once, and each item's workflow kept in one row of a
SQLite table as the JSON ``BpmnWorkflowSerializer`` writes (the whole of it, specs included, as the
serializer writes it by default: 21 KB after registration, 37 KB at the end, about 15 KB of it the
process and subprocess specs, which the serializer converts on every save and restores on every load).

Per submit: a ``BpmnWorkflow`` from the parsed specs, the submission (title, origin, proposers; checked
as the naive peer checks them) into its start task's data, ``do_engine_steps()``, serialize, and in one
transaction ``INSERT`` the row and its audit row.

Per fire, one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``) on one SQLite file in the run's folder
(``spiff.db``; ``journal_mode=WAL``, ``synchronous`` from ``durability``, ``foreign_keys=ON``, as duban):
``SELECT`` the item's row; a fire may not be dated before the item's last change; deserialize the
workflow; find the READY user tasks that serve the trigger (``accept`` is the lead unit's task or the
acting co-unit's instance of the multi-instance subprocess); check the actor against the task's data
(the office registers, assigns and closes; the lead unit accepts its task, records the contact and
replies; a co-unit accepts and gives its opinion in its own instance, the opinion only once the lead
unit has accepted; a proposing deputy evaluates); check the required fields and choices this lifecycle
sends (as the naive peer does); put the fire's data into the task's data; ``task.run()``;
``do_engine_steps()`` (which also re-evaluates the waiting timer); serialize; ``UPDATE`` the row with
the JSON, a short state name derived from the workflow's ready tasks (``closed`` once the workflow is
completed), the version and the instant; ``INSERT`` an audit row (item, instant, actor, trigger,
source and destination state, data as JSON). No READY task for the trigger raises :class:`NoReadyTask`;
an actor the task does not belong to raises ``PermissionError``; a missing field or a wrong choice
raises ``ValueError``. ``fire`` returns the new state's name, as the naive peer does.

What it does not do, where duban does (see also bench/README.md on the naive peer):

* **One clock, on the wall clock, in calendar months.** Only the reply deadline is modelled, as a
  ``timeDuration`` of ``P3M`` that SpiffWorkflow counts from ``datetime.now()`` when the handling
  subprocess starts, not from the fire's instant; no working days, no holidays, no roll past a rest
  day, no pause or extension. duban also keeps the objection window, a co-opinion clock per co-unit and
  the deputy-feedback clock. In the benchmark no timer fires (no time passes), so the escalation path
  (a script task setting ``overdue``) is never taken; the waiting timer is still carried, serialized
  and re-checked on every fire.
* **No notices, no outbox, no escalation ladder**: the escalation path is one script task; nobody is
  notified.
* **No hash chain, no party register, less validation**: plain audit rows; units are whatever ``assign``
  names; only the fields and choices this lifecycle uses are checked (as the naive peer does).
* **No compare-and-set**: ``version`` is bumped and the row updated by primary key; ``BEGIN IMMEDIATE``
  holds SQLite's write lock from the read to the commit, which is enough on one SQLite file.
* **One path**: the BPMN has no rejection, reassignment, extension, re-handling or withdrawal; record
  contact is one task of the lead unit before the reply.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser import BpmnParser  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG  # type: ignore[import-untyped]
from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]

__all__ = ["BPMN_PATH", "PROCESS", "NoReadyTask", "SpiffContestant", "open_spiff"]

BPMN_PATH = Path(__file__).with_name("suggestion.bpmn")
PROCESS = "suggestion"
SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}

Who = tuple[str, str | None]

SCHEMA = """
CREATE TABLE IF NOT EXISTS spiff_item (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    workflow TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_spiff_item_state ON spiff_item (state);
CREATE TABLE IF NOT EXISTS spiff_audit (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES spiff_item (id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    trigger TEXT NOT NULL,
    source TEXT,
    dest TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_spiff_audit_item ON spiff_audit (item_id);
"""


class NoReadyTask(LookupError):
    """The workflow has no READY user task for this trigger: the fire would do nothing."""


# ---- who may complete which user task (by the task's BPMN id), against the task's data ------------


def _office(task: Any, who: Who) -> bool:
    return who[0] == "office"


def _lead_unit(task: Any, who: Who) -> bool:
    return who[0] == "unit" and who[1] == task.data.get("lead_unit")


def _co_unit(task: Any, who: Who) -> bool:
    return who[0] == "unit" and who[1] == task.data.get("co_unit")


def _proposer(task: Any, who: Who) -> bool:
    return who[0] == "deputy" and who[1] in task.data.get("proposers", ())


#: trigger -> the BPMN ids of the user tasks that serve it
TASKS: dict[str, tuple[str, ...]] = {
    "register": ("register",),
    "assign": ("assign",),
    "accept": ("lead_accept", "co_accept"),
    "submit_co_opinion": ("co_opinion",),
    "record_contact": ("record_contact",),
    "reply": ("reply",),
    "evaluate": ("evaluate",),
    "close": ("close",),
}
#: user task's BPMN id -> who may complete it
MAY: dict[str, Callable[[Any, Who], bool]] = {
    "register": _office,
    "assign": _office,
    "lead_accept": _lead_unit,
    "co_accept": _co_unit,
    "co_opinion": _co_unit,
    "record_contact": _lead_unit,
    "reply": _lead_unit,
    "evaluate": _proposer,
    "close": _office,
}


# ---- the fields this lifecycle sends, checked as the naive peer checks them ------------------------


def _require(
    trigger: str, data: Mapping[str, Any], *names: str, choices: Mapping[str, tuple[str, ...]] | None = None
) -> None:
    for name in names:
        if data.get(name) in (None, "", []):
            raise ValueError(f"{trigger}: {name} is required")
    for name, allowed in (choices or {}).items():
        if name in data and data[name] not in allowed:
            raise ValueError(f"{trigger}: {name} must be one of {', '.join(allowed)}")


CONTACT_CHOICES = {"stage": ("before", "during", "after"), "method": ("visit", "meeting", "phone", "letter", "online")}


def _check(trigger: str, data: Mapping[str, Any], workflow: Any) -> None:
    if trigger == "assign":
        _require(trigger, data, "lead_unit")
        co_units = data.get("co_units", [])
        if not isinstance(co_units, list):
            raise ValueError("assign: co_units must be a list")
        if data["lead_unit"] in co_units:
            raise ValueError("assign: the lead unit cannot also be a co-unit")
    elif trigger == "submit_co_opinion":
        _require(trigger, data, "opinion")
        if workflow.get_next_task(spec_name="lead_accept", state=TaskState.COMPLETED) is None:
            raise ValueError("submit_co_opinion: the lead unit has not accepted the item yet")
    elif trigger == "record_contact":
        _require(trigger, data, "stage", "method", choices=CONTACT_CHOICES)
    elif trigger == "reply":
        _require(trigger, data, "category", "text", "signer", choices={"category": ("A", "B", "C", "D")})
        if data["category"] in ("B", "C") and not data.get("promises"):
            raise ValueError(f"reply: a category {data['category']} reply needs at least one promise")
    elif trigger == "evaluate":
        _require(trigger, data, "result", choices={"result": ("satisfied", "basically_satisfied", "unsatisfied")})


def _task_data(trigger: str, data: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    """What the fire puts into the completed task's data."""
    values: dict[str, Any] = _plain(dict(data))
    if trigger == "assign":
        values.setdefault("co_units", [])
        values["assigned_at"] = at.isoformat()
    elif trigger == "record_contact":
        values.setdefault("contacted_on", at.date().isoformat())
    elif trigger == "reply":
        values.setdefault("promises", [])
    return values


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


# ---- the item's state, read off the workflow -------------------------------------------------------


def _state(workflow: Any, ready: list[Any]) -> str:
    """A short state name, as duban's and the naive peer's: which user tasks are waiting."""
    if workflow.is_completed():
        return "closed"
    waiting = {t.task_spec.bpmn_id for t in ready}
    for task, state in (
        ("register", "submitted"),
        ("assign", "registered"),
        ("close", "evaluated"),
        ("evaluate", "replied"),
        ("lead_accept", "assigned"),
    ):
        if task in waiting:
            return state
    return "handling"


def _ready(workflow: Any) -> list[Any]:
    ready: list[Any] = workflow.get_tasks(state=TaskState.READY, manual=True)
    return ready


def _utc(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


class SpiffContestant:
    """The lifecycle driver's interface (bench.lifecycle.Contestant) over SpiffWorkflow and sqlite3."""

    def __init__(self, folder: Path, durability: str) -> None:
        if durability not in SYNCHRONOUS:
            raise ValueError(f"durability must be one of {', '.join(SYNCHRONOUS)}")
        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN_PATH))
        self.spec = parser.get_spec(PROCESS)  # parsed once, as an application would
        self.subprocess_specs = parser.get_subprocess_specs(PROCESS)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
        self.conn = sqlite3.connect(Path(folder) / "spiff.db", isolation_level=None)
        # The same pragmas as duban's SQLite.
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={SYNCHRONOUS[durability]}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(SCHEMA)

    def submit(self, at: dt.datetime, fields: Mapping[str, Any]) -> int:
        if not fields.get("title") or not fields.get("proposers"):
            raise ValueError("submit: title and proposers are required")
        if fields.get("origin") not in ("session", "between_sessions"):
            raise ValueError("submit: origin must be session or between_sessions")
        data = _plain(dict(fields))
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs)
        workflow.get_next_task(state=TaskState.READY).set_data(**data)  # the submission, into the start task
        workflow.do_engine_steps()
        state = _state(workflow, _ready(workflow))
        when = _utc(at)
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(
                "INSERT INTO spiff_item (kind, title, state, version, created_at, updated_at, workflow)"
                " VALUES ('suggestion', ?, ?, 1, ?, ?, ?)",
                (data["title"], state, when, when, self.serializer.serialize_json(workflow)),
            )
            item_id = cur.lastrowid
            assert item_id is not None
            conn.execute(
                "INSERT INTO spiff_audit (item_id, at, actor, trigger, source, dest, data)"
                " VALUES (?, ?, 'office', 'submit', NULL, ?, ?)",
                (item_id, when, state, json.dumps(data, ensure_ascii=False)),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return item_id

    def fire(self, item_id: int, trigger: str, actor: Who, at: dt.datetime, data: Mapping[str, Any]) -> str:
        names = TASKS.get(trigger)
        if names is None:
            raise ValueError(f"unknown trigger {trigger!r}")
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT state, version, updated_at, workflow FROM spiff_item WHERE id = ?", (item_id,)
            ).fetchone()
            if row is None:
                raise LookupError(f"no item {item_id}")
            source, version, updated_at, serialized = row
            if at < dt.datetime.fromisoformat(updated_at):
                raise ValueError(f"{at} is before the item's last change")
            workflow = self.serializer.deserialize_json(serialized)

            candidates = [t for t in _ready(workflow) if t.task_spec.bpmn_id in names]
            if not candidates:
                raise NoReadyTask(f"item {item_id} ({source}) has no ready task for {trigger}")
            mine = [t for t in candidates if MAY[t.task_spec.bpmn_id](t, actor)]
            if not mine:
                raise PermissionError(f"{actor} may not {trigger} item {item_id} in state {source}")
            task = mine[0]
            _check(trigger, data, workflow)

            task.set_data(**_task_data(trigger, data, at))
            task.run()
            workflow.do_engine_steps()
            dest = _state(workflow, _ready(workflow))

            when = _utc(at)
            role, party = actor
            conn.execute(
                "UPDATE spiff_item SET state = ?, version = ?, updated_at = ?, workflow = ? WHERE id = ?",
                (dest, version + 1, when, self.serializer.serialize_json(workflow), item_id),
            )
            conn.execute(
                "INSERT INTO spiff_audit (item_id, at, actor, trigger, source, dest, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    item_id,
                    when,
                    f"{role}:{party}" if party else role,
                    trigger,
                    source,
                    dest,
                    json.dumps(_plain(dict(data)), ensure_ascii=False),
                ),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return dest

    def count(self, state: str) -> int:
        (n,) = self.conn.execute("SELECT count(*) FROM spiff_item WHERE state = ?", (state,)).fetchone()
        return int(n)

    def close(self) -> None:
        self.conn.close()


def open_spiff(folder: Path, durability: str) -> SpiffContestant:
    """The opener for bench.lifecycle's CONTESTANTS: ``open_spiff(folder, durability)``."""
    return SpiffContestant(folder, durability)
