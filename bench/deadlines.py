"""The deadlines workload: due dates per second, and how often the peers' due dates differ from the law.

Cases: every start date from 2024-01-01 to 2026-12-31 with each of :data:`PERIODS` (6,576 distinct cases,
which include the four worked examples of :data:`WORKED_EXAMPLES`). A run computes N due dates over that set,
shuffled with a fixed seed and repeated as often as N needs (every contestant gets the same N cases in the
same order); it is timed as a whole, without loading the calendar or importing the peer (``setup_s``).

Conformance: each peer's due date for each distinct case against duban's (``Calendar.due``, per 民法典
201-203 on the official calendar), with the reason for every difference. duban itself is checked against
the worked examples. A peer reads the same period string and translates it once, as its user would
(``"3 months"`` -> ``P3M`` or ``months=3``; ``"7 working days"`` -> ``P7D`` or ``days=7``).

:func:`workload` runs it all: each timed run in a fresh (spawned) process, contestants alternating.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, Protocol

from bench.common import spread, version
from workflow.calendar import Calendar, Due, parse_period

__all__ = [
    "CONTESTANTS",
    "PEERS",
    "PERIODS",
    "WORKED_EXAMPLES",
    "cases",
    "conformance",
    "distinct_cases",
    "markdown",
    "run",
    "table",
    "workload",
]

PERIODS = ("3 months", "6 months", "1 month", "7 working days", "15 working days", "20 days")
FIRST, LAST = dt.date(2024, 1, 1), dt.date(2026, 12, 31)
SEED = 20260320
#: (start, period, due date per the law), from DOMAIN.
WORKED_EXAMPLES: tuple[tuple[dt.date, str, dt.date], ...] = (
    (dt.date(2026, 3, 20), "3 months", dt.date(2026, 6, 22)),
    (dt.date(2026, 1, 31), "1 month", dt.date(2026, 2, 28)),
    (dt.date(2026, 5, 14), "1 month", dt.date(2026, 6, 15)),
    (dt.date(2026, 9, 28), "7 working days", dt.date(2026, 10, 13)),
)
DEFAULT_N = {"full": 100_000, "quick": 10_000}
DEFAULT_REPEAT = {"full": 5, "quick": 3}
EXAMPLES = 5
PACKAGES = ("SpiffWorkflow", "APScheduler", "python-dateutil")

Case = tuple[dt.date, str]


class Deadlines(Protocol):
    name: str
    uses: str

    def due(self, start: dt.date, period: str) -> dt.date: ...


class DubanDeadlines:
    name = "duban"
    uses = "workflow.calendar: Calendar.load() once, then Calendar.due(start, period).due"

    def __init__(self) -> None:
        self.calendar = Calendar.load()

    def due(self, start: dt.date, period: str) -> dt.date:
        return self.calendar.due(start, period).due


def _spiff() -> Deadlines:
    from bench.peers.spiff_timer import SpiffTimer

    return SpiffTimer()


def _aps_calendar() -> Deadlines:
    from bench.peers.apscheduler_calendar import CalendarInterval

    return CalendarInterval()


def _aps_date() -> Deadlines:
    from bench.peers.apscheduler_calendar import DateTrigger

    return DateTrigger()


#: name -> opener; a peer is imported only in the process that runs it.
CONTESTANTS: dict[str, Callable[[], Deadlines]] = {
    "duban": DubanDeadlines,
    "spiff_timer": _spiff,
    "apscheduler_calendar": _aps_calendar,
    "apscheduler_date": _aps_date,
}
PEERS = tuple(name for name in CONTESTANTS if name != "duban")
#: the module each peer needs; CalendarIntervalTrigger is in APScheduler 3.11 and later only.
NEEDS = {
    "spiff_timer": "SpiffWorkflow",
    "apscheduler_calendar": "apscheduler.triggers.calendarinterval",
    "apscheduler_date": "apscheduler",
}


def available() -> list[str]:
    """The contestants whose packages are installed (the ``bench`` extra)."""
    found = []
    for name in CONTESTANTS:
        try:
            ok = name not in NEEDS or importlib.util.find_spec(NEEDS[name]) is not None
        except ModuleNotFoundError:
            ok = False
        if ok:
            found.append(name)
        else:
            print(f"deadlines: skipping {name}: {NEEDS[name]} is not installed", file=sys.stderr)
    return found


def distinct_cases() -> list[Case]:
    """Every start date of 2024-2026 with every period, plus any worked example not among them."""
    days = (LAST - FIRST).days + 1
    found = [(FIRST + dt.timedelta(days=i), p) for i in range(days) for p in PERIODS]
    seen = set(found)
    return found + [(s, p) for s, p, _ in WORKED_EXAMPLES if (s, p) not in seen]


def cases(n: int) -> list[Case]:
    """N cases: the distinct cases in a fixed shuffled order, repeated as often as N needs."""
    distinct = distinct_cases()
    random.Random(SEED).shuffle(distinct)
    return [distinct[i % len(distinct)] for i in range(n)]


def run(name: str, n: int) -> dict[str, Any]:
    """One timed run: N due dates by contestant *name* in this process."""
    if n < 1:
        raise ValueError("n must be at least 1")
    mix = cases(n)
    began = time.perf_counter_ns()
    contestant = CONTESTANTS[name]()
    setup_ns = time.perf_counter_ns() - began
    due = contestant.due
    began = time.perf_counter_ns()
    dates = [due(start, period) for start, period in mix]
    wall = (time.perf_counter_ns() - began) / 1e9
    return {
        "contestant": name,
        "n": n,
        "wall_s": round(wall, 4),
        "due_per_s": round(n / wall, 1),
        "us_per_due": round(wall / n * 1e6, 3),
        "setup_s": round(setup_ns / 1e9, 3),
        "checksum": hashlib.sha256(",".join(d.isoformat() for d in dates).encode()).hexdigest()[:16],
    }


# ---- conformance ------------------------------------------------------------------------------


def _reason(peer: Deadlines, start: dt.date, period: str, got: dt.date, law: Due, cal: Calendar) -> tuple[str, str]:
    """(category, explanation) of why *got* differs from the law's due date."""
    p = parse_period(period)
    if p.unit == "working_days":
        return "calendar days for working days", f"{p.amount} calendar days; the law counts working days"
    if got == law.raw:
        return (
            "no roll past a rest day",
            f"{law.raw} is {cal.day(law.raw).described}; the law rolls to the next working day",
        )
    if p.unit in ("months", "years") and got > law.raw and law.raw.day < start.day:
        return (
            "month-end overflow into the next month",
            f"{law.raw:%Y-%m} has no day {start.day}; the law takes that month's last day {law.raw}",
        )
    why = getattr(peer, "why", None)  # a peer may know its own reason: (category, explanation) or None
    return (why(start, period, got) if why else None) or ("other", f"the law's raw date is {law.raw}")


def conformance(peer: Deadlines, reference: dict[Case, Due], cal: Calendar) -> dict[str, Any]:
    """How many of the reference cases *peer* answers differently, by period and reason, with examples."""
    differences: list[dict[str, Any]] = []
    by_period = {p: {"cases": 0, "differ": 0} for p in dict.fromkeys(p for _, p in reference)}
    for (start, period), law in reference.items():
        got = peer.due(start, period)
        by_period[period]["cases"] += 1
        if got != law.due:
            by_period[period]["differ"] += 1
            category, why = _reason(peer, start, period, got, law, cal)
            differences.append(
                {
                    "start": start.isoformat(),
                    "period": period,
                    "peer": got.isoformat(),
                    "law": law.due.isoformat(),
                    "days_off": (got - law.due).days,
                    "category": category,
                    "reason": why,
                }
            )
    worked = {(s.isoformat(), p) for s, p, _ in WORKED_EXAMPLES}
    chosen = [d for d in differences if (d["start"], d["period"]) in worked]
    shown = {d["category"] for d in chosen}
    for d in differences:  # then one of each category not shown yet, then any
        if len(chosen) < EXAMPLES and d["category"] not in shown:
            chosen.append(d)
            shown.add(d["category"])
    chosen += [d for d in differences if d not in chosen][: max(0, EXAMPLES - len(chosen))]
    total = len(reference)
    return {
        "uses": peer.uses,
        "cases": total,
        "differ": len(differences),
        "rate": round(len(differences) / total, 4),
        "earlier": sum(d["days_off"] < 0 for d in differences),
        "later": sum(d["days_off"] > 0 for d in differences),
        "by_period": by_period,
        "by_category": dict(Counter(d["category"] for d in differences).most_common()),
        "examples": chosen[:EXAMPLES],
        "worked_examples": {f"{s} + {p}": peer.due(s, p).isoformat() for s, p, _ in WORKED_EXAMPLES},
    }


# ---- the workload -----------------------------------------------------------------------------


def _fresh(name: str, n: int) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(run, name, n).result()


def _calendar_digest(cal: Calendar) -> str:
    digest = hashlib.sha256()
    for year in cal.years:
        with open(cal.files[year], "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:16]


def workload(mode: str, repeat: int | None = None, n: int | None = None) -> dict[str, Any]:
    """The timed runs (fresh process each, contestants alternating) and the peers' conformance."""
    repeat = repeat or DEFAULT_REPEAT[mode]
    n = n or DEFAULT_N[mode]
    names = available()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for k in range(repeat):
        for name in names:
            print(f"deadlines run {k + 1}/{repeat}: {name}, {n:,} due dates ...", end=" ", file=sys.stderr, flush=True)
            result = _fresh(name, n)
            print(f"{result['due_per_s']:,.0f}/s", file=sys.stderr, flush=True)
            runs[name].append(result)
    opened = {name: CONTESTANTS[name]() for name in names}
    cal = Calendar.load()
    reference = {(s, p): cal.due(s, p) for s, p in distinct_cases()}
    duban_worked = {f"{s} + {p}": (reference[s, p].due.isoformat(), law.isoformat()) for s, p, law in WORKED_EXAMPLES}
    wrong = {k: v for k, v in duban_worked.items() if v[0] != v[1]}
    if wrong:
        print(f"WARNING: duban differs from the worked examples (got, expected): {wrong}", file=sys.stderr)
    checksums = {name: sorted({r["checksum"] for r in rs}) for name, rs in runs.items()}
    if len(checksums["duban"]) > 1:
        print("WARNING: duban's due dates changed between runs (calendar files changed?)", file=sys.stderr)
    return {
        "settings": {
            "mode": mode,
            "repeat": repeat,
            "n": n,
            "periods": list(PERIODS),
            "starts": [str(FIRST), str(LAST)],
        },
        "software": {p.lower(): version(p) for p in PACKAGES},
        "calendar": {
            "years": cal.years,
            "files_sha256": _calendar_digest(cal),
            "provisional_cases": sum(d.provisional for d in reference.values()),
        },
        "throughput": {
            name: {
                "uses": opened[name].uses,
                "n": n,
                "runs": len(rs),
                "due_per_s": spread([r["due_per_s"] for r in rs]),
                "us_per_due": spread([r["us_per_due"] for r in rs]),
                "setup_s": spread([r["setup_s"] for r in rs]),
                "raw": rs,
            }
            for name, rs in runs.items()
        },
        "duban_worked_examples": {k: {"duban": v[0], "law": v[1]} for k, v in duban_worked.items()},
        "duban_matches_worked_examples": not wrong,
        "conformance": {name: conformance(opened[name], reference, cal) for name in names if name != "duban"},
    }


# ---- output -----------------------------------------------------------------------------------


def table(report: dict[str, Any]) -> str:
    head = (
        "| contestant | N | due dates/s min / **median** / max | µs per due date | differ from the law "
        "| earlier | later |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    rows = []
    for name, t in report["throughput"].items():
        rate = t["due_per_s"]
        c = report["conformance"].get(name)
        differs = "reference" if c is None else f"{c['differ']:,} / {c['cases']:,} ({c['rate']:.1%})"
        early, late = ("", "") if c is None else (f"{c['earlier']:,}", f"{c['later']:,}")
        rows.append(
            f"| {name} | {t['n']:,} | {rate['min']:,.0f} / **{rate['median']:,.0f}** / {rate['max']:,.0f} "
            f"| {t['us_per_due']['median']:.2f} | {differs} | {early} | {late} |"
        )
    return "\n".join([head, *rows])


def _years(years: Sequence[int]) -> str:
    """2004–2026 when contiguous, else the list."""
    if not years:
        return "none"
    if list(years) == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(map(str, years))


def markdown(report: dict[str, Any]) -> str:
    st, cal = report["settings"], report["calendar"]
    lines = [
        "## Deadlines: due dates per second and conformance to the law",
        "",
        f"{st['mode']} mode, {st['repeat']} run(s) per contestant, {st['n']:,} due dates per run (starts "
        f"{st['starts'][0]}..{st['starts'][1]} × {', '.join(st['periods'])}). Conformance over "
        f"{next(iter(report['conformance'].values()))['cases']:,} distinct cases against duban's `Calendar.due`; "
        f"calendar years loaded: {_years(cal['years'])} "
        f"({cal['provisional_cases']:,} reference answers are provisional: weekends only).",
        "",
        table(report),
        "",
    ]
    if not report["duban_matches_worked_examples"]:
        lines += ["**Warning: duban differs from the worked examples:** " + str(report["duban_worked_examples"]), ""]
    names = list(report["conformance"])
    lines += ["| worked example | law | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for key, v in report["duban_worked_examples"].items():
        cells = [report["conformance"][n]["worked_examples"][key] for n in names]
        lines.append(f"| {key} | {v['law']} | " + " | ".join(cells) + " |")
    for name, c in report["conformance"].items():
        lines += ["", f"**{name}**: {c['uses']}.", ""]
        lines += ["Differences by reason: " + "; ".join(f"{k} {v:,}" for k, v in c["by_category"].items()) + "."]
        per = "; ".join(f"{p} {v['differ']:,}/{v['cases']:,}" for p, v in c["by_period"].items())
        lines += ["", f"By period: {per}.", ""]
        for d in c["examples"]:
            lines.append(f"* {d['start']} + {d['period']}: peer {d['peer']}, law {d['law']} — {d['reason']}")
    sw = report["software"]
    lines += ["", "Software: " + ", ".join(f"{k} {v}" for k, v in sw.items()) + ".", ""]
    return "\n".join(lines)
