"""W2, bulk assignment at an assignment meeting (交办会): N registered suggestions assigned in one call.

**duban.** N suggestions are submitted and registered (not timed); then one
``Engine.fire_many("assign", {id: {...}}, …)`` assigns each to a lead unit and two co-units (timed), in
one transaction: per item the same checks, assignment rows, clocks, audit row and three rendered
``assignment`` notices (subject, text and HTML) as a single ``assign`` fire. assignments/s = N ÷ the
call's wall time.

**The physical limit.** The same N items, assigned by plain ``sqlite3`` in one transaction with prepared
statements and ``executemany``: per item its read, the item ``UPDATE``, the audit ``INSERT`` (with its
SHA-256 link) and three outbox ``INSERT`` rows (one notice per unit, each a fixed text, not rendered),
into duban's own tables (see :mod:`bench.raw`).

Checks: every item ends ``assigned`` with three queued notices, in both contestants.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import resource
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench.common import spread
from bench.raw import BODY

__all__ = ["CONTESTANTS", "DEFAULT_N", "DEFAULT_REPEAT", "markdown", "run", "table", "workload"]

DEFAULT_N = {"full": 5_000, "quick": 200}
DEFAULT_REPEAT = {"full": 5, "quick": 1}
START = dt.datetime(2026, 3, 20, 1, 0, tzinfo=dt.UTC)
UNITS = ("市交通运输局", "市民政局", "市住房和城乡建设局")
LEAD, CO1, CO2 = UNITS
SUBMISSION = {"title": "关于增加通勤班车密度的建议", "origin": "session", "proposers": ["王芳"]}
CONTESTANTS = ("duban", "raw")


def _duban(folder: Path, n: int) -> tuple[float, int, int]:
    from workflow import Engine
    from workflow.model import Actor

    eng = Engine(f"sqlite:///{folder / 'bulk.db'}", clock=lambda: START)
    try:
        for k, unit in enumerate(UNITS):
            eng.add_party("unit", unit, handler=f"承办人{k}", contacts={"handler": f"unit{k}@gov.example"})
        with eng.db.begin() as conn:  # setup: N submissions in one transaction
            ids = [eng._submit_in(conn, "suggestion", Actor("office", None), START, SUBMISSION).id for _ in range(n)]
        eng.fire_many("register", ids)
        # Each item its own units, as a meeting's list gives them (here the same three for all).
        meeting = {i: {"lead_unit": LEAD, "co_units": [CO1, CO2]} for i in ids}
        began = time.perf_counter()
        eng.fire_many("assign", meeting)
        wall = time.perf_counter() - began
        assigned = len(eng.items(state="assigned"))
        notices = len(eng.outbox())
    finally:
        eng.close()
    return wall, assigned, notices


_READ = "SELECT id, version, audit_seq, audit_head FROM duban_item WHERE id = ?"
_UPDATE = "UPDATE duban_item SET state = ?, version = ?, audit_seq = ?, audit_head = ?, updated_at = ? WHERE id = ?"
_AUDIT = """INSERT INTO duban_audit (item_id, seq, at, actor_role, actor_party, "trigger", source, dest, data,
    prev_hash, hash) VALUES (?, ?, ?, 'office', NULL, 'assign', 'registered', 'assigned', ?, ?, ?)"""
_NOTICE = """INSERT INTO duban_notice (key, item_id, type, channel, recipient, role, address, subject,
    body_text, body_html, cause, status, attempts, next_attempt_at, queued_at)
    VALUES (?, ?, 'assignment', 'mail', ?, 'handler', 'unit@gov.example', '交办通知', ?, NULL, ?, 'queued', 0, ?, ?)"""


def _raw(folder: Path, n: int) -> tuple[float, int, int]:
    from workflow import Engine
    from workflow.model import Actor

    path = folder / "raw.db"
    eng = Engine(f"sqlite:///{path}", clock=lambda: START)  # duban's schema and N registered items, untimed
    with eng.db.begin() as conn:
        ids = [eng._submit_in(conn, "suggestion", Actor("office", None), START, SUBMISSION).id for _ in range(n)]
    for unit in UNITS:
        eng.add_party("unit", unit)
    eng.fire_many("register", ids)
    eng.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    when = START.isoformat()
    data = json.dumps({"lead_unit": LEAD, "co_units": [CO1, CO2]}, ensure_ascii=False)
    began = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    updates, audits, notices = [], [], []
    for item_id in ids:
        _id, version, seq, head = db.execute(_READ, (item_id,)).fetchone()
        body = json.dumps([item_id, seq + 1, when, "assign", data], ensure_ascii=False)
        new = hashlib.sha256(f"{head}\n{body}".encode()).hexdigest()
        updates.append(("assigned", version + 1, seq + 1, new, when, item_id))
        audits.append((item_id, seq + 1, when, data, head, new))
        cause = f"audit:{item_id}:{seq + 1}"
        notices += [(f"{cause}:{unit}", item_id, unit, BODY, cause, when, when) for unit in UNITS]
    db.executemany(_UPDATE, updates)
    db.executemany(_AUDIT, audits)
    db.executemany(_NOTICE, notices)
    db.execute("COMMIT")
    wall = time.perf_counter() - began
    assigned = db.execute("SELECT count(*) FROM duban_item WHERE state = 'assigned'").fetchone()[0]
    queued = db.execute("SELECT count(*) FROM duban_notice").fetchone()[0]
    db.close()
    return wall, assigned, queued


def run(name: str, n: int) -> dict[str, Any]:
    """One run of contestant *name* assigning *n* items, in this process; returns its figures."""
    with tempfile.TemporaryDirectory(prefix=f"bench-bulk-{name}-") as tmp:
        wall, assigned, notices = {"duban": _duban, "raw": _raw}[name](Path(tmp), n)
    if assigned != n or notices != 3 * n:
        raise RuntimeError(f"{name}: {assigned} of {n} items assigned, {notices} notices queued (expected {3 * n})")
    return {
        "contestant": name,
        "n": n,
        "wall_s": round(wall, 4),
        "assignments_per_s": round(n / wall, 1),
        "us_per_item": round(wall / n * 1e6, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def workload(mode: str, repeat: int | None = None, n: int | None = None) -> dict[str, Any]:
    """Alternating runs of both contestants, each in a fresh process."""
    repeat = repeat or DEFAULT_REPEAT[mode]
    n = n or DEFAULT_N[mode]
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in CONTESTANTS}
    for k in range(repeat):
        for name in CONTESTANTS:
            print(f"bulk run {k + 1}/{repeat}: {name}, {n:,} assignments ...", end=" ", file=sys.stderr, flush=True)
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                result = pool.submit(run, name, n).result()
            print(f"{result['assignments_per_s']:,.0f}/s", file=sys.stderr, flush=True)
            runs[name].append(result)
    results: dict[str, dict[str, Any]] = {
        name: {
            "assignments_per_s": spread([r["assignments_per_s"] for r in rs]),
            "us_per_item": spread([r["us_per_item"] for r in rs]),
            "peak_rss_mib": spread([r["peak_rss_mib"] for r in rs]),
            "raw": rs,
        }
        for name, rs in runs.items()
    }
    duban, raw = (results[c]["assignments_per_s"]["median"] for c in CONTESTANTS)
    return {
        "settings": {"mode": mode, "repeat": repeat, "n": n, "units": list(UNITS), "durability": "normal"},
        "results": results,
        "fraction_of_raw": round(duban / raw, 3),
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        "| contestant | assignments/s min / **median** / max | µs per item | peak RSS MiB |",
        "|---|---:|---:|---:|",
    ]
    for name, r in report["results"].items():
        f = r["assignments_per_s"]
        lines.append(
            f"| {name} | {f['min']:,.0f} / **{f['median']:,.0f}** / {f['max']:,.0f} "
            f"| {r['us_per_item']['median']:,.1f} | {r['peak_rss_mib']['median']:.0f} |"
        )
    lines += ["", f"duban / raw SQL limit (median): {report['fraction_of_raw']:.1%}"]
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    s = report["settings"]
    return "\n".join(
        [
            "## W2: bulk assignment (交办会)",
            "",
            f"{s['n']:,} registered suggestions assigned in one call (lead and two co-units each, three rendered "
            f"notices each) on SQLite, durability `{s['durability']}`; {s['repeat']} run(s) per contestant, "
            "each in a fresh process. `raw` is the physical limit: the item update, audit row and three outbox rows "
            "per item with plain sqlite3 `executemany` in one transaction.",
            "",
            table(report),
            "",
        ]
    )
