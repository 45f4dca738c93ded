"""Helpers for the race and crash tests: a kill switch for child processes, and the checks that say a
database is whole — every chain verifies, every item's version counts its audit rows, no deadline is open
in a stage its item has left, and replaying each item's audit log into a fresh database gives the same item.

The kill switch counts the statements a child sends to the database in its writing transactions
(SQLAlchemy's and duban's prepared ones alike; read-only connections are not counted) and every commit, and
SIGKILLs the child just before the one the parent chose: a kill point that is random (the parent draws it)
yet lands between any two statements of a transaction, right before its COMMIT included.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from conftest import SPAWN, T0, UNITS

from workflow import Actor, Engine
from workflow.channels import Settings
from workflow.clocks import ClockSpec
from workflow.definition import Definition, TransitionSpec
from workflow.model import ItemDetail
from workflow.store import TABLES, Prepared, reading
from workflow.testing import FakeClock

Report = Callable[[str], None]
_ITEM, _AUDIT, _DEADLINE, _PROMISE = (TABLES[f"duban_{n}"] for n in ("item", "audit", "deadline", "promise"))
OPEN = ("running", "paused")
KILLED = -signal.SIGKILL


# ---- the kill switch (runs in the child) ------------------------------------------------------


class _Countdown:
    """Counts statements and commits once armed; at the *kill_at*-th it SIGKILLs its own process."""

    def __init__(self, kill_at: int | None) -> None:
        self.kill_at = kill_at
        self.count = 0
        self.armed = False

    def tick(self, conn: Any) -> None:
        """A statement or commit on *conn*; reads (``store.reading``) are not counted: they change nothing."""
        if not self.armed or conn.get_execution_options().get("duban_read"):
            return
        self.count += 1
        if self.kill_at is not None and self.count >= self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def _install(countdown: _Countdown) -> None:
    """Every statement and commit of every engine in this process ticks *countdown* first."""
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", lambda conn, *_a, **_k: countdown.tick(conn))
    sa.event.listen(sa.engine.Engine, "commit", lambda conn: countdown.tick(conn))
    execute, execute_many = Prepared.execute, Prepared.execute_many

    def counted_execute(self: Prepared, conn: sa.Connection, params: dict[str, Any]) -> Any:
        countdown.tick(conn)
        return execute(self, conn, params)

    def counted_execute_many(self: Prepared, conn: sa.Connection, many: Any) -> int:
        countdown.tick(conn)
        return execute_many(self, conn, many)

    Prepared.execute = counted_execute  # type: ignore[method-assign]
    Prepared.execute_many = counted_execute_many  # type: ignore[method-assign]


def _child(target: Callable[..., None], args: tuple[Any, ...], log: str, kill_at: int | None) -> None:
    """The child's entry point: ``target(*args, ready, report)``; *ready* arms the switch, *report*
    appends a line to *log* at once (a write(2), so a line written before a kill is never lost)."""
    countdown = _Countdown(kill_at)
    _install(countdown)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    started = [0.0]

    def report(line: str) -> None:
        os.write(fd, f"{line}\n".encode())

    def ready() -> None:
        countdown.armed = True
        started[0] = time.monotonic()
        report("ready")

    try:
        target(*args, ready, report)
    except BaseException as exc:
        report(f"error {exc!r}".replace("\n", " "))
        os._exit(1)
    report(f"done {countdown.count} {time.monotonic() - started[0]:.3f}")
    os._exit(0)


class Run:
    """One child run: its exit code and the lines it reported."""

    def __init__(self, exitcode: int | None, lines: list[str]) -> None:
        self.exitcode = exitcode
        self.lines = lines
        self.killed = exitcode == KILLED

    def records(self, tag: str) -> list[list[str]]:
        return [line.split(" ")[1:] for line in self.lines if line.startswith(f"{tag} ")]

    @property
    def statements(self) -> int:
        """How many statements and commits a run that was not killed made after it was ready."""
        (done,) = self.records("done")
        return int(done[0])

    @property
    def seconds(self) -> float:
        """How long a run that was not killed worked after it was ready."""
        (done,) = self.records("done")
        return float(done[1])


def run_child(
    target: Callable[..., None],
    args: tuple[Any, ...],
    log: Path,
    *,
    kill_at: int | None = None,
    kill_after: float | None = None,
    timeout: float = 120,
) -> Run:
    """Run ``target(*args, ready, report)`` in a spawned process that SIGKILLs itself at its *kill_at*-th
    statement or commit after ``ready()``, or that the parent SIGKILLs *kill_after* seconds after it. A
    run that ends on its own is returned too (``killed`` false); an exception in the child fails."""
    log.unlink(missing_ok=True)
    log.touch()
    proc = SPAWN.Process(target=_child, args=(target, args, str(log), kill_at))
    proc.start()
    deadline = time.monotonic() + timeout
    if kill_after is not None:
        while proc.is_alive() and "ready" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.005)  # waiting for the child to start, not for the engine's time
        time.sleep(kill_after)
        if proc.is_alive():
            proc.kill()
    proc.join(max(1.0, deadline - time.monotonic()))
    if proc.is_alive():
        proc.kill()
        proc.join()
        raise AssertionError(f"child {target.__name__} did not finish in {timeout}s: {log.read_text()}")
    text = log.read_text()
    lines = text.split("\n")[:-1]  # a line cut by the kill (none are: each is one write) is dropped
    errors = [line for line in lines if line.startswith("error ")]
    assert not errors and proc.exitcode in (0, KILLED), f"child {target.__name__} failed: {proc.exitcode} {errors}"
    return Run(proc.exitcode, lines)


# ---- parties ------------------------------------------------------------------------------------

DEPUTIES = ("王芳", "李强", "陈静", "张伟")


def staff(eng: Engine) -> None:
    """The units (each with a chain of responsibility and mail addresses, so that notices are queued
    rather than turned into incidents) and four deputies with theirs."""
    for n, name in enumerate(UNITS):
        contacts = {r: f"{r}@unit{n}.gov.cn" for r in ("handler", "department_head", "principal_leader")}
        eng.add_party(
            "unit",
            name,
            principal_leader="主要领导",
            department_head="部门负责人",
            handler="承办人员",
            contacts=contacts,
        )
    for n, name in enumerate(DEPUTIES):
        eng.add_party("deputy", name, contacts={"address": f"deputy{n}@rd.example"})


# ---- what a whole database looks like -----------------------------------------------------------


def check_whole(eng: Engine, *, chains: bool = True) -> dict[str, int]:
    """Every audit chain verifies (unless *chains* is false: one query per item) and every item's version
    and audit head count its audit rows (a fire writes the item row and its audit row together or not at
    all). Returns the number of items and of audit rows."""
    if chains:
        assert eng.verify_audit() == []
    with reading(eng.db) as conn:
        rows = conn.execute(
            sa.select(_ITEM.c.id, _ITEM.c.version, _ITEM.c.audit_seq, sa.func.count(_AUDIT.c.id))
            .join(_AUDIT, _AUDIT.c.item_id == _ITEM.c.id, isouter=True)
            .group_by(_ITEM.c.id, _ITEM.c.version, _ITEM.c.audit_seq)
        ).all()
    torn = [tuple(r) for r in rows if not r[1] == r[2] == r[3]]
    assert torn == [], f"items whose version, audit_seq and audit rows differ: {torn[:10]}"
    return {"items": len(rows), "audit_rows": sum(r[3] for r in rows)}


def outbox_duplicates(eng: Engine) -> int:
    """Outbox rows beyond one per idempotency key (the key names the cause and the recipient)."""
    with reading(eng.db) as conn:
        total, keys = conn.execute(sa.text("SELECT count(*), count(DISTINCT key) FROM duban_notice")).one()
    return int(total - keys)


_UNIT_ROLES = {"assigned_unit", "lead_unit", "co_unit"}


def _closes_all(spec: ClockSpec, t: TransitionSpec, dest: str) -> bool:
    """Whether a fire of *t* landing in *dest* stops every open deadline of the clock *spec*: a stop not
    limited by ``when`` that, on a clock kept per unit or per record, names no one unit or record (a unit
    clock stopped by a non-unit, a record clock stopped by a trigger without the record's field)."""
    for m in spec.stop:
        if m.trigger != t.trigger or (m.to is not None and m.to != dest) or m.when:
            continue
        if spec.subject is None or (spec.each is None and spec.subject != "unit") or m.every:
            return True
        if spec.subject == "unit" and not _UNIT_ROLES & set(t.roles):
            return True
        if spec.subject != "unit" and spec.subject not in {f.name for f in t.fields}:
            return True
    return False


def open_states(defn: Definition) -> dict[str, set[str]]:
    """For each clock of *defn*, the states an item can be in while that clock may still be open: those
    reachable from a start trigger's destination without passing a stop that closes all of the clock's
    deadlines (a stop limited by ``when``, or one naming a single promise, problem or unit, does not), nor
    entering a final state (the engine stops every clock of an item that ends: withdrawn, rejected, voided)."""
    moves = [
        (t, source, dest or source)
        for t in defn.transitions
        for source in t.sources
        for dest in [t.dest, *(b.dest for b in t.branches)]
    ]
    out: dict[str, set[str]] = {}
    for name, spec in defn.clocks.items():
        seeds = {
            dest
            for t, _source, dest in moves
            for m in spec.start
            if m.trigger == t.trigger and (m.to is None or m.to == dest)
        }
        reach, todo = set(seeds), list(seeds)
        while todo:
            state = todo.pop()
            for t, source, dest in moves:
                ends = defn.states[dest].final
                if source == state and dest not in reach and not ends and not _closes_all(spec, t, dest):
                    reach.add(dest)
                    todo.append(dest)
        out[name] = reach
    return out


def stray_deadlines(eng: Engine) -> list[tuple[int, str, str, str]]:
    """Open (running or paused) deadlines on an item in a state where their clock cannot be open (see
    :func:`open_states`), or on an item in a final state: (item, state, clock, subject)."""
    rules = {kind: open_states(eng.definition(kind)) for kind in eng.kinds}
    finals = {kind: {s for s, spec in eng.definition(kind).states.items() if spec.final} for kind in eng.kinds}
    with reading(eng.db) as conn:
        found = conn.execute(
            sa.select(_ITEM.c.id, _ITEM.c.kind, _ITEM.c.state, _DEADLINE.c.clock, _DEADLINE.c.subject)
            .join(_DEADLINE, _DEADLINE.c.item_id == _ITEM.c.id)
            .where(_DEADLINE.c.state.in_(OPEN))
        ).all()
    return [
        (item, state, clock, subject)
        for item, kind, state, clock, subject in found
        if state in finals[kind] or state not in rules[kind].get(clock, set())
    ]


# ---- replaying the audit log ----------------------------------------------------------------------

_SKIP = {"id", "item_id", "claimed_by", "claimed_until"}
_SUBROWS = ("assignment", "promise", "problem", "contact", "vote", "deadline")
_ITEM_FIELDS = (
    "kind",
    "state",
    "title",
    "year",
    "round",
    "key_supervised",
    "data",
    "version",
    "audit_seq",
    "created_at",
    "updated_at",
)


def _promise_order(conn: sa.Connection) -> dict[int, tuple[int, int]]:
    """Promise id → (item, its position among the item's promises): ids are the database's own."""
    rows = conn.execute(sa.select(_PROMISE.c.id, _PROMISE.c.item_id).order_by(_PROMISE.c.id)).all()
    seen: Counter[int] = Counter()
    out = {}
    for pid, item in rows:
        out[pid] = (item, seen[item])
        seen[item] += 1
    return out


def _state_of(conn: sa.Connection, item: int, promises: dict[int, tuple[int, int]]) -> dict[str, Any]:
    """Everything recorded about *item*, with database ids left out or replaced by positions."""

    def subject(value: str) -> str:
        kind, _, key = value.partition(":")
        if kind == "promise" and key.isdigit() and int(key) in promises:
            return f"promise:#{promises[int(key)][1]}"
        return value

    row = conn.execute(sa.select(_ITEM).where(_ITEM.c.id == item)).mappings().one()
    out: dict[str, Any] = {f: row[f] for f in _ITEM_FIELDS}
    for name in _SUBROWS:
        t = TABLES[f"duban_{name}"]
        found = []
        for r in conn.execute(sa.select(t).where(t.c.item_id == item)).mappings():
            values = {k: v for k, v in r.items() if k not in _SKIP}
            if "subject" in values:
                values["subject"] = subject(values["subject"])
            found.append(values)
        out[name] = sorted(found, key=repr)
    audit = conn.execute(sa.select(_AUDIT).where(_AUDIT.c.item_id == item).order_by(_AUDIT.c.seq)).mappings().all()
    positions: dict[str, dict[str, int]] = {}  # the rows an audit row's effects name, by position in the item
    for r in audit:
        for table, written in r["effects"].items():
            for row_id in written:
                positions.setdefault(table, {}).setdefault(row_id, len(positions.get(table, {})))
    out["effects"] = [
        {t: {positions[t][k]: v for k, v in w.items()} for t, w in r["effects"].items() if t != "duban_item"}
        for r in audit
    ]
    out["effect_ids"] = [{t: sorted(w) for t, w in r["effects"].items()} for r in audit]  # not compared
    out["audit"] = [
        (
            r["seq"],
            r["at"],
            r["actor_role"],
            r["actor_party"],
            r["trigger"],
            r["source"],
            r["dest"],
            _data(r["data"], promises),
        )
        for r in audit
    ]
    notices = conn.execute(sa.select(TABLES["duban_notice"]).where(TABLES["duban_notice"].c.item_id == item)).mappings()
    out["notices"] = sorted(
        (n["key"].replace(f"audit:{item}:", "audit:#:"), n["type"], n["recipient"], n["address"], n["subject"])
        for n in notices
    )
    incidents = conn.execute(
        sa.select(TABLES["duban_incident"].c.kind).where(TABLES["duban_incident"].c.item_id == item)
    ).scalars()
    out["incidents"] = sorted(incidents)
    return out


def _data(data: dict[str, Any], promises: dict[int, tuple[int, int]]) -> dict[str, Any]:
    promise = data.get("promise")
    if isinstance(promise, int) and promise in promises:
        return {**data, "promise": f"#{promises[promise][1]}"}
    return data


def replay(eng: Engine, fresh_url: str, *, settings: Settings | None = None) -> tuple[int, list[str]]:
    """Re-fire every audit row of every item of *eng* (submit, then each trigger with its actor, instant
    and data, in the order they were written) into a fresh database with the same parties, and compare
    each item there with the original: state, version, audit rows, assignments, promises, problems,
    contacts, votes, deadlines (every one, open or closed), notices and incidents. Returns the number
    of rows replayed and one line per difference (a replay that is refused is a difference too)."""
    fresh = Engine(fresh_url, settings=settings or eng.settings)
    columns = ("principal_leader", "department_head", "handler", "case_leader", "contacts")
    for party in eng.parties():
        fresh.add_party(party["role"], party["name"], **{c: party[c] for c in columns})
    with reading(eng.db) as conn:
        rows = conn.execute(sa.select(_AUDIT).order_by(_AUDIT.c.id)).mappings().all()
        kinds = dict(conn.execute(sa.select(_ITEM.c.id, _ITEM.c.kind)).all())
        promises = _promise_order(conn)
    ids: dict[int, int] = {}
    renamed: set[int] = set()  # items whose log names a promise by an id the fresh database gave another
    problems: list[str] = []
    for row in rows:
        item, actor = row["item_id"], Actor(row["actor_role"], row["actor_party"])
        data = dict(row["data"])
        if row["seq"] > 1 and item not in ids:
            continue  # its replay was refused already
        try:
            if row["seq"] == 1:
                ids[item] = fresh.submit(kinds[item], actor=actor, at=row["at"], data=data).id
                continue
            if isinstance(data.get("promise"), int) and data["promise"] in promises:
                # a promise is named by its id, which is the database's own: the same promise there
                old_item, position = promises[data["promise"]]
                there = sorted(p["id"] for p in fresh.get(ids[old_item]).promises)
                if position < len(there):
                    if there[position] != data["promise"]:
                        renamed.add(item)
                    data["promise"] = there[position]
            fresh.fire(ids[item], row["trigger"], actor=actor, at=row["at"], data=data)
        except Exception as exc:
            problems.append(f"item {item} row {row['seq']} {row['trigger']}: replay refused: {exc!r}")
            del ids[item]
    with reading(eng.db) as a, reading(fresh.db) as b:
        theirs = _promise_order(b)
        for item, new in sorted(ids.items()):
            want, got = _state_of(a, item, promises), _state_of(b, new, theirs)
            same_ids = new == item and item not in renamed and want["effect_ids"] == got["effect_ids"]
            if same_ids:  # the same ids: the chains are identical to the hash
                heads = [c.execute(sa.select(_ITEM.c.audit_head).where(_ITEM.c.id == item)).scalar() for c in (a, b)]
                if heads[0] != heads[1]:
                    problems.append(f"item {item}: audit head differs")
            for key in want.keys() - {"effect_ids"}:
                if want[key] != got[key]:
                    problems.append(f"item {item}: {key} differs:\n  log:    {got[key]}\n  stored: {want[key]}")
    fresh.close()
    return len(rows), problems


# ---- the children of the crash tests (here, so that a spawned child imports little) -------------------

LEAD, CO = UNITS[0], UNITS[2]


def next_step(d: ItemDetail) -> tuple[str, Actor, dict[str, Any]] | None:
    """The next fire of a suggestion's lifecycle from wherever it stands: assigned to a lead and a
    co-unit, replied (B, with a promise), rated unsatisfied, replied again, rated, closed, promise checked."""
    lead, co, office = Actor("unit", LEAD), Actor("unit", CO), Actor("office")
    own = {a["unit"]: a for a in d.assignments if a["active"]}
    if d.state == "registered":
        return "assign", office, {"lead_unit": LEAD, "co_units": [CO]}
    if d.state == "assigned":
        return "accept", co if own[CO]["state"] == "assigned" else lead, {}
    if d.state == "handling" and own[CO]["state"] != "opinion_given":
        return "submit_co_opinion", co, {"opinion": "同意"}
    if d.state == "handling" and not d.contacts:
        return "record_contact", lead, {"stage": "during", "method": "visit"}
    if d.state in ("handling", "rehandling"):
        by = (d.updated_at + dt.timedelta(days=200)).date().isoformat()
        more = {"category": "B", "promises": [{"what": "年内完成", "by": by}]} if d.round == 0 else {"category": "A"}
        return "reply", lead, {"text": "已办理", "signer": "张局长", **more}
    if d.state == "replied":
        return "evaluate", Actor("deputy", "王芳"), {"result": "unsatisfied" if d.round == 0 else "satisfied"}
    if d.state == "evaluated":
        return "close", office, {}
    open_promises = [p["id"] for p in d.promises if p["status"] == "open"]
    if d.state == "closed" and open_promises:
        return "verify_commitment", office, {"promise": open_promises[0], "outcome": "kept"}
    return None


def unfinished(eng: Engine) -> list[int]:
    """Suggestions whose lifecycle above is not over: not closed, or closed with a promise unchecked."""
    open_promise = sa.select(_PROMISE.c.item_id).where(_PROMISE.c.status == "open")
    query = (
        sa.select(_ITEM.c.id)
        .where(_ITEM.c.kind == "suggestion", sa.or_(_ITEM.c.state != "closed", _ITEM.c.id.in_(open_promise)))
        .order_by(_ITEM.c.id)
    )
    with reading(eng.db) as conn:
        return list(conn.execute(query).scalars())


def fire_forever(url: str, seed: int, ready: Callable[[], None], report: Report) -> None:
    """Drive suggestions through their lifecycle until killed, three at a time, taking up those a killed
    run left half-way; register them in one batch (fire_many). Reports each fire once it has committed."""
    clock = FakeClock(T0)
    eng = Engine(url, clock=clock, migrate=False)
    rng = random.Random(seed)
    joint: dict[str, Any] = {"proposers": ["王芳", "李强"], "lead_deputy": "王芳"}
    alone: dict[str, Any] = {"proposers": ["王芳"]}
    ready()
    while True:
        clock.advance(hours=rng.randint(1, 48))
        for _ in range(3 - len(unfinished(eng))):
            extra = rng.choice([alone, joint])
            item = eng.submit("suggestion", title="关于改善公交线路的建议", origin="session", **extra)
            report(f"fire {item.id} {item.version} submit")
        todo = [eng.get(i) for i in unfinished(eng)]
        waiting = [d.id for d in todo if d.state == "submitted"]
        if waiting:
            for item in eng.fire_many("register", waiting):
                report(f"fire {item.id} {item.version} register")
        for d in todo:
            step = next_step(eng.get(d.id))
            if step is not None:
                trigger, actor, data = step
                item = eng.fire(d.id, trigger, actor=actor, data=data)
                report(f"fire {item.id} {item.version} {trigger}")


def import_sheet(url: str, path: str, ready: Callable[[], None], report: Report) -> None:
    """``duban --db URL import PATH``, as from the shell."""
    from workflow.cli import main

    Engine(url, migrate=False).close()  # loads what every engine shares: the kill points fall in the import
    ready()
    report(f"exit {main(['--db', url, 'import', path])}")


def sweep_until_done(
    url: str, settings: Settings, worker: str, now: str, lease: float, ready: Callable[[], None], report: Report
) -> None:
    eng = Engine(url, migrate=False, settings=settings)
    ready()
    when = dt.datetime.fromisoformat(now)
    while eng.sweep(when, batch=10, dispatch=False, worker=worker, lease=lease).counts["claimed"]:
        pass


def dispatch_until_done(url: str, settings: Settings, now: str, ready: Callable[[], None], report: Report) -> None:
    eng = Engine(url, migrate=False, settings=settings)
    ready()
    when = dt.datetime.fromisoformat(now)
    while eng.dispatch(when, limit=3)["claimed"]:
        pass
