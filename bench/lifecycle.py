"""The lifecycle benchmark: N deputies' suggestions, each from submission to closed, on SQLite.

One lifecycle is 1 submit + 11 fires = 12 operations, each its own transaction with its audit row.
Every contestant drives the same steps through the small :class:`Contestant` interface, so the
driver's own overhead (one Python call and two clock reads per operation) is the same for all.

:func:`run` does one measured run in the current process: a fresh database file in a temporary
folder, N lifecycles, a check that every item ended ``closed``, and the figures. ``python -m bench``
calls it in a fresh process per run so that peak RSS belongs to one contestant and one run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import resource
import sqlite3
import tempfile
import time
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "CONTESTANTS",
    "OPERATIONS",
    "PERCENTILES",
    "STEPS",
    "SUBMISSION",
    "BenchmarkError",
    "Contestant",
    "DubanContestant",
    "Step",
    "open_contestant",
    "percentile",
    "run",
]

UNITS = ("市交通运输局", "市民政局", "市住房和城乡建设局")
LEAD, CO1, CO2 = UNITS
DEPUTY = "王芳"
START = dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC)

#: Who fires a step: (role, party), e.g. ("unit", "市民政局"); ("office", None) for the office.
Who = tuple[str, str | None]
OFFICE: Who = ("office", None)

SUBMISSION: Mapping[str, Any] = {"title": "关于增加通勤班车密度的建议", "origin": "session", "proposers": [DEPUTY]}


@dataclass(frozen=True, slots=True)
class Step:
    label: str  # names the operation in per-operation figures
    trigger: str
    actor: Who
    data: Mapping[str, Any]


STEPS: tuple[Step, ...] = (
    Step("register", "register", OFFICE, {}),
    Step("assign", "assign", OFFICE, {"lead_unit": LEAD, "co_units": [CO1, CO2]}),
    Step("accept co1", "accept", ("unit", CO1), {}),
    Step("accept co2", "accept", ("unit", CO2), {}),
    Step("accept lead", "accept", ("unit", LEAD), {}),  # -> handling
    Step("co_opinion co1", "submit_co_opinion", ("unit", CO1), {"opinion": "同意"}),
    Step("co_opinion co2", "submit_co_opinion", ("unit", CO2), {"opinion": "同意"}),
    Step("record_contact", "record_contact", ("unit", LEAD), {"stage": "before", "method": "visit"}),
    Step("reply", "reply", ("unit", LEAD), {"category": "A", "text": "已解决", "signer": "张局长"}),
    Step("evaluate", "evaluate", ("deputy", DEPUTY), {"result": "satisfied"}),
    Step("close", "close", OFFICE, {}),
)
OPERATIONS: tuple[str, ...] = ("submit", *(s.label for s in STEPS))
PERCENTILES = (50, 95, 99)


class BenchmarkError(RuntimeError):
    """A run did not do what it claims to measure (e.g. an item did not end closed)."""


class Contestant(Protocol):
    """What the driver needs of an implementation; each call is one transaction."""

    def submit(self, at: dt.datetime, fields: Mapping[str, Any]) -> int: ...

    def fire(self, item_id: int, trigger: str, actor: Who, at: dt.datetime, data: Mapping[str, Any]) -> object: ...

    def count(self, state: str) -> int: ...

    def close(self) -> None: ...


class DubanContestant:
    """duban's public API, called as the README shows; the engine creates its schema on open."""

    def __init__(self, folder: Path, durability: str) -> None:
        from workflow import Actor, Engine

        self.engine = Engine(f"sqlite:///{folder}/duban.db", durability=durability)
        for k, unit in enumerate(UNITS):  # with addresses: the assign and reply fires render and queue notices
            self.engine.add_party("unit", unit, handler=f"承办人{k}", contacts={"handler": f"unit{k}@gov.example"})
        self.engine.add_party("deputy", DEPUTY, contacts={"address": "wangfang@rd.example"})
        self._actors = {who: Actor(*who) for who in {s.actor for s in STEPS}}

    def submit(self, at: dt.datetime, fields: Mapping[str, Any]) -> int:
        return self.engine.submit("suggestion", at=at, **fields).id

    def fire(self, item_id: int, trigger: str, actor: Who, at: dt.datetime, data: Mapping[str, Any]) -> object:
        return self.engine.fire(item_id, trigger, actor=self._actors[actor], at=at, **data)

    def count(self, state: str) -> int:
        return len(self.engine.items(state=state))

    def close(self) -> None:
        self.engine.close()


def open_naive(folder: Path, durability: str) -> Contestant:
    from bench.peers.naive import NaiveContestant

    return NaiveContestant(folder, durability)


#: name -> opener(folder, durability); the naive peer is imported only in the process that runs it.
def open_raw(folder: Path, durability: str) -> Contestant:
    from bench.raw import RawContestant

    return RawContestant(folder, durability)


def open_spiff(folder: Path, durability: str) -> Contestant:
    from bench.peers.spiff_lifecycle import open_spiff as opener

    return opener(folder, durability)


CONTESTANTS = {"duban": DubanContestant, "naive": open_naive, "spiff": open_spiff, "raw": open_raw}


def open_contestant(name: str, folder: Path, durability: str) -> Contestant:
    if name not in CONTESTANTS:
        raise ValueError(f"unknown contestant {name!r}; known: {', '.join(CONTESTANTS)}")
    opener: Any = CONTESTANTS[name]
    contestant: Contestant = opener(folder, durability)
    return contestant


def percentile(ordered: Sequence[int] | Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])


def _latency_us(values: Sequence[int]) -> dict[str, float]:
    ordered = sorted(values)
    figures = {f"p{q}": percentile(ordered, q) / 1000 for q in PERCENTILES}
    figures["mean"] = sum(ordered) / len(ordered) / 1000
    figures["max"] = ordered[-1] / 1000
    return {k: round(v, 1) for k, v in figures.items()}


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


class StatementCounter:
    """Counts the SQL statements every sqlite3 connection opened while installed sends to SQLite
    (BEGIN and COMMIT included), once :meth:`start` is called: it wraps ``sqlite3.connect``, which
    SQLAlchemy and the plain-sqlite3 contestants all go through, so every contestant is counted alike
    (SQLite's trace callback sees each statement it runs, including each row of an ``executemany``).
    Nothing is traced before :meth:`start`, so the timed lifecycles carry no tracing cost."""

    def __init__(self) -> None:
        self.count = 0
        self._connections: list[sqlite3.Connection] = []
        self._connect = sqlite3.connect

    def __enter__(self) -> StatementCounter:
        def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            conn = self._connect(*args, **kwargs)
            self._connections.append(conn)
            return conn

        # SQLAlchemy calls sqlite3.dbapi2.connect, the plain contestants sqlite3.connect
        sqlite3.connect = sqlite3.dbapi2.connect = connect  # type: ignore[assignment]
        return self

    def start(self) -> None:
        def count(_statement: str) -> None:
            self.count += 1

        for conn in self._connections:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed meanwhile
                conn.set_trace_callback(count)

    def __exit__(self, *exc: object) -> None:
        sqlite3.connect = sqlite3.dbapi2.connect = self._connect


def _lifecycles(contestant: Contestant, first: int, n: int, latencies: array[int] | None = None) -> None:
    clock, per, k = time.perf_counter_ns, len(OPERATIONS), 0
    for i in range(first, first + n):
        at = START + dt.timedelta(seconds=i)  # every fire of an item at the same instant
        t = clock()
        item_id = contestant.submit(at, SUBMISSION)
        if latencies is not None:
            latencies[k] = clock() - t
            k += 1
        for step in STEPS:
            t = clock()
            contestant.fire(item_id, step.trigger, step.actor, at, step.data)
            if latencies is not None:
                latencies[k] = clock() - t
                k += 1
    assert latencies is None or k == per * n


#: lifecycles run after the timed ones with every statement counted
COUNTED = 10


def run(name: str, n: int, durability: str = "normal") -> dict[str, Any]:
    """One measured run of *n* lifecycles with contestant *name*; returns its figures.

    Wall time covers the N lifecycles only: not opening the database (schema creation), adding the
    three units, the final check that all N items are closed, or the :data:`COUNTED` lifecycles run
    afterwards with SQLite tracing on to count statements per operation.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    per = len(OPERATIONS)
    clock = time.perf_counter_ns
    latencies = array("q", bytes(8 * n * per))
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp, StatementCounter() as statements:
        folder = Path(tmp)
        began = clock()
        contestant = open_contestant(name, folder, durability)
        setup_ns = clock() - began
        rss_after_setup = _peak_rss_mib()
        try:
            began = clock()
            _lifecycles(contestant, 0, n, latencies)
            wall_ns = clock() - began
            closed = contestant.count("closed")
            peak_rss = _peak_rss_mib()
            db_bytes = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
            statements.start()
            _lifecycles(contestant, n, COUNTED)
            counted = statements.count
        finally:
            contestant.close()
    if closed != n:
        raise BenchmarkError(f"{name}: {closed} of {n} items are closed at the end of the run")
    wall = wall_ns / 1e9
    return {
        "contestant": name,
        "n": n,
        "operations": n * per,
        "wall_s": round(wall, 3),
        "lifecycles_per_s": round(n / wall, 2),
        "operations_per_s": round(n * per / wall, 1),
        "latency_us": _latency_us(latencies),
        "per_operation_us": {op: _latency_us(latencies[j::per]) for j, op in enumerate(OPERATIONS)},
        "setup_s": round(setup_ns / 1e9, 3),
        "rss_after_setup_mib": round(rss_after_setup, 1),
        "peak_rss_mib": round(peak_rss, 1),
        "statements_per_operation": round(counted / (COUNTED * per), 2),
        "database_mib": round(db_bytes / 2**20, 2),
    }
