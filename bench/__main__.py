"""``python -m bench``: duban against a naive transitions + SQLModel peer, whole lifecycles on SQLite.

    python -m bench                 # full: duban 10,000 and naive 2,000 lifecycles, 3 runs each
    python -m bench --quick         # duban 300 and naive 100 lifecycles, 1 run each
    python -m bench --repeat 5 --n 20000 --naive-n 4000 --out /tmp/results
    python -m bench --workload deadlines   # only the deadlines workload (bench/deadlines.py)
    python -m bench --workload notices     # only the notices workload (bench/notices.py)
    python -m bench --workload sweeps      # only the sweeps workload (bench/sweeps.py)

All workloads run by default: ``lifecycle``, then ``deadlines`` (due dates per second for duban's
``Calendar.due``, and how often SpiffWorkflow's and APScheduler's date arithmetic differs from the law), then
``notices`` (notices rendered and queued per second by ``assign`` fires, and dispatched per second to a
loopback SMTP server), then ``sweeps`` (the cost of an idle deadline sweep over a million open items, and
escalations per second working off a backlog, on SQLite and on PostgreSQL with 1, 2 and 4 daemons, against
SpiffWorkflow timers and APScheduler jobs).

Each run is a fresh process (so peak RSS is that run's) with a fresh SQLite file in a temporary
folder. Runs alternate between contestants. Writes ``<out>/<YYYY-MM-DD>-<hostname>.json`` and a
Markdown table beside it (``-quick`` is added to the names of quick runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench import bulk, deadlines, notices, reports, sweeps
from bench.common import cpu_model, spread, version
from bench.lifecycle import CONTESTANTS, OPERATIONS, PERCENTILES, run

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_N = {
    "full": {"duban": 10_000, "naive": 2_000, "spiff": 1_000, "raw": 10_000},
    "quick": {"duban": 300, "naive": 100, "spiff": 50, "raw": 300},
}
DEFAULT_REPEAT = {"full": 3, "quick": 1}
PACKAGES = ("duban", "transitions", "SQLAlchemy", "sqlmodel", "pydantic", "alembic")
#: W1 lifecycle, W2 bulk, W3 sweeps, W4 deadlines, W5 reports, then notices (rendering and SMTP dispatch)
WORKLOADS = ("lifecycle", "bulk", "sweeps", "deadlines", "reports", "notices")
LABELS = {"lifecycle": "W1", "bulk": "W2", "sweeps": "W3", "deadlines": "W4", "reports": "W5", "notices": "extra"}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: duban 300, naive 100 lifecycles, 1 run; 10,000 due dates, 3 runs; 100 assign fires, "
        "3 runs; sweeps over 20,000 idle and 500 overdue items, 1 run",
    )
    p.add_argument(
        "--repeat",
        type=int,
        help="runs per contestant (default 3, quick 1; deadlines 5, quick 3; notices 3; sweeps 3, quick 1)",
    )
    p.add_argument(
        "--n",
        type=int,
        help="lifecycles per duban run (default 10000, quick 300); the naive peer "
        "runs min(N, its default) unless --naive-n is given",
    )
    p.add_argument("--naive-n", type=int, help="lifecycles per naive run (default 2000, quick 100)")
    p.add_argument("--only", choices=sorted(CONTESTANTS), action="append", help="run only this lifecycle contestant")
    p.add_argument("--workload", choices=WORKLOADS, action="append", help="run only this workload (default: all)")
    p.add_argument("--deadlines-n", type=int, help="due dates per deadlines run (default 100000, quick 10000)")
    p.add_argument(
        "--notices-n", type=int, help="assign fires (3 notices each) per notices run (default 1000, quick 100)"
    )
    p.add_argument(
        "--sweeps-n",
        type=int,
        help="overdue items per loaded sweeps run, both backends (default SQLite 20000, PostgreSQL 10000; quick 500)",
    )
    p.add_argument("--bulk-n", type=int, help="items assigned in one call per bulk run (default 5000, quick 200)")
    p.add_argument(
        "--durability",
        choices=["normal", "full"],
        default="normal",
        help="SQLite synchronous level for both contestants (default normal, duban's default)",
    )
    p.add_argument("--out", type=Path, default=HERE / "results", help="folder for the JSON and Markdown results")
    args = p.parse_args(argv)
    args.repeat_given = args.repeat
    mode = "quick" if args.quick else "full"
    defaults = DEFAULT_N[mode]
    args.mode = mode
    args.deadlines_repeat = args.repeat or deadlines.DEFAULT_REPEAT[mode]
    args.notices_repeat = args.repeat or notices.DEFAULT_REPEAT[mode]
    args.sweeps_repeat = args.repeat  # None: the sweeps workload picks its own per part
    args.repeat = args.repeat or DEFAULT_REPEAT[mode]
    args.sizes = {
        "duban": args.n or defaults["duban"],
        "naive": args.naive_n or min(args.n or defaults["naive"], defaults["naive"]),
        "spiff": min(args.n or defaults["spiff"], defaults["spiff"]),
        "raw": args.n or defaults["raw"],
    }
    args.bulk_n = args.bulk_n or bulk.DEFAULT_N[mode]
    args.bulk_repeat = args.repeat_given or bulk.DEFAULT_REPEAT[mode]
    args.reports_repeat = args.repeat_given or reports.DEFAULT_REPEAT[mode]
    args.deadlines_n = args.deadlines_n or deadlines.DEFAULT_N[mode]
    args.notices_n = args.notices_n or notices.DEFAULT_N[mode]
    # None: the sweeps workload picks its own sizes (SQLite and PostgreSQL differ unless one is given).
    if min(args.repeat, *args.sizes.values(), args.deadlines_n, args.notices_n, args.sweeps_n or 1) < 1:
        p.error("--repeat, --n, --naive-n, --deadlines-n, --notices-n and --sweeps-n must be at least 1")
    args.workloads = [w for w in WORKLOADS if not args.workload or w in args.workload]
    args.contestants = [c for c in CONTESTANTS if not args.only or c in args.only]
    return args


# ---- where it ran ---------------------------------------------------------------------------


def _filesystem(path: str) -> str:
    """The file system type the temporary databases live on (from /proc/mounts; longest mount prefix)."""
    best, kind = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and path.startswith(fields[1]) and len(fields[1]) > len(best):
                best, kind = fields[1], fields[2]
    except OSError:
        pass
    return kind


def _git_commit() -> str | None:
    """HEAD, with ``+dirty`` when duban's code or definitions differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "workflow", "definitions"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}+dirty" if dirty else head


def source_digest() -> str:
    """SHA-256 over duban's source and definitions, to notice code that changed while the benchmark ran."""
    digest = hashlib.sha256()
    for folder in ("workflow", "definitions"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".yaml", ".yml"):
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def postgresql_version() -> str | None:
    """The version of the PostgreSQL server ``DUBAN_BENCH_PG`` names, if one is given and answers."""
    url = os.environ.get("DUBAN_BENCH_PG", "")
    if not url or url.lower() in ("off", "0", "no", "none"):
        return None
    import sqlalchemy as sa

    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            return str(conn.execute(sa.text("SHOW server_version")).scalar())
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        db.dispose()


def environment() -> dict[str, Any]:
    return {
        "machine": {
            "hostname": socket.gethostname(),
            "platform": platform.platform(),
            "cpu_model": cpu_model(),
            "cores": os.cpu_count(),
            "tmp_filesystem": _filesystem(tempfile.gettempdir()),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "software": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "postgresql": postgresql_version(),
            **{p.lower(): version(p) for p in PACKAGES},
            "git_commit": _git_commit(),
        },
    }


# ---- running and summing up -----------------------------------------------------------------


def run_in_fresh_process(name: str, n: int, durability: str) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(run, name, n, durability).result()


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def figure(get: Any) -> dict[str, float]:
        return spread([get(r) for r in runs])

    return {
        "n": runs[0]["n"],
        "operations_per_lifecycle": len(OPERATIONS),
        "runs": len(runs),
        "lifecycles_per_s": figure(lambda r: r["lifecycles_per_s"]),
        "operations_per_s": figure(lambda r: r["operations_per_s"]),
        "latency_us": {f"p{q}": figure(lambda r, q=q: r["latency_us"][f"p{q}"]) for q in PERCENTILES},
        "per_operation_us": {
            op: {f"p{q}": figure(lambda r, op=op, q=q: r["per_operation_us"][op][f"p{q}"]) for q in PERCENTILES}
            for op in OPERATIONS
        },
        "peak_rss_mib": figure(lambda r: r["peak_rss_mib"]),
        "statements_per_operation": runs[0]["statements_per_operation"],
        "setup_s": figure(lambda r: r["setup_s"]),
        "database_mib": figure(lambda r: r["database_mib"]),
        "raw": runs,
    }


def table(report: dict[str, Any]) -> str:
    head = (
        "| contestant | N | lifecycles/s min / **median** / max | ops/s (median) | p50 µs | p95 µs | p99 µs "
        "| SQL statements per op | peak RSS MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = []
    for name, s in report["results"].items():
        life, lat = s["lifecycles_per_s"], s["latency_us"]
        rows.append(
            f"| {name} | {s['n']:,} | {life['min']:,.1f} / **{life['median']:,.1f}** / {life['max']:,.1f} "
            f"| {s['operations_per_s']['median']:,.0f} | {lat['p50']['median']:,.0f} "
            f"| {lat['p95']['median']:,.0f} | {lat['p99']['median']:,.0f} "
            f"| {s['statements_per_operation']:.2f} | {s['peak_rss_mib']['median']:.0f} |"
        )
    return "\n".join([head, *rows])


def markdown(report: dict[str, Any]) -> str:
    m, sw, st = report["machine"], report["software"], report["settings"]
    lines = [
        f"# duban benchmark suite, {report['date']} on {m['hostname']}",
        "",
        "## W1: lifecycle throughput",
        "",
        f"`{report['command']}` — {st['mode']} mode, {st['repeat']} run(s) per contestant, SQLite durability "
        f"`{st['durability']}`, {len(OPERATIONS)} operations (transactions) per lifecycle. "
        "Latencies are medians over runs of each run's percentile over all operations.",
        "",
        table(report),
        "",
    ]
    if report["source_changed_during_run"]:
        lines += [
            "**Warning: duban's source changed while this benchmark ran; runs may have measured different code.**",
            "",
        ]
    for key, value in report.get("ratios", {}).items():
        peer = key.removeprefix("duban_over_")
        shown = f"{value:.1%} of the limit" if peer == "raw" else f"{value:.2f}×"
        lines += [f"**duban / {peer} (median lifecycles/s): {shown}**", ""]
    lines += ["Per-operation p50 µs (median over runs):", ""]
    names = list(report["results"])
    lines += ["| operation | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for op in OPERATIONS:
        cells = [f"{report['results'][n]['per_operation_us'][op]['p50']['median']:,.0f}" for n in names]
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Machine: {m['cpu_model']}, {m['cores']} cores, {m['platform']}, temp files on {m['tmp_filesystem']}. "
        f"Python {sw['python']}, SQLite {sw['sqlite']}, PostgreSQL {sw.get('postgresql') or '(not used)'}, "
        f"duban {sw['duban']} ({sw['git_commit']}), "
        f"transitions {sw['transitions']}, SQLAlchemy {sw['sqlalchemy']}, sqlmodel {sw['sqlmodel']}.",
        "",
    ]
    return "\n".join(lines)


def render(report: dict[str, Any]) -> str:
    """The Markdown file: the lifecycle report as before, then the sections of the other workloads that ran."""
    if "results" in report:
        text = markdown(report)
    else:
        m, sw = report["machine"], report["software"]
        text = "\n".join(
            [
                f"# {report['benchmark'].capitalize()} benchmark, {report['date']} on {m['hostname']}",
                "",
                f"`{report['command']}`. Machine: {m['cpu_model']}, {m['cores']} cores, {m['platform']}. "
                f"Python {sw['python']}, duban {sw['duban']} ({sw['git_commit']}).",
                "",
            ]
        )
        if report["source_changed_during_run"]:
            text += "\n**Warning: duban's source changed while this benchmark ran.**\n\n"
    for name, module in (("bulk", bulk), ("sweeps", sweeps), ("deadlines", deadlines), ("notices", notices)):
        if name in report:
            text += "\n" + module.markdown(report[name])
    if "reports" in report:
        text += "\n## W5: the follow-up review report (回头看)\n\n" + reports.table(report["reports"]) + "\n"
    text += "\n## Targets (issue 7)\n\n" + targets_table(report.get("targets", [])) + "\n"
    return text


def lifecycle_ratios(results: dict[str, Any]) -> dict[str, float]:
    """duban's median lifecycles/s over each other contestant's (for ``raw``: the fraction of the limit)."""
    if "duban" not in results:
        return {}
    duban = results["duban"]["lifecycles_per_s"]["median"]
    return {
        f"duban_over_{name}": round(duban / r["lifecycles_per_s"]["median"], 3)
        for name, r in results.items()
        if name != "duban"
    }


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 7's targets against this run's medians: what each is, the figure, and whether it is met."""
    found: list[dict[str, Any]] = []

    def add(workload: str, target: str, figure: float, unit: str, met: bool) -> None:
        found.append({"workload": workload, "target": target, "figure": figure, "unit": unit, "met": met})

    ratios = report.get("ratios", {})
    for peer, goal, text in (("naive", 5.0, "≥ 5× naive"), ("spiff", 10.0, "≥ 10× SpiffWorkflow")):
        if f"duban_over_{peer}" in ratios:
            got = ratios[f"duban_over_{peer}"]
            add("W1 lifecycle", text, got, "×", got >= goal)
    if "duban_over_raw" in ratios:
        add(
            "W1 lifecycle",
            "≥ 50% of the raw-SQL limit",
            ratios["duban_over_raw"],
            "of raw",
            ratios["duban_over_raw"] >= 0.5,
        )
    if "bulk" in report:
        got = report["bulk"]["results"]["duban"]["assignments_per_s"]["median"]
        add("W2 bulk assignment", "≥ 20,000 assignments/s (SQLite)", got, "/s", got >= 20_000)
    if "sweeps" in report:
        sw = report["sweeps"]
        for backend, idle in sw["idle"].items():
            got = idle["sweep_ms"]["median"]
            add("W3 sweeps", f"idle < 50 ms at {idle['population']['items']:,} items ({backend})", got, "ms", got < 50)
        got = sw["loaded"]["sqlite"]["escalations_per_s"]["median"]
        add("W3 sweeps", "loaded ≥ 10,000 escalations/s (SQLite)", got, "/s", got >= 10_000)
    if "reports" in report:
        for backend, by_size in report["reports"]["results"].items():
            largest = max(by_size, key=int)
            for part in ("summary", "full"):
                got = by_size[largest][part]["median_s"]
                add("W5 report", f"{part} < 2 s at {int(largest):,} items ({backend})", got, "s", got < 2.0)
    return found


def targets_table(found: list[dict[str, Any]]) -> str:
    lines = ["| workload | target | this run (median) | met |", "|---|---|---:|---|"]
    for t in found:
        figure = f"{t['figure']:.1%}" if t["unit"] == "of raw" else f"{t['figure']:,.2f} {t['unit']}"
        lines.append(f"| {t['workload']} | {t['target']} | {figure} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(lines)


def _lifecycle_runs(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in args.contestants}
    for k in range(args.repeat):
        for name in args.contestants:  # alternate, so drift on the machine hits all alike
            n = args.sizes[name]
            print(f"W1 run {k + 1}/{args.repeat}: {name}, {n:,} lifecycles ...", end=" ", file=sys.stderr, flush=True)
            began = time.perf_counter()
            result = run_in_fresh_process(name, n, args.durability)
            print(
                f"{result['lifecycles_per_s']:,.1f}/s, p95 {result['latency_us']['p95']:,.0f} µs "
                f"({time.perf_counter() - began:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
            runs[name].append(result)
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now().astimezone()
    env = environment()  # before the runs: the load average is the machine's, not ours
    digest = source_digest()
    report: dict[str, Any] = {
        "benchmark": "suite" if len(args.workloads) > 1 else args.workloads[0],
        "workloads": args.workloads,
        "date": started.date().isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        **env,
        "source_sha256": digest,
    }
    for workload in args.workloads:
        print(f"== {LABELS[workload]} {workload}", file=sys.stderr, flush=True)
        if workload == "lifecycle":
            report["settings"] = {
                "mode": args.mode,
                "repeat": args.repeat,
                "durability": args.durability,
                "n": {name: args.sizes[name] for name in args.contestants},
                "operations_per_lifecycle": len(OPERATIONS),
                "operations": list(OPERATIONS),
            }
            report["results"] = {name: summarize(r) for name, r in _lifecycle_runs(args).items()}
            report["ratios"] = lifecycle_ratios(report["results"])
        elif workload == "bulk":
            report["bulk"] = bulk.workload(args.mode, args.bulk_repeat, args.bulk_n)
        elif workload == "sweeps":
            report["sweeps"] = sweeps.workload(args.mode, args.sweeps_repeat, args.sweeps_n, digest)
        elif workload == "deadlines":
            report["deadlines"] = deadlines.workload(args.mode, args.deadlines_repeat, args.deadlines_n)
        elif workload == "reports":
            report["reports"] = reports.workload(args.mode, args.reports_repeat)
        elif workload == "notices":
            report["notices"] = notices.workload(args.mode, args.notices_repeat, args.notices_n, args.durability)
    report["source_changed_during_run"] = source_digest() != digest
    if report["source_changed_during_run"]:
        print(
            "WARNING: duban's source (workflow/ or definitions/) changed while the benchmark ran; "
            "runs may have measured different code",
            file=sys.stderr,
        )
    report["targets"] = targets(report)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{report['date']}-{report['machine']['hostname']}"
    if args.workloads != list(WORKLOADS):  # a partial run does not overwrite a whole one of the same day
        stem += "-" + "-".join(args.workloads)
    stem += "-quick" if args.mode == "quick" else ""
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / f"{stem}.md").write_text(render(report), encoding="utf-8")
    if "results" in report:
        print()
        print(table(report))
        for key, value in report["ratios"].items():
            print(f"{key.replace('_', ' ')} (median lifecycles/s): {value:.3f}")
    for name, module in (("bulk", bulk), ("deadlines", deadlines), ("notices", notices), ("reports", reports)):
        if name in report:
            print()
            print(module.table(report[name]))
    if "sweeps" in report:
        print()
        print(sweeps.table(report["sweeps"]))
        print()
        print(sweeps.plans(report["sweeps"]))
    print()
    print(targets_table(report["targets"]))
    print(f"\nwrote {args.out / stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
