"""The reports workload: the follow-up review report (回头看) over 10,000 and 100,000 items with histories.

**Population.** Ten template items are taken through the engine with dated fires, one per stage the
report tells apart: a B reply met, rated satisfied and closed, its promise kept; a B reply a day late
whose promise is past its date; a C reply rated unsatisfied, re-handled, closed, its promise found
broken (a key item);
a reassignment and an approved extension with a D reply; an item never replied; a split item rated
unsatisfied whose re-handling is overdue; an item still within its period; a rejected item; a review
opinion whose vote failed (second review, problems part rectified); a review opinion whose
rectification list is overdue. ``workflow.testing.clone_items`` copies them (items, assignments,
promises, problems, contacts, votes, deadlines, escalation steps, audit log) to N items in the mix of
:data:`MIX`; the lead units are then spread over eight numbered copies of each unit (``市民政局 3``)
so that the unit table has some fifty rows. Every figure is then non-trivial.

**Measure.** Each size is measured in fresh (spawned) processes, one for the summary alone
(``ledgers=False``: the rates, counts, grades and the unit table, all SQL aggregates) and one for the
full report (with every ledger, whose rows are as many as they list). A process opens the engine, runs
one report on an empty selection (imports, definitions), then times ``Engine.report("followup")``
REPEAT times (median reported) while a thread samples its resident set every 2 ms (peak − the RSS
before the first timed run), and reports the ``tracemalloc`` peak of one more run (Python's own
allocations during a report). Memory that stays flat from 10,000 to
100,000 items is the point of computing in the database: the summary's should; the full report's
grows with the ledgers it lists.

Backends: SQLite (a file, WAL), and PostgreSQL when ``DUBAN_BENCH_PG`` holds a server URL (a database is
created per size and dropped after).

    python -m bench.reports [--quick] [--repeat N] [--sizes 10000,100000] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import cpu_model

__all__ = ["DEFAULT_REPEAT", "SIZES", "main", "markdown", "table", "workload"]

HERE = Path(__file__).resolve().parent
SIZES = {"full": (10_000, 100_000), "quick": (500, 2_000)}
DEFAULT_REPEAT = {"full": 5, "quick": 3}
TARGET_S = 2.0
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 9, 1, 10, 0, tzinfo=SHANGHAI)
UNITS = ("市交通运输局", "市住房和城乡建设局", "市民政局", "市卫生健康委员会", "市公安局交通警察支队", "市人民政府")
SPREAD = 8  # numbered copies of each unit the clones' lead units are spread over
#: Share of each template in the population, in percent.
MIX = {
    "answered": 20,
    "late_promise": 10,
    "rehandled_broken": 5,
    "reassigned_extended": 10,
    "unreplied": 10,
    "split_rehandling": 5,
    "within_period": 15,
    "rejected": 5,
    "opinion_second_review": 10,
    "opinion_plan_overdue": 10,
}


# ---- the population -------------------------------------------------------------------------


def _templates(eng: Any) -> dict[str, int]:
    """One item per template, taken through its story with dated fires; returns their ids."""
    from workflow import Actor

    T, H, M, W, P, G = UNITS  # the units' initials, as in the tests' hand-built year
    office, leader, committee = Actor("office"), Actor("leader"), Actor("committee")
    ids: dict[str, int] = {}

    def at(day: str, hour: int = 10) -> dt.datetime:
        return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)

    def unit(name: str) -> Any:
        return Actor("unit", name)

    def suggestion(name: str, title: str, day: str = "2026-01-12") -> None:
        fields = {"origin": "session", "session": "市十五届人大五次会议", "proposers": ["王芳"]}
        ids[name] = eng.submit("suggestion", title=title, at=at(day, 9), **fields).id
        if name != "rejected":
            fire(name, max(day, "2026-02-03"), "register", hour=11)

    def fire(name: str, day: str, trigger: str, actor: Any = office, hour: int = 10, **data: Any) -> None:
        eng.fire(ids[name], trigger, actor=actor, at=at(day, hour), **data)

    def promise(name: str, index: int) -> int:
        return int(eng.get(ids[name]).promises[index]["id"])

    suggestion("answered", "关于增加通勤班车密度的建议")
    fire("answered", "2026-03-20", "assign", lead_unit=T, co_units=[M])
    fire("answered", "2026-03-21", "accept", unit(M))
    fire("answered", "2026-03-21", "accept", unit(T), hour=11)
    fire("answered", "2026-03-25", "record_contact", unit(T), stage="before", method="visit")
    fire("answered", "2026-04-01", "submit_co_opinion", unit(M), opinion="同意")
    fire("answered", "2026-05-06", "reply", unit(T), category="B", text="已调整线路", signer="局长",
         promises=[{"what": "加密班次", "by": "2026-06-30"}])  # fmt: skip
    fire("answered", "2026-05-20", "evaluate", result="satisfied")
    fire("answered", "2026-05-25", "close")
    fire("answered", "2026-07-05", "verify_commitment", promise=promise("answered", 0), outcome="kept")

    suggestion("late_promise", "关于优化公交线路的建议")
    fire("late_promise", "2026-03-20", "assign", lead_unit=T)
    fire("late_promise", "2026-03-21", "accept", unit(T))
    fire("late_promise", "2026-06-23", "reply", unit(T), category="B", text="列入计划", signer="局长",
         promises=[{"what": "加密班次", "by": "2026-08-31"}])  # fmt: skip
    fire("late_promise", "2026-06-30", "evaluate", result="basically_satisfied")
    fire("late_promise", "2026-07-01", "close")

    suggestion("rehandled_broken", "关于在实验中学门前修建过街天桥的建议")
    fire("rehandled_broken", "2026-03-20", "assign", lead_unit=H, co_units=[P])
    fire("rehandled_broken", "2026-03-21", "accept", unit(P))
    fire("rehandled_broken", "2026-03-21", "accept", unit(H), hour=11)
    fire("rehandled_broken", "2026-03-25", "designate_key", leader, supervising_leader="刘副主任", case_leader="李文华")
    fire("rehandled_broken", "2026-04-10", "record_contact", unit(H), stage="during", method="meeting")
    fire("rehandled_broken", "2026-04-15", "submit_co_opinion", unit(P), opinion="支持")
    fire("rehandled_broken", "2026-04-28", "reply", unit(H), category="C", text="受资金限制", signer="局长",
         promises=[{"what": "争取列入明年计划", "by": "2027-03-31"}])  # fmt: skip
    fire("rehandled_broken", "2026-05-12", "evaluate", result="unsatisfied")
    fire("rehandled_broken", "2026-06-10", "reply", unit(H), category="B", text="年内开工", signer="局长",
         promises=[{"what": "7月底前开工", "by": "2026-07-31"}])  # fmt: skip
    fire("rehandled_broken", "2026-06-20", "evaluate", result="satisfied")
    fire("rehandled_broken", "2026-06-21", "close")
    fire("rehandled_broken", "2026-08-10", "verify_commitment", promise=promise("rehandled_broken", 1),
         outcome="broken")  # fmt: skip

    suggestion("reassigned_extended", "关于公布社区养老服务清单的建议")
    fire("reassigned_extended", "2026-03-20", "assign", lead_unit=M)
    fire("reassigned_extended", "2026-03-23", "request_reassignment", unit(M), reason="不属本单位职责")
    fire("reassigned_extended", "2026-03-25", "reassign", lead_unit=W)
    fire("reassigned_extended", "2026-03-26", "accept", unit(W))
    fire("reassigned_extended", "2026-06-01", "request_extension", unit(W), reason="需要调研", period="1 month")
    fire("reassigned_extended", "2026-06-02", "approve_extension", period="1 month")
    fire("reassigned_extended", "2026-07-20", "reply", unit(W), category="D", text="留作参考", signer="主任")
    fire("reassigned_extended", "2026-07-30", "evaluate", result="satisfied")

    suggestion("unreplied", "关于在学校路段设置减速慢行信号灯的建议")
    fire("unreplied", "2026-05-14", "assign", lead_unit=P)
    fire("unreplied", "2026-05-15", "accept", unit(P))

    suggestion("split_rehandling", "关于推进医养结合的建议")
    fire("split_rehandling", "2026-04-01", "assign", split_units=[M, W])
    fire("split_rehandling", "2026-04-02", "accept", unit(M))
    fire("split_rehandling", "2026-04-02", "accept", unit(W), hour=11)
    fire("split_rehandling", "2026-06-01", "reply", unit(M), category="A", text="已公布清单", signer="局长")
    fire("split_rehandling", "2026-06-05", "reply", unit(W), category="A", text="已开展医养结合", signer="主任")
    fire("split_rehandling", "2026-06-20", "evaluate", result="unsatisfied")

    suggestion("within_period", "关于增设社区停车位的建议", "2026-06-01")
    fire("within_period", "2026-06-02", "assign", lead_unit=H)
    fire("within_period", "2026-06-03", "accept", unit(H))
    fire("within_period", "2026-06-05", "record_contact", unit(H), stage="before", method="phone")

    suggestion("rejected", "关于解决本人子女入学问题的建议")
    fire("rejected", "2026-02-03", "reject", reason="personal_matter")

    gov = unit(G)
    ids["opinion_second_review"] = eng.submit(
        "review_opinion", title="关于道路交通安全法执法检查报告的审议意见", basis="inspection", at=at("2026-04-28", 9)
    ).id
    fire("opinion_second_review", "2026-05-08", "approve", leader)
    fire(
        "opinion_second_review",
        "2026-05-12",
        "assign",
        lead_unit=G,
        problems=[{"title": f"问题{n}"} for n in range(1, 9)],
    )
    measure = {"measure": "专项整治", "owner": "交警支队", "due": "2026-08-31"}
    fire("opinion_second_review", "2026-06-10", "submit_rectification_plan", gov,
         measures=[{"problem": n, **measure} for n in range(1, 9)])  # fmt: skip
    for n in (1, 2, 3):
        fire("opinion_second_review", "2026-07-20", "update_problem", gov, problem=n, status="rectified")
    fire("opinion_second_review", "2026-08-15", "submit_report", gov, text="研究处理情况的报告",
         consulted_committee="监察和司法委员会", consulted_on="2026-08-10")  # fmt: skip
    fire("opinion_second_review", "2026-08-26", "deliberate", committee)
    fire("opinion_second_review", "2026-08-26", "vote", committee, hour=11, satisfied=10, basically_satisfied=8,
         unsatisfied=21)  # fmt: skip
    fire("opinion_second_review", "2026-08-28", "order_second_review", leader, reason="整改不到位")

    ids["opinion_plan_overdue"] = eng.submit(
        "review_opinion", title="关于国有自然资源资产管理情况的审议意见", basis="work_report", at=at("2026-06-26", 9)
    ).id
    fire("opinion_plan_overdue", "2026-07-02", "approve", leader)
    fire(
        "opinion_plan_overdue",
        "2026-07-06",
        "assign",
        lead_unit=G,
        problems=[{"title": "资产底数不清"}, {"title": "收益管理不规范"}],
    )

    eng.due(NOW)  # escalation levels up to NOW, as a daemon would have produced them
    return ids


def build(url: str, n: int) -> dict[str, Any]:
    """Create the population of *n* items at *url*; returns what was built and how long it took."""
    from workflow import Engine
    from workflow.testing import FakeClock, clone_items

    started = time.perf_counter()
    with Engine(url, clock=FakeClock(NOW)) as eng:
        for name in UNITS:
            eng.add_party("unit", name, principal_leader="主要领导", department_head="部门负责人", handler="承办人员")
        ids = _templates(eng)
        counts = {name: n * share // 100 for name, share in MIX.items()}
        counts["answered"] += n - sum(counts.values())  # rounding
        for name, count in counts.items():
            if count > 1:
                clone_items(eng, ids[name], count - 1)
        with eng.db.begin() as conn:  # spread the clones over numbered copies of each unit
            for table in ("duban_assignment", "duban_promise"):
                conn.execute(sa.text(f"UPDATE {table} SET unit = unit || ' ' || CAST(item_id % {SPREAD} AS VARCHAR)"))
            conn.execute(
                sa.text(
                    "UPDATE duban_deadline SET subject = subject || ' ' || CAST(item_id % :k AS VARCHAR) "
                    "WHERE subject LIKE 'unit:%'"
                ),
                {"k": SPREAD},
            )
        with eng.db.connect() as conn:
            rows = {
                t: conn.execute(sa.text(f"SELECT COUNT(*) FROM duban_{t}")).scalar_one()
                for t in ("item", "audit", "deadline", "assignment", "promise", "problem")
            }
        if url.startswith("postgresql"):
            with eng.db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    return {"rows": rows, "build_s": round(time.perf_counter() - started, 1)}


# ---- measuring ------------------------------------------------------------------------------


class _RssPeak(threading.Thread):
    """Samples this process's resident set size (Linux ``/proc/self/statm``) every 2 ms while running:
    ``ru_maxrss`` is a high-water mark since the process started, which opening the engine may already
    have set higher than a report reaches."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self._done = _rss_mib(), threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.002):
            self.peak = max(self.peak, _rss_mib())

    def stop(self) -> float:
        self._done.set()
        self.join()
        return max(self.peak, _rss_mib())


def _rss_mib() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the high-water mark
    return pages * resource.getpagesize() / 2**20


def measure(url: str, ledgers: bool, repeat: int) -> dict[str, Any]:
    """In a fresh process: time ``repeat`` reports while sampling RSS, then one traced run's peak."""
    from workflow import Engine

    with Engine(url, migrate=False) as eng:
        eng.report("followup", now=NOW, year=1900)  # imports, definitions, the first connection
        gc.collect()
        before = _rss_mib()
        sampler = _RssPeak()
        sampler.start()
        times, data = [], None
        for _ in range(repeat):
            data = None
            gc.collect()
            started = time.perf_counter()
            data = eng.report("followup", now=NOW, ledgers=ledgers).data
            times.append(time.perf_counter() - started)
        peak = sampler.stop()
        assert data is not None
        listed = {k: len(data[k]) for k in ("items", "unsatisfied", "promises", "reopen", "key_items", "overdue")}
        rates = {k: v["percent"] for k, v in data["summary"]["rates"].items()}
        units = len(data["units"])
        data = None
        gc.collect()
        tracemalloc.start()
        eng.report("followup", now=NOW, ledgers=ledgers)
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "median_s": round(statistics.median(times), 3),
        "runs_s": [round(t, 3) for t in times],
        "rss_before_mib": round(before, 1),
        "rss_peak_growth_mib": round(peak - before, 1),
        "tracemalloc_peak_mib": round(traced / 2**20, 1),
        "units": units,
        "listed": listed if ledgers else {},
        "rates": rates,
    }


def _in_fresh_process(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


@contextmanager
def _database(backend: str, folder: Path, server: str | None) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'reports-{uuid.uuid4().hex[:8]}.db'}"
        return
    assert server is not None
    name = f"duban_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def workload(mode: str = "full", repeat: int | None = None, sizes: Sequence[int] | None = None) -> dict[str, Any]:
    """Every backend at every size: build, then the summary and the full report, each in its own process."""
    repeat = repeat or DEFAULT_REPEAT[mode]
    sizes = list(sizes or SIZES[mode])
    server = os.environ.get("DUBAN_BENCH_PG", "")
    backends = ["sqlite"] + (["postgresql"] if server and server != "off" else [])
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="duban-bench-reports-") as folder:
        for backend in backends:
            for n in sizes:
                with _database(backend, Path(folder), server or None) as url:
                    print(f"{backend} {n:,} items: building …", file=sys.stderr, flush=True)
                    built = build(url, n)
                    entry = {**built}
                    for part, ledgers in (("summary", False), ("full", True)):
                        entry[part] = _in_fresh_process(measure, url, ledgers, repeat)
                        print(f"  {part}: median {entry[part]['median_s']} s, RSS peak growth "
                              f"{entry[part]['rss_peak_growth_mib']} MiB", file=sys.stderr, flush=True)  # fmt: skip
                    results.setdefault(backend, {})[str(n)] = entry
    return {
        "mode": mode,
        "repeat": repeat,
        "sizes": sizes,
        "target_s": TARGET_S,
        "now": NOW.isoformat(),
        "results": results,
    }


# ---- reporting ------------------------------------------------------------------------------


def table(figures: dict[str, Any]) -> str:
    """The figures as a Markdown table: one row per backend and size."""
    lines = [
        "| backend | items | summary median s | summary RSS peak growth MiB | summary traced peak MiB "
        "| full median s | full RSS peak growth MiB | full traced peak MiB | rows listed (full) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for backend, by_size in figures["results"].items():
        for n, e in by_size.items():
            s, f = e["summary"], e["full"]
            listed = ", ".join(f"{k} {v:,}" for k, v in f["listed"].items())
            cells = [backend, f"{int(n):,}"]
            for part in (s, f):
                cells += [
                    f"{part['median_s']:.3f}",
                    str(part["rss_peak_growth_mib"]),
                    str(part["tracemalloc_peak_mib"]),
                ]
            lines.append("| " + " | ".join([*cells, listed]) + " |")
    return "\n".join(lines)


def markdown(figures: dict[str, Any]) -> str:
    env = figures["environment"]
    first = next(iter(figures["results"].values()), {})
    sample = next(iter(first.values()), None)
    rates = ", ".join(f"{k} {v}" for k, v in sample["full"]["rates"].items()) if sample else ""
    return "\n".join(
        [
            "# Follow-up review report: time and memory",
            "",
            f"`python -m bench.reports{' --quick' if figures['mode'] == 'quick' else ''}`, {figures['date']}, "
            f"median of {figures['repeat']} runs, report as of {figures['now']}. "
            f"Machine: {env['cpu_model']}, {env['cores']} cores, {env['platform']}; Python {env['python']}, "
            f"SQLite {env['sqlite']}.",
            "",
            table(figures),
            "",
            f"Target: the full report under {figures['target_s']:.0f} s at 100,000 items. The summary (rates, "
            "counts, grades, unit table) is SQL aggregates only: its memory should not grow with the items. "
            "The full report adds the ledgers, whose rows are as many as they list (`rows listed`).",
            "",
            f"Figures of the population (any size; the mix is fixed): {rates}.",
            "",
            (__doc__ or "").split("\n\n", 1)[1].split("\n\n    python")[0],
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.reports", description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="500 and 2,000 items, 3 runs each")
    p.add_argument("--repeat", type=int, help="timed reports per process")
    p.add_argument("--sizes", help="comma-separated item counts, e.g. 10000,100000")
    p.add_argument("--out", type=Path, default=HERE / "results", help="folder for the JSON and Markdown results")
    args = p.parse_args(argv)
    mode = "quick" if args.quick else "full"
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    figures = workload(mode, args.repeat, sizes)
    figures["date"] = dt.date.today().isoformat()
    figures["environment"] = {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{figures['date']}-{socket.gethostname()}-reports" + ("-quick" if args.quick else "")
    (args.out / f"{stem}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / f"{stem}.md").write_text(markdown(figures), encoding="utf-8")
    print(table(figures))
    print(f"\nwrote {args.out / stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
