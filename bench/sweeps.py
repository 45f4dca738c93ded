"""The sweeps workload: what a daemon's pass costs when nothing is due, and how fast it works off a backlog.

**Idle.** 1,000,000 open items (quick: 20,000), none due: repeated ``Engine.sweep(now, dispatch=False)``
in a fresh process, each timed; min / median / max over every timed sweep of every run (the first sweep of
a process is reported apart, as ``cold_ms``). The claim statement of a sweep is captured as it is sent to
the database and explained (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN``): the plan must search
the index on ``duban_deadline (state, next_at)``, not scan the table.

**Loaded.** N overdue items (full 20,000, quick 500), each assigned at START to a lead and a co-unit (three
clocks: objection window, co-opinion, reply), swept five months later with ``dispatch=False`` until nothing
is claimed: every reminder and escalation level each clock has earned, each escalation an audit row, every
notice rendered and queued. escalations/s = escalations / wall time. On SQLite in a fresh process per run;
on PostgreSQL (``DUBAN_BENCH_PG``, or a throw-away cluster from ``.ci/postgres.sh`` when its binaries are
there) with 1, 2 and 4 daemons, separate processes with distinct worker ids, each sweeping until it claims
nothing. Then exactly-once is checked: one ``duban_deadline_step`` row per (deadline, step), one notice per
key, one ``escalate`` audit row per escalation, totals equal to what the daemons reported and to one daemon.

**Peers,** same number of timers as duban's due steps (capped, the N used is reported): SpiffWorkflow
(``bench/peers/spiff_sweep.py``) and APScheduler with a SQLAlchemy job store (``bench/peers/apscheduler_jobs.py``).

Populations are built with ``workflow.testing.clone_items`` from one item taken through ``submit``,
``register`` and ``assign``; the idle million is 1,000 such clones duplicated in SQL (items, assignments and
deadlines: the rows a sweep reads), and cached between runs by duban's source digest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench.common import spread, version

__all__ = ["DEFAULT_N", "DEFAULT_REPEAT", "IDLE_N", "markdown", "plans", "table", "workload"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_N = {"full": 100_000, "quick": 500}  # overdue items in the loaded sweep
IDLE_N = {"full": 1_000_000, "quick": 20_000}  # open items in the idle sweep
DEFAULT_REPEAT = {"full": 3, "quick": 1}
PG_REPEAT = {"full": 1, "quick": 1}  # loaded runs per daemon count on PostgreSQL
PG_N = {"full": 10_000, "quick": 500}  # overdue items on PostgreSQL, unless --sweeps-n is given
IDLE_SWEEPS = 30  # timed idle sweeps per run
CLONED = 1_000  # idle: real clones; the rest is duplicated in SQL
DAEMONS = (1, 2, 4)
#: timers per peer run: duban's due steps in the loaded run, at most this many.
PEER_CAP = {"spiff": {"full": 10_000, "quick": 2_000}, "apscheduler": {"full": 30_000, "quick": 5_000}}
PROBES = 30  # index probes per peer idle figure
START = dt.datetime(2026, 3, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai: the items are assigned
IDLE_AT = START + dt.timedelta(days=1)  # nothing is due yet
DUE_AT = START + dt.timedelta(days=150)  # every reminder and escalation level of every clock is due
LEAD, CO_UNIT = "市交通运输局", "市民政局"
ROLES = ("handler", "department_head", "principal_leader", "case_leader")
TARGETS = {"idle_ms": 50.0, "escalations_per_s": 10_000.0}
CACHE = Path(tempfile.gettempdir()) / "duban-bench-cache"
PACKAGES = ("SpiffWorkflow", "APScheduler", "psycopg")


# ---- populations --------------------------------------------------------------------------------


def _open(url: str, **kw: Any) -> Any:
    from workflow import Engine
    from workflow.channels import Settings

    # Every role has an address and the office has one (for the supervising leader), so every
    # escalation renders and queues its notices instead of recording a missing-address incident.
    settings = Settings(mail_from="duban@rd.example", office_address="office@rd.example")
    return Engine(url, clock=lambda: START, settings=settings, **kw)


def _template(eng: Any) -> int:
    """Parties with addresses, and one suggestion assigned at START to a lead and a co-unit."""
    for unit in (LEAD, CO_UNIT):
        contacts = {role: f"{role}@{abs(hash(unit)) % 1000}.example" for role in ROLES}
        eng.add_party(
            "unit",
            unit,
            principal_leader="主要领导",
            department_head="部门负责人",
            handler="承办人员",
            case_leader="包案领导",
            contacts=contacts,
        )
    eng.add_party("deputy", "王芳", contacts={"address": "wangfang@rd.example"})
    item = eng.submit("suggestion", title="关于增加通勤班车密度的建议", origin="session", proposers=["王芳"])
    eng.fire(item.id, "register")
    eng.fire(item.id, "assign", lead_unit=LEAD, co_units=[CO_UNIT])
    return int(item.id)


def _duplicate(db: Any, target: int) -> None:
    """Copy items (with their assignments and deadlines) in SQL, doubling each round, until *target*.

    Item ids stay contiguous from 1, so a round copies items 1..k to count+1..count+k."""
    import sqlalchemy as sa

    from workflow.store import TABLES

    tables = {name: TABLES[f"duban_{name}"] for name in ("item", "assignment", "deadline")}
    with db.begin() as conn:
        lo, hi, count = conn.execute(sa.text("SELECT min(id), max(id), count(*) FROM duban_item")).one()
        if (lo, hi) != (1, count):
            raise RuntimeError(f"item ids are not 1..{count}: {lo}..{hi}")
    while count < target:
        k = min(count, target - count)
        with db.begin() as conn:
            for name, table in tables.items():
                # New ids start past the current largest, computed before the copy inserts anything.
                offset = count if name == "item" else conn.execute(sa.select(sa.func.max(table.c.id))).scalar_one()
                cols = [c.name for c in table.c if c.name != "id"]
                shifted = [f"{c} + :items" if c == "item_id" else c for c in cols]
                where = "id <= :k" if name == "item" else "item_id <= :k"
                conn.execute(
                    sa.text(
                        f"INSERT INTO {table.name} (id, {', '.join(cols)}) "
                        f"SELECT id + :offset, {', '.join(shifted)} FROM {table.name} WHERE {where}"
                    ),
                    {"items": count, "k": k, "offset": offset},
                )
        count += k
    if db.dialect.name == "postgresql":  # the copies took ids by hand: move the sequences past them
        with db.begin() as conn:
            for table in tables.values():
                conn.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), max(id)) FROM {table.name}")
                )
            conn.execute(sa.text("ANALYZE"))  # as autovacuum would soon: the planner needs row counts


def build(url: str, items: int, idle: bool) -> dict[str, Any]:
    """Create the population at *url* (an empty database): the template item and its clones."""
    from workflow.testing import clone_items

    began = time.perf_counter()
    eng = _open(url)
    template = _template(eng)
    clone_items(eng, template, (min(items, CLONED) if idle else items) - 1)
    cloned_s = time.perf_counter() - began
    if idle and items > CLONED:
        _duplicate(eng.db, items)
    counts = _counts(eng.db)
    eng.close()
    return {"items": items, "build_s": time.perf_counter() - began, "clone_s": cloned_s, **counts}


def _counts(db: Any) -> dict[str, int]:
    import sqlalchemy as sa

    with db.connect() as conn:
        return {
            name: int(conn.execute(sa.text(f"SELECT count(*) FROM duban_{name}")).scalar_one())
            for name in ("item", "deadline", "assignment", "audit")
        }


def _cached(kind: str, items: int, digest: str) -> Path:
    """The SQLite population file for (*kind*, *items*) of this source, built in a fresh process if missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"sweeps-{kind}-{items}-{digest[:16]}.db"
    for stale in CACHE.glob(f"sweeps-{kind}-*.db"):  # older source: no longer used
        if stale != path and digest[:16] not in stale.name:
            stale.unlink(missing_ok=True)
    if path.exists():
        return path
    print(f"sweeps: building {items:,} {kind} items in {path} ...", end=" ", file=sys.stderr, flush=True)
    partial = path.with_suffix(".partial")
    for leftover in glob.glob(f"{partial}*"):
        os.unlink(leftover)
    info = _fresh(build, f"sqlite:///{partial}", items, kind == "idle")
    import sqlite3

    with sqlite3.connect(partial) as conn:  # one self-contained file: fold the WAL back in
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    os.replace(partial, path)
    print(f"{info['build_s']:.0f} s ({info['deadline']:,} deadlines)", file=sys.stderr, flush=True)
    return path


# ---- capturing and explaining the claim statement -------------------------------------------------


class _Capture:
    """Records the statements a sweep sends, at the driver, whichever way duban sends them."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.statements: list[tuple[str, Any]] = []
        self.on = False

    def __enter__(self) -> _Capture:
        from sqlalchemy import event

        def trace(sql: str) -> None:
            if self.on:
                self.statements.append((sql, None))

        def checkout(dbapi: Any, _record: Any, _proxy: Any) -> None:
            if self.db.dialect.name == "sqlite":  # the expanded SQL, with the values in it
                dbapi.set_trace_callback(trace)
            else:
                dbapi.cursor_factory = _tracing_cursor(self)

        self._checkout = checkout
        self.db.dispose()  # every connection from now on is traced
        event.listen(self.db, "checkout", checkout)
        self.on = True
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event

        self.on = False
        event.remove(self.db, "checkout", self._checkout)
        self.db.dispose()

    def claim(self) -> tuple[str, Any] | None:
        """The first statement that reads duban_deadline: the claim."""
        for sql, params in self.statements:
            if "duban_deadline" in sql and "duban_deadline_step" not in sql:
                return sql, params
        return None


def _tracing_cursor(capture: _Capture) -> Any:
    import psycopg

    class Tracing(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kw: Any) -> Any:
            if capture.on:
                capture.statements.append((str(query), params))
            return super().execute(query, params, **kw)

    return Tracing


def explain(db: Any, sql: str, params: Any) -> list[str]:
    """The plan of *sql* (not run): SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN``."""
    raw = db.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        if db.dialect.name == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + sql)
            rows = cur.fetchall()
            depth = {0: 0}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * (depth[node] - 1) + detail)
            return lines
        cur.execute("EXPLAIN " + sql, params)
        lines = [r[0] for r in cur.fetchall()]
        raw.driver_connection.rollback()
        return lines
    finally:
        raw.close()


def uses_index(plan: Sequence[str], dialect: str) -> bool:
    """The deadline table is reached through an index (ix_duban_deadline_next), never scanned whole."""
    text = "\n".join(plan)
    if dialect == "sqlite":
        return "ix_duban_deadline_next" in text and not any(
            line.strip().startswith("SCAN duban_deadline") for line in plan
        )
    return "ix_duban_deadline_next" in text and "Seq Scan on duban_deadline" not in text


# ---- runs (each in a fresh process) ----------------------------------------------------------------


def run_idle(url: str, sweeps: int) -> dict[str, Any]:
    """Repeated sweeps at IDLE_AT over a population where nothing is due; then one sweep's claim, explained."""
    eng = _open(url, migrate=False)
    timed: list[float] = []
    t0 = time.perf_counter()
    first = eng.sweep(IDLE_AT, dispatch=False, worker="bench-idle")
    cold_ms = (time.perf_counter() - t0) * 1000
    for _ in range(sweeps):
        t0 = time.perf_counter()
        result = eng.sweep(IDLE_AT, dispatch=False, worker="bench-idle")
        timed.append((time.perf_counter() - t0) * 1000)
        if result.counts.get("claimed"):
            raise RuntimeError(f"the idle sweep claimed {result.counts['claimed']} deadlines")
    with _Capture(eng.db) as capture:
        eng.sweep(IDLE_AT, dispatch=False, worker="bench-idle")
    claim = capture.claim()
    if claim is None:
        raise RuntimeError("no statement of the sweep read duban_deadline")
    plan = explain(eng.db, *claim)
    dialect = eng.db.dialect.name
    eng.close()
    return {
        "cold_ms": cold_ms,
        "first_counts": dict(first.counts),
        "sweep_ms": timed,
        "median_ms": statistics.median(timed),
        "statements_per_sweep": len(capture.statements),
        "statements": [s for s, _ in capture.statements],
        "claim_sql": claim[0],
        "plan": plan,
        "plan_uses_index": uses_index(plan, dialect),
    }


def _steps_query() -> str:
    return (
        "SELECT"
        " (SELECT count(*) FROM duban_deadline_step),"
        " (SELECT count(*) FROM (SELECT deadline_id, step FROM duban_deadline_step"
        "   GROUP BY deadline_id, step HAVING count(*) > 1) AS d),"
        " (SELECT count(*) FROM duban_notice WHERE cause LIKE 'deadline:%'),"
        " (SELECT count(DISTINCT key) FROM duban_notice WHERE cause LIKE 'deadline:%'),"
        " (SELECT count(*) FROM duban_audit WHERE \"trigger\" = 'escalate'),"
        " (SELECT count(DISTINCT CAST(item_id AS TEXT) || ':' || CAST(data AS TEXT)) FROM duban_audit"
        "   WHERE \"trigger\" = 'escalate'),"
        " (SELECT count(*) FROM duban_deadline WHERE state = 'running' AND next_at <= :due),"
        " (SELECT count(*) FROM duban_incident)"
    )


def check(db: Any, reported: dict[str, int]) -> dict[str, Any]:
    """Exactly-once, from the database: rows per (deadline, step), notice keys, escalation audit rows,
    against what the sweepers reported; and nothing due left."""
    import sqlalchemy as sa

    from workflow.store import UTCDateTime

    with db.connect() as conn:
        query = sa.text(_steps_query()).bindparams(sa.bindparam("due", type_=UTCDateTime()))
        row = conn.execute(query, {"due": DUE_AT}).one()
        instants = sorted(
            {
                r[0].isoformat() if isinstance(r[0], dt.datetime) else str(r[0])
                for r in conn.execute(
                    sa.text(
                        "SELECT scheduled_at FROM duban_deadline_step WHERE deadline_id IN "
                        "(SELECT id FROM duban_deadline WHERE item_id = 1)"
                    )
                )
            }
        )
    steps, dup_steps, notices, keys, audits, distinct_audits, left, incidents = (int(v) for v in row)
    produced = reported.get("reminders", 0) + reported.get("escalations", 0)
    return {
        # Each (deadline, step) produced once, each notice key queued once, each escalation audited once,
        # as many steps and escalations as the sweepers said they produced, nothing due left, no incident.
        "exactly_once": dup_steps == 0
        and notices == keys
        and audits == distinct_audits
        and steps == produced
        and audits == reported.get("escalations", 0)
        and left == 0
        and incidents == 0,
        # The sweepers' own notice count against the rows (a wrong count is a reporting bug, not a duplicate).
        "notices_reported_match": notices == reported.get("notices", 0),
        "step_rows": steps,
        "duplicate_steps": dup_steps,
        "notice_rows": notices,
        "distinct_notice_keys": keys,
        "escalate_audit_rows": audits,
        "distinct_escalate_audit_rows": distinct_audits,
        "due_left": left,
        "incidents": incidents,
        "step_instants": instants,
    }


def run_loaded(source: str, n: int) -> dict[str, Any]:
    """Copy the cached population of *n* items into a fresh folder and sweep it at DUE_AT until nothing is
    claimed; return the counts, rates and checks."""
    with tempfile.TemporaryDirectory(prefix="duban-bench-sweeps-") as tmp:
        path = Path(tmp) / "loaded.db"
        shutil.copyfile(source, path)
        eng = _open(f"sqlite:///{path}", migrate=False)
        totals: Counter[str] = Counter()
        calls = batches = 0
        t0 = time.perf_counter()
        while True:
            result = eng.sweep(DUE_AT, dispatch=False, worker="bench-loaded")
            calls += 1
            batches += result.batches
            totals.update(result.counts)
            if not result.counts.get("claimed"):
                break
        wall = time.perf_counter() - t0
        checked = check(eng.db, dict(totals))
        eng.close()
    rates = _rates(n, dict(totals), checked["notice_rows"], wall)
    return rates | {"sweep_calls": calls, "batches": batches, "check": checked}


def _rates(n: int, counts: dict[str, int], notices: int, wall: float) -> dict[str, Any]:
    """Rates over *wall*; notices are counted in the database (the rows the sweep queued)."""
    steps = counts.get("reminders", 0) + counts.get("escalations", 0)
    return {
        "items": n,
        "counts": counts,
        "wall_s": wall,
        "escalations_per_s": counts.get("escalations", 0) / wall,
        "steps_per_s": steps / wall,
        "notices": notices,
        "notices_per_s": notices / wall,
        "items_per_s": n / wall,
    }


def _daemon(url: str, worker: str, barrier: Any, results: Any) -> None:
    """One daemon process: open the engine, wait for the others, sweep until nothing is claimed."""
    try:
        eng = _open(url, migrate=False)
        barrier.wait()
        totals: Counter[str] = Counter()
        calls = 0
        cpu = time.process_time()  # this process's CPU time: far below the wall means it waited
        began = time.monotonic()  # CLOCK_MONOTONIC: comparable between processes on one machine
        while True:
            result = eng.sweep(DUE_AT, dispatch=False, worker=worker)
            calls += 1
            totals.update(result.counts)
            if not result.counts.get("claimed"):
                break
        ended = time.monotonic()
        cpu = time.process_time() - cpu
        eng.close()
        results.put(
            {"worker": worker, "began": began, "ended": ended, "cpu_s": cpu, "counts": dict(totals), "calls": calls}
        )
    except BaseException as exc:
        barrier.abort()
        results.put({"worker": worker, "error": repr(exc)})


def run_daemons(url: str, n: int, daemons: int) -> dict[str, Any]:
    """*daemons* processes sweeping one PostgreSQL database; wall = first start to last end."""
    import sqlalchemy as sa

    ctx = get_context("spawn")
    barrier = ctx.Barrier(daemons + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=_daemon, args=(url, f"daemon-{i + 1}", barrier, results)) for i in range(daemons)]
    load_before = os.getloadavg()[0]
    for p in procs:
        p.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a daemon failed to start: its error follows
        barrier.wait(timeout=300)
    found = [results.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join()
    errors = [f for f in found if "error" in f]
    if errors:
        raise RuntimeError(f"daemons failed: {errors}")
    totals: Counter[str] = Counter()
    for f in found:
        totals.update(f["counts"])
    wall = max(f["ended"] for f in found) - min(f["began"] for f in found)
    db = sa.create_engine(url)
    try:
        checked = check(db, dict(totals))
    finally:
        db.dispose()
    per = sorted(
        (
            {
                "worker": f["worker"],
                "calls": f["calls"],
                "s": f["ended"] - f["began"],
                "cpu_s": f["cpu_s"],
                **f["counts"],
            }
            for f in found
        ),
        key=lambda f: f["worker"],
    )
    rates = _rates(n, dict(totals), checked["notice_rows"], wall)
    # The machine's 1-minute load: on 2 cores, daemons and the server's backends share them.
    load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2), "cores": os.cpu_count()}
    return rates | {"daemons": daemons, "per_daemon": per, "load_average": load, "check": checked}


def _fresh(fn: Callable[..., Any], *args: Any) -> Any:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# ---- PostgreSQL ---------------------------------------------------------------------------------------


class Postgres:
    """The PostgreSQL server to use: ``DUBAN_BENCH_PG`` (a URL; ``off`` to skip), else a throw-away
    cluster started with ``.ci/postgres.sh`` when PostgreSQL's binaries are installed (never installs)."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.note = ""
        self._folder: Path | None = None

    def __enter__(self) -> Postgres:
        given = os.environ.get("DUBAN_BENCH_PG", "")
        if given.lower() in ("off", "0", "no", "none"):
            self.note = "skipped: DUBAN_BENCH_PG=off"
        elif given:
            self.url, self.note = given, "DUBAN_BENCH_PG"
        elif not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
            self.note = "skipped: no DUBAN_BENCH_PG and no PostgreSQL binaries for .ci/postgres.sh"
        else:
            import sqlalchemy as sa

            out = subprocess.run(
                ["bash", str(ROOT / ".ci" / "postgres.sh")], capture_output=True, text=True, check=True, timeout=300
            )
            self.url = out.stdout.strip().splitlines()[-1]
            # The script prints only the URL: find our cluster's folder by its port (line 4 of postmaster.pid),
            # not by which folders are new, since other clusters may be started meanwhile.
            port = str(sa.make_url(self.url).port)
            for folder in glob.glob("/tmp/duban-pg.*"):
                pid = Path(folder) / "data" / "postmaster.pid"
                with contextlib.suppress(OSError, IndexError):
                    if pid.read_text().splitlines()[3].strip() == port:
                        self._folder = Path(folder)
            self.note = "a throw-away cluster from .ci/postgres.sh (fsync=off)"
            if self._folder is None:
                print(
                    f"sweeps: cannot find the folder of the cluster on port {port}; it is left running", file=sys.stderr
                )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._folder is None:
            return
        pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
        command = [pg_ctl, "-D", str(self._folder / "data"), "-m", "fast", "-w", "stop"]
        if os.geteuid() == 0:  # the script runs the cluster as an unprivileged user
            owner = self._folder.owner()
            command = ["su", owner, "-s", "/bin/sh", "-c", " ".join(command)]
        subprocess.run(command, capture_output=True, check=False, cwd="/", timeout=120)
        shutil.rmtree(self._folder, ignore_errors=True)

    def database(self, name: str, template: str | None = None) -> str:
        """(Re)create database *name* (from *template*) and return its URL."""
        import sqlalchemy as sa

        assert self.url is not None
        admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        admin.dispose()
        return sa.make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def drop(self, *names: str) -> None:
        import sqlalchemy as sa

        assert self.url is not None
        admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    def version(self) -> str | None:
        import sqlalchemy as sa

        assert self.url is not None
        db = sa.create_engine(self.url)
        with db.connect() as conn:
            found = conn.execute(sa.text("SHOW server_version")).scalar()
        db.dispose()
        return str(found) if found else None


# ---- the workload -------------------------------------------------------------------------------------


def _idle_summary(runs: list[dict[str, Any]], built: dict[str, Any]) -> dict[str, Any]:
    every = [ms for r in runs for ms in r["sweep_ms"]]
    last = runs[-1]
    return {
        "population": built,
        "runs": len(runs),
        "sweeps_per_run": len(runs[0]["sweep_ms"]),
        "sweep_ms": spread(every),
        "run_median_ms": spread([r["median_ms"] for r in runs]),
        "cold_ms": spread([r["cold_ms"] for r in runs]),
        "statements_per_sweep": last["statements_per_sweep"],
        "statements": last["statements"],
        "claim_sql": last["claim_sql"],
        "plan": last["plan"],
        "plan_uses_index": all(r["plan_uses_index"] for r in runs),
        "meets_target": statistics.median(every) < TARGETS["idle_ms"],
        "raw": runs,
    }


def _loaded_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": runs[0]["items"],
        "runs": len(runs),
        "counts": runs[0]["counts"],
        "escalations_per_s": spread([r["escalations_per_s"] for r in runs]),
        "steps_per_s": spread([r["steps_per_s"] for r in runs]),
        "notices_per_s": spread([r["notices_per_s"] for r in runs]),
        "items_per_s": spread([r["items_per_s"] for r in runs]),
        "wall_s": spread([r["wall_s"] for r in runs]),
        "exactly_once": all(r["check"]["exactly_once"] for r in runs),
        "notices_reported_match": all(r["check"]["notices_reported_match"] for r in runs),
        "totals": _totals(runs),
        "raw": runs,
    }


def _totals(runs: list[dict[str, Any]]) -> dict[str, int] | None:
    """The rows every run produced (steps, notices, escalation audits), or None if runs differ."""
    found = {(r["check"]["step_rows"], r["check"]["notice_rows"], r["check"]["escalate_audit_rows"]) for r in runs}
    if len(found) != 1:
        return None
    steps, notices, audits = found.pop()
    return {"step_rows": steps, "notice_rows": notices, "escalate_audit_rows": audits}


def _safe_url(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


def _per_item(totals: dict[str, int] | None, items: int) -> dict[str, float] | None:
    return None if totals is None else {k: v / items for k, v in totals.items()}


def _say(text: str, end: str = "\n") -> None:
    print(text, end=end, file=sys.stderr, flush=True)


def workload(mode: str, repeat: int | None = None, n: int | None = None, digest: str = "") -> dict[str, Any]:
    """Every part of the workload; each timed run in a fresh (spawned) process."""
    # PostgreSQL's loaded runs (three daemon counts) take longest: once each unless --repeat says otherwise.
    pg_repeat = repeat or PG_REPEAT[mode]
    pg_n = n or PG_N[mode]
    repeat = repeat or DEFAULT_REPEAT[mode]
    n = n or DEFAULT_N[mode]
    idle_n = IDLE_N[mode]
    digest = digest or "nodigest"
    report: dict[str, Any] = {
        "settings": {
            "mode": mode,
            "repeat": repeat,
            "postgresql_repeat": pg_repeat,
            "items": n,
            "postgresql_items": pg_n,
            "idle_items": idle_n,
            "idle_sweeps_per_run": IDLE_SWEEPS,
            "daemons": list(DAEMONS),
            "start": START.isoformat(),
            "idle_at": IDLE_AT.isoformat(),
            "due_at": DUE_AT.isoformat(),
            "units": [LEAD, CO_UNIT],
            "targets": TARGETS,
            "cache": str(CACHE),
        },
        "software": {p.lower(): version(p) for p in PACKAGES},
    }

    # SQLite, idle: the cached million, opened in place (an idle sweep writes nothing).
    idle_path = _cached("idle", idle_n, digest)
    idle_runs = []
    for k in range(repeat):
        _say(f"sweeps idle run {k + 1}/{repeat}: sqlite, {idle_n:,} open items ...", end=" ")
        r = _fresh(run_idle, f"sqlite:///{idle_path}", IDLE_SWEEPS)
        _say(f"median {r['median_ms']:.2f} ms, cold {r['cold_ms']:.0f} ms, index used: {r['plan_uses_index']}")
        idle_runs.append(r)
    built = {"items": idle_n, "cloned": min(idle_n, CLONED), "file_mib": idle_path.stat().st_size / 2**20}
    report["idle"] = {"sqlite": _idle_summary(idle_runs, built)}

    # SQLite, loaded.
    loaded_path = _cached("loaded", n, digest)
    loaded_runs = []
    for k in range(repeat):
        _say(f"sweeps loaded run {k + 1}/{repeat}: sqlite, {n:,} overdue items ...", end=" ")
        r = _fresh(run_loaded, str(loaded_path), n)
        _say(
            f"{r['escalations_per_s']:,.0f} escalations/s, {r['notices_per_s']:,.0f} notices/s "
            f"({r['wall_s']:.1f} s), exactly once: {r['check']['exactly_once']}"
        )
        loaded_runs.append(r)
    report["loaded"] = {"sqlite": _loaded_summary(loaded_runs)}
    first = loaded_runs[0]
    steps = first["counts"].get("reminders", 0) + first["counts"].get("escalations", 0)
    instants = [dt.datetime.fromisoformat(s) for s in first["check"]["step_instants"]]
    instants = [s if s.tzinfo else s.replace(tzinfo=dt.UTC) for s in instants]

    # PostgreSQL: idle over the same population size, then 1, 2 and 4 daemons.
    with Postgres() as pg:
        report["postgresql"] = {
            "source": pg.note,
            "url": _safe_url(pg.url) if pg.url else None,
            "version": pg.version() if pg.url else None,
        }
        if pg.url:
            _postgres(pg, report, repeat, pg_repeat, pg_n, idle_n)
        else:
            _say(f"sweeps: PostgreSQL {pg.note}")

    # Peers, same number of timers as duban's due steps (capped).
    report["peers"] = _peers(mode, repeat, steps, instants)
    report["ratios"] = ratios(report)
    return report


def _postgres(pg: Postgres, report: dict[str, Any], repeat: int, pg_repeat: int, n: int, idle_n: int) -> None:
    _say(f"sweeps: building {idle_n:,} idle items on PostgreSQL ...", end=" ")
    idle_url = pg.database("duban_bench_idle")
    built = _fresh(build, idle_url, idle_n, True)
    _say(f"{built['build_s']:.0f} s")
    idle_runs = []
    for k in range(repeat):
        _say(f"sweeps idle run {k + 1}/{repeat}: postgresql, {idle_n:,} open items ...", end=" ")
        r = _fresh(run_idle, idle_url, IDLE_SWEEPS)
        _say(f"median {r['median_ms']:.2f} ms, index used: {r['plan_uses_index']}")
        idle_runs.append(r)
    pg.drop("duban_bench_idle")
    report["idle"]["postgresql"] = _idle_summary(idle_runs, built)

    _say(f"sweeps: building {n:,} overdue items on PostgreSQL ...", end=" ")
    template = pg.database("duban_bench_loaded")
    built = _fresh(build, template, n, False)
    _say(f"{built['build_s']:.0f} s")
    by_daemons: dict[str, Any] = {}
    for daemons in DAEMONS:
        runs = []
        for k in range(pg_repeat):
            _say(f"sweeps loaded run {k + 1}/{pg_repeat}: postgresql, {daemons} daemon(s), {n:,} items ...", end=" ")
            url = pg.database("duban_bench_run", template="duban_bench_loaded")
            r = run_daemons(url, n, daemons)
            pg.drop("duban_bench_run")
            _say(
                f"{r['escalations_per_s']:,.0f} escalations/s ({r['wall_s']:.1f} s), "
                f"exactly once: {r['check']['exactly_once']}"
            )
            runs.append(r)
        by_daemons[str(daemons)] = _loaded_summary(runs)
    pg.drop("duban_bench_loaded")
    one = by_daemons[str(DAEMONS[0])]
    sqlite = report["loaded"]["sqlite"]["totals"]
    for summary in by_daemons.values():
        summary["speedup"] = summary["escalations_per_s"]["median"] / one["escalations_per_s"]["median"]
        summary["same_totals_as_one_daemon"] = summary["totals"] is not None and summary["totals"] == one["totals"]
        summary["same_totals_as_sqlite"] = _per_item(summary["totals"], n) == _per_item(
            sqlite, report["loaded"]["sqlite"]["items"]
        )
    report["loaded"]["postgresql"] = {"population": built, "runs_per_daemon_count": pg_repeat, "by_daemons": by_daemons}


def _peers(mode: str, repeat: int, steps: int, instants: list[dt.datetime]) -> dict[str, Any]:
    import importlib.util

    peers: dict[str, Any] = {}
    if importlib.util.find_spec("SpiffWorkflow") is None:
        peers["spiff"] = {"skipped": "SpiffWorkflow is not installed (the bench extra)"}
    else:
        from bench.peers.spiff_sweep import run as spiff

        t = min(steps, PEER_CAP["spiff"][mode])
        runs = []
        for k in range(repeat):
            _say(f"sweeps peer run {k + 1}/{repeat}: spiff, {t:,} timers ...", end=" ")
            with tempfile.TemporaryDirectory(prefix="duban-bench-spiff-") as tmp:
                r = _fresh(spiff, t, tmp, START, IDLE_AT, DUE_AT, PROBES)
            _say(f"{r['fired_per_s']:,.0f} timers/s, idle scan {r['idle_scan_us_per_workflow']:,.0f} µs/workflow")
            runs.append(r)
        peers["spiff"] = {
            "timers": t,
            "runs": len(runs),
            "fired_per_s": spread([r["fired_per_s"] for r in runs]),
            "built_per_s": spread([r["built_per_s"] for r in runs]),
            "idle_index_ms": spread([r["idle_index_ms"] for r in runs]),
            "idle_scan_us_per_workflow": spread([r["idle_scan_us_per_workflow"] for r in runs]),
            "idle_index_plan": runs[-1]["idle_index_plan"],
            "state_bytes": runs[-1]["state_bytes"],
            "raw": runs,
        }
    if importlib.util.find_spec("apscheduler") is None:
        peers["apscheduler"] = {"skipped": "APScheduler is not installed (the bench extra)"}
    else:
        from bench.peers.apscheduler_jobs import run as aps

        t = min(steps, PEER_CAP["apscheduler"][mode])
        runs = []
        for k in range(repeat):
            _say(f"sweeps peer run {k + 1}/{repeat}: apscheduler, {t:,} jobs ...", end=" ")
            with tempfile.TemporaryDirectory(prefix="duban-bench-aps-") as tmp:
                r = _fresh(aps, t, tmp, instants, IDLE_AT, DUE_AT, PROBES)
            _say(f"added {r['added_per_s']:,.0f}/s, ran {r['ran_per_s']:,.0f}/s")
            runs.append(r)
        peers["apscheduler"] = {
            "timers": t,
            "runs": len(runs),
            "added_per_s": spread([r["added_per_s"] for r in runs]),
            "ran_per_s": spread([r["ran_per_s"] for r in runs]),
            "idle_due_ms": spread([r["idle_due_ms"] for r in runs]),
            "loaded_get_due_per_s": spread([r["loaded_get_due_per_s"] for r in runs]),
            "raw": runs,
        }
    return peers


def ratios(report: dict[str, Any]) -> dict[str, float | None]:
    """duban over each peer: due steps handled per second (medians), and idle cost per open item."""
    duban = report["loaded"]["sqlite"]["steps_per_s"]["median"]
    spiff, aps = report["peers"].get("spiff", {}), report["peers"].get("apscheduler", {})
    idle = report["idle"]["sqlite"]
    out: dict[str, float | None] = {
        "steps_per_s_duban_over_spiff": duban / spiff["fired_per_s"]["median"] if "fired_per_s" in spiff else None,
        "steps_per_s_duban_over_apscheduler": duban / aps["ran_per_s"]["median"] if "ran_per_s" in aps else None,
    }
    if "idle_scan_us_per_workflow" in spiff:
        # SpiffWorkflow alone: every waiting workflow is loaded and asked, so the idle pass grows with them.
        estimate = spiff["idle_scan_us_per_workflow"]["median"] * idle["population"]["items"] / 1000
        out["spiff_idle_scan_ms_estimated_at_idle_items"] = estimate
        out["idle_spiff_scan_over_duban"] = estimate / idle["sweep_ms"]["median"]
    return out


# ---- output ---------------------------------------------------------------------------------------------


def _f(spread: dict[str, float], fmt: str = ",.0f") -> str:
    return f"{spread['min']:{fmt}} / **{spread['median']:{fmt}}** / {spread['max']:{fmt}}"


def table(report: dict[str, Any]) -> str:
    s = report["settings"]
    lines = [
        "| idle sweep | open items | ms min / **median** / max | cold ms | index used |",
        "|---|---:|---:|---:|---|",
    ]
    for backend, i in report["idle"].items():
        lines.append(
            f"| duban, {backend} | {i['population']['items']:,} | {_f(i['sweep_ms'], ',.2f')} "
            f"| {i['cold_ms']['median']:,.0f} | {'yes' if i['plan_uses_index'] else '**no**'} |"
        )
    spiff, aps = report["peers"].get("spiff", {}), report["peers"].get("apscheduler", {})
    if "idle_index_ms" in spiff:
        lines.append(
            f"| spiff, indexed next-timer column | {spiff['timers']:,} | {_f(spiff['idle_index_ms'], ',.3f')} | | yes |"
        )
        scan = spiff["idle_scan_us_per_workflow"]["median"]
        lines.append(
            f"| spiff, load and refresh every workflow | {spiff['timers']:,} "
            f"| {scan * spiff['timers'] / 1000:,.0f} (≈{scan * s['idle_items'] / 1e6:,.0f} s at {s['idle_items']:,}) "
            "| | no |"
        )
    if "idle_due_ms" in aps:
        lines.append(f"| apscheduler get_due_jobs | {aps['timers']:,} | {_f(aps['idle_due_ms'], ',.3f')} | | yes |")
    lines += [
        "",
        "| loaded sweep | items | timers | escalations/s min / **median** / max | steps/s (median) "
        "| notices queued/s (median) | exactly once |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]

    def loaded(name: str, x: dict[str, Any]) -> str:
        c = x["counts"]
        steps = c.get("reminders", 0) + c.get("escalations", 0)
        return (
            f"| {name} | {x['items']:,} | {steps:,} | {_f(x['escalations_per_s'])} | {x['steps_per_s']['median']:,.0f} "
            f"| {x['notices_per_s']['median']:,.0f} | {'yes' if x['exactly_once'] else '**NO**'} |"
        )

    lines.append(loaded("duban, sqlite", report["loaded"]["sqlite"]))
    for k, x in report["loaded"].get("postgresql", {}).get("by_daemons", {}).items():
        lines.append(loaded(f"duban, postgresql, {k} daemon(s) (×{x['speedup']:.2f})", x))
    if "fired_per_s" in spiff:
        lines.append(
            f"| spiff (timers fired) | {spiff['timers']:,} | {spiff['timers']:,} | | {_f(spiff['fired_per_s'])} | | |"
        )
    if "ran_per_s" in aps:
        lines.append(
            f"| apscheduler (jobs run) | {aps['timers']:,} | {aps['timers']:,} | | {_f(aps['ran_per_s'])} | | |"
        )
    r = report["ratios"]
    parts = []
    if r.get("steps_per_s_duban_over_spiff") is not None:
        parts.append(f"duban / spiff {r['steps_per_s_duban_over_spiff']:.2f}×")
    if r.get("steps_per_s_duban_over_apscheduler") is not None:
        parts.append(f"duban / apscheduler {r['steps_per_s_duban_over_apscheduler']:.2f}×")
    if parts:
        lines += ["", "Due steps (timers) handled per second, medians: " + ", ".join(parts) + "."]
    if "added_per_s" in aps:
        lines.append(f"APScheduler jobs added/s: {_f(aps['added_per_s'])}.")
    return "\n".join(lines)


def plans(report: dict[str, Any]) -> str:
    """The plan of the idle sweep's claim statement, per backend."""
    lines = []
    for backend, i in report["idle"].items():
        lines += [f"Claim statement plan ({backend}):", "", "```", *i["plan"], "```", ""]
    return "\n".join(lines).rstrip("\n")


def markdown(report: dict[str, Any]) -> str:
    s = report["settings"]
    lines = [
        "## Sweeps",
        "",
        f"Idle: {s['idle_items']:,} open items, none due, {s['idle_sweeps_per_run']} timed "
        f"`sweep(dispatch=False)` per run. Loaded: {s['items']:,} items (PostgreSQL {s['postgresql_items']:,}) "
        f"assigned to a lead and a co-unit, swept at {s['due_at'][:10]} with `dispatch=False` until nothing is "
        f"claimed. {s['repeat']} run(s) each ({s['postgresql_repeat']} per daemon count on PostgreSQL), "
        f"fresh processes. PostgreSQL: {report['postgresql']['source']}"
        + (f" ({report['postgresql']['version']})" if report["postgresql"].get("version") else "")
        + ".",
        "",
        table(report),
        "",
    ]
    lines += [plans(report), ""]
    pg = report["loaded"].get("postgresql")
    if pg:
        lines += [
            "Exactly once on PostgreSQL (rows in the database after the daemons stopped):",
            "",
            "| daemons | step rows | duplicate (deadline, step) | notice rows / distinct keys "
            "| escalate audit rows / distinct | due left | same rows as 1 daemon / per item as SQLite "
            "| wall s | CPU s of each daemon | load avg before / after |",
            "|---:|---:|---:|---:|---:|---:|---|---:|---|---|",
        ]
        for k, x in pg["by_daemons"].items():
            for r in x["raw"]:
                c = r["check"]
                lines.append(
                    f"| {k} | {c['step_rows']:,} | {c['duplicate_steps']} "
                    f"| {c['notice_rows']:,} / {c['distinct_notice_keys']:,} "
                    f"| {c['escalate_audit_rows']:,} / {c['distinct_escalate_audit_rows']:,} | {c['due_left']} "
                    f"| {'yes' if x['same_totals_as_one_daemon'] else 'no'} / "
                    f"{'yes' if x['same_totals_as_sqlite'] else 'no'} | {r['wall_s']:,.1f} "
                    f"| {', '.join(format(d['cpu_s'], ',.1f') for d in r['per_daemon'])} "
                    f"| {r['load_average']['before']} / {r['load_average']['after']} |"
                )
        lines.append("")
    wrong = [
        name
        for name, x in [
            ("sqlite", report["loaded"]["sqlite"]),
            *((f"postgresql {k}", x) for k, x in (pg or {}).get("by_daemons", {}).items()),
        ]
        if not x["notices_reported_match"]
    ]
    if wrong:
        lines += [
            "Note: `SweepResult.counts['notices']` differed from the notice rows in the database ("
            + ", ".join(wrong)
            + "); notices/s are counted from the rows.",
            "",
        ]
    misses = []
    if report["idle"]["sqlite"]["sweep_ms"]["median"] >= TARGETS["idle_ms"]:
        misses.append(f"idle sweep median ≥ {TARGETS['idle_ms']:.0f} ms")
    if report["loaded"]["sqlite"]["escalations_per_s"]["median"] < TARGETS["escalations_per_s"]:
        misses.append(f"SQLite escalations/s below {TARGETS['escalations_per_s']:,.0f}")
    if misses:
        lines += ["**Targets missed:** " + "; ".join(misses) + ".", ""]
    return "\n".join(lines)
