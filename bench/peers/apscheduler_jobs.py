"""APScheduler 3.11 as a deadline sweeper: one date-trigger job per deadline step in a SQLAlchemyJobStore.

What someone would build to chase deadlines with APScheduler alone: every reminder or escalation is a
``DateTrigger`` job (``add_job(escalate, "date", run_date=…, misfire_grace_time=None)``) in a
``SQLAlchemyJobStore`` on a SQLite file, so the jobs survive a restart. The store gets an SQLAlchemy
engine with duban's pragmas (WAL, ``synchronous=NORMAL``) rather than the driver's defaults, which
would fsync every job added.

Measured: adding the jobs (one ``INSERT`` of a pickled job, committed, per ``add_job``, through a
started but paused ``BackgroundScheduler``); finding due jobs with ``jobstore.get_due_jobs(now)``,
idle (none due; the store has an index on ``next_run_time``) and loaded (every job due: each one is
unpickled); and running every due job through the scheduler: ``resume()`` until the job function has
run for every job and the store is empty (the scheduler submits each job to its thread pool and
deletes it, one committed ``DELETE`` per job).

APScheduler reads the time with ``datetime.now(...)`` in ``apscheduler.schedulers.base`` and
``apscheduler.executors.base``; :class:`FrozenClock` replaces that name in those two modules so the
jobs can be due "five months later", as duban's ``sweep(now)`` is.

What it does not do, where duban does: the job function :func:`escalate` only counts (no audit row,
no notice rendered or queued); nothing computes the run dates on the official calendar; and a job
store cannot be shared by several schedulers (each job would run in each), so there is no multi-process
figure.
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from apscheduler.executors import base as executors_base
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import base as schedulers_base
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import event

__all__ = ["FrozenClock", "escalate", "run"]

_done = threading.Event()
_lock = threading.Lock()
_ran = 0
_expected = 0


class FrozenClock(dt.datetime):
    """``datetime`` whose ``now()`` is :attr:`instant`: APScheduler's scheduler and executors read the time here."""

    instant = dt.datetime(2026, 3, 20, 1, 0, tzinfo=dt.UTC)

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> Any:
        return cls.instant if tz is None else cls.instant.astimezone(tz)


def escalate(item_id: int, step: int) -> None:
    """The job: counts that it ran (a real one would write an audit row and queue a notice)."""
    global _ran
    with _lock:
        _ran += 1
        if _ran == _expected:
            _done.set()


def _engine(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi: Any, _record: Any) -> None:
        cursor = dbapi.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def run(
    n: int, folder: str, runs_at: list[dt.datetime], idle_at: dt.datetime, due_at: dt.datetime, probes: int
) -> dict[str, Any]:
    """Add *n* date jobs (run dates cycling through *runs_at*), probe for due jobs at *idle_at* and
    *due_at*, then run them all at *due_at* through the scheduler. Returns the figures."""
    global _ran, _expected
    schedulers_base.datetime = FrozenClock  # the clock injection described above
    executors_base.datetime = FrozenClock
    FrozenClock.instant = idle_at
    store = SQLAlchemyJobStore(engine=_engine(Path(folder) / "jobs.db"))
    scheduler = BackgroundScheduler(
        jobstores={"default": store}, executors={"default": ThreadPoolExecutor(10)}, timezone=dt.UTC
    )
    scheduler.start(paused=True)
    try:
        t0 = time.perf_counter()
        for i in range(n):
            scheduler.add_job(
                escalate,
                "date",
                run_date=runs_at[i % len(runs_at)],
                args=(i // len(runs_at) + 1, i % len(runs_at)),
                id=f"{i // len(runs_at) + 1}:{i % len(runs_at)}",
                misfire_grace_time=None,
            )
        add_s = time.perf_counter() - t0

        idle_ms = []
        for _ in range(probes):
            t0 = time.perf_counter()
            found = store.get_due_jobs(idle_at)
            idle_ms.append((time.perf_counter() - t0) * 1000)
            if found:
                raise RuntimeError(f"apscheduler: {len(found)} jobs due at the idle instant")
        t0 = time.perf_counter()
        due = store.get_due_jobs(due_at)
        due_s = time.perf_counter() - t0
        if len(due) != n:
            raise RuntimeError(f"apscheduler: expected {n} due jobs, got {len(due)}")
        del due

        _ran, _expected = 0, n
        _done.clear()
        FrozenClock.instant = due_at
        t0 = time.perf_counter()
        scheduler.resume()  # wakes the scheduler thread: one _process_jobs pass over every due job
        if not _done.wait(timeout=3600):
            raise RuntimeError(f"apscheduler: only {_ran} of {n} jobs ran")
        while store.get_next_run_time() is not None:  # the last DELETEs follow the last submissions
            time.sleep(0.001)
        run_s = time.perf_counter() - t0
        left = len(store.get_all_jobs())
    finally:
        scheduler.shutdown(wait=True)
    if _ran != n or left:
        raise RuntimeError(f"apscheduler: {_ran} of {n} jobs ran, {left} left in the store")
    return {
        "timers": n,
        "add_s": add_s,
        "added_per_s": n / add_s,
        "idle_due_ms": statistics.median(idle_ms),
        "idle_due_ms_all": idle_ms,
        "loaded_get_due_s": due_s,
        "loaded_get_due_per_s": n / due_s,
        "run_s": run_s,
        "ran": _ran,
        "ran_per_s": n / run_s,
        "us_per_job": run_s / n * 1e6,
    }
