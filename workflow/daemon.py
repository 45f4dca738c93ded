"""The daemon: sweep due deadlines and send the outbox on a timer, with a heartbeat in the database.

Embedded in an application's own process::

    from workflow.daemon import start
    daemon = start(engine, sweep_interval=60)
    ...
    daemon.stop()            # the job in hand finishes and commits; the heartbeat row is marked stopped

or, blocking until SIGTERM or SIGINT, :func:`run` (what ``duban daemon`` does). An application with a
scheduler of its own calls ``engine.sweep(now)`` from it instead: nothing a daemon holds in memory
matters, and any number of them may sweep one database (deadlines are claimed with leases).

Each daemon has an id (default ``host-pid``) and a row in ``duban_daemon``: every job run writes
``beat_at``, a sweep writes ``last_sweep_at`` and ``last_result``, a failure ``last_error``. A
second daemon with the id of one whose heartbeat is fresh refuses to start (:class:`DaemonConflict`);
a stale or stopped row is taken over. When the database goes away the jobs log it and try again
after 1, 2, 4 … seconds (at most the job's interval, and 60 s), until it is back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import os
import signal
import socket
import sqlite3
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

import sqlalchemy as sa
from apscheduler.events import EVENT_SCHEDULER_START
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler, SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import IntegrityError

from workflow.engine import Engine
from workflow.errors import DaemonConflict, ValidationError
from workflow.store import TABLES, reading
from workflow.sweep import SweepResult

__all__ = [
    "Daemon",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
    "daemons",
    "default_id",
    "default_stale_after",
    "run",
    "start",
]

log = logging.getLogger("duban.daemon")
_DAEMON = TABLES["duban_daemon"]
SWEEP, DISPATCH = "sweep", "dispatch"
MAX_BACKOFF = 60.0
#: The longest interval between sweeps or sends, in seconds: a day (deadlines fall due by the day).
MAX_INTERVAL = 86_400.0
#: The longest a heartbeat may be silent before its daemon counts as gone, in seconds: a week.
MAX_STALE_AFTER = 7 * 86_400.0
DISPATCH_LIMIT = 100  # notices claimed at a time; a run claims again until fewer come back


def default_id() -> str:
    """``host-pid``, cut to the 64 characters the heartbeat table (and a deadline's lease) holds."""
    pid = str(os.getpid())
    return f"{socket.gethostname()[: 63 - len(pid)]}-{pid}"


def default_stale_after(sweep_interval: float = 60.0, dispatch_interval: float = 30.0) -> float:
    """How old a heartbeat may be before its daemon counts as gone: 3 of the longer interval, at least 30 s."""
    return max(30.0, 3 * max(sweep_interval, dispatch_interval))


class Daemon:
    """A daemon started by :func:`start`: it runs until :meth:`stop`; ``running`` says whether it does.

    ``last_result`` is the last sweep's :class:`~workflow.sweep.SweepResult`, ``last_error`` the last
    failure's one-line message (cleared by the next success); the heartbeat row holds the same.
    """

    def __init__(
        self,
        engine: Engine,
        scheduler: Callable[..., BaseScheduler],
        *,
        daemon_id: str | None,
        sweep_interval: float,
        dispatch_interval: float,
        batch: int,
        stale_after: float | None,
    ) -> None:
        for name, value, most in (
            ("sweep_interval", sweep_interval, MAX_INTERVAL),
            ("dispatch_interval", dispatch_interval, MAX_INTERVAL),
            ("stale_after", 1.0 if stale_after is None else stale_after, MAX_STALE_AFTER),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= most:
                shown = f"{value!r}" if not isinstance(value, float) or math.isfinite(value) else f"{value}"
                raise ValidationError(name, f"must be a number of seconds above 0 and at most {most:g}, not {shown}")
        if batch < 1:
            raise ValidationError("batch", f"must be at least 1, not {batch!r}")
        self.id = default_id() if daemon_id is None else daemon_id.strip()
        if not 0 < len(self.id) <= 64:
            raise ValidationError("id", f"must be 1 to 64 characters, not {daemon_id!r}")
        self.engine = engine
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()
        self.intervals = {SWEEP: float(sweep_interval), DISPATCH: float(dispatch_interval)}
        self.batch = batch
        self.stale_after = (
            default_stale_after(sweep_interval, dispatch_interval) if stale_after is None else stale_after
        )
        self.started_at: dt.datetime | None = None
        self.last_result: SweepResult | None = None
        self.last_error: str | None = None
        #: Set when another process took this daemon's heartbeat row: the daemon stops itself.
        self.displaced_by: str | None = None
        self._failures = {SWEEP: 0, DISPATCH: 0}
        # Guards _stopping against a job rescheduling itself while stop() shuts the scheduler down:
        # shutdown holds the scheduler's job-store lock while it waits for the job in hand.
        self._lock = threading.Lock()
        self._stopping = False
        self._stopped = threading.Event()
        self._scheduler = scheduler(
            timezone=dt.UTC,
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )

    # ---- life cycle -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True from start until stop (or until the daemon stopped itself)."""
        return bool(self._scheduler.running) and not self._stopping

    def stop(self, wait: bool = True) -> None:
        """Stop: the job in hand finishes and commits, the heartbeat row gets ``stopped_at``, the
        scheduler shuts down. With ``wait=False`` this happens in the background and returns at once.
        Calling it again waits for (or leaves to) the first call. Not from inside a job."""
        if not wait:
            threading.Thread(target=self.stop, name=f"duban-stop-{self.id}").start()
            return
        with self._lock:
            first, self._stopping = not self._stopping, True
        if not first:
            self._stopped.wait()
            return
        log.info("daemon stopping", extra={"daemon": self.id})
        with contextlib.suppress(SchedulerNotRunningError):  # stopped before it started
            self._scheduler.shutdown(wait=True)
        self._mark_stopped()
        self._stopped.set()
        log.info("daemon stopped", extra={"daemon": self.id})

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the daemon has stopped (or *timeout* seconds passed); True if it has."""
        return self._stopped.wait(timeout)

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _begin(self) -> None:
        """Register the heartbeat row and add both jobs, each first run at once."""
        self.started_at = _register(self.engine, self.id, self.host, self.pid, self.stale_after)
        now = dt.datetime.now(dt.UTC)  # the scheduler keeps wall time; the engine's clock dates the work
        for name, interval in self.intervals.items():
            self._scheduler.add_job(
                self._job, "interval", args=[name], id=name, name=name, seconds=interval, next_run_time=now
            )
        log.info(
            "daemon started",
            extra={
                "daemon": self.id,
                "host": self.host,
                "pid": self.pid,
                "db": sa.engine.make_url(self.engine.url).render_as_string(hide_password=True),
                "sweep_interval": self.intervals[SWEEP],
                "dispatch_interval": self.intervals[DISPATCH],
                "batch": self.batch,
            },
        )

    # ---- the jobs -------------------------------------------------------------------------

    def _job(self, name: str) -> None:
        """One run of a job. Never raises: an exception here would only be logged by APScheduler,
        and the backoff below is what keeps a dead database from being hammered."""
        if self._stopping:
            return
        try:
            now = self.engine.clock()
            if name == SWEEP:
                result = self.engine.sweep(
                    now, batch=self.batch, dispatch=False, worker=self.id, stop=lambda: self._stopping
                )
                self.last_result = result
                self._beat({"last_sweep_at": now, "last_result": result.to_dict()})
            else:
                self._dispatch(now)
                self._beat({})
        except Exception as exc:
            self._failed(name, exc)
            return
        if self._failures[name]:
            log.info("recovered", extra={"daemon": self.id, "job": name, "failures": self._failures[name]})
        self._failures[name] = 0
        self.last_error = None

    def _dispatch(self, now: dt.datetime) -> None:
        """Dispatch batch after batch, each over one SMTP connection and at the clock's time then: a
        batch's leases run from when it claims, not from when the job started."""
        total: dict[str, int] = {}
        while True:
            counts = self.engine.dispatch(now, limit=DISPATCH_LIMIT)
            now = self.engine.clock()
            for key, value in counts.items():
                total[key] = total.get(key, 0) + value
            if counts["claimed"] < DISPATCH_LIMIT or self._stopping:
                break
        if total.get("claimed"):
            log.info("dispatch", extra={"daemon": self.id, "dispatch": total})

    def _beat(self, values: dict[str, Any]) -> None:
        """Write the heartbeat; a row that is no longer this daemon's means another took its place."""
        with self.engine.db.begin() as conn:
            done = conn.execute(sa.update(_DAEMON).where(self._mine()).values(beat_at=self.engine.clock(), **values))
        if done.rowcount == 0 and not self._stopping:
            self._displaced()

    def _mine(self) -> sa.ColumnElement[bool]:
        return sa.and_(
            _DAEMON.c.id == self.id,
            _DAEMON.c.host == self.host,
            _DAEMON.c.pid == self.pid,
            _DAEMON.c.started_at == self.started_at,
        )

    def _displaced(self) -> None:
        with reading(self.engine.db) as conn:
            row = conn.execute(sa.select(_DAEMON).where(_DAEMON.c.id == self.id)).mappings().first()
        self.displaced_by = (
            f"host {row['host']} pid {row['pid']} (started {row['started_at'].isoformat()})"
            if row
            else "nobody: the row was deleted"
        )
        log.error(
            "heartbeat row taken over; stopping",
            extra={"daemon": self.id, "taken_by": self.displaced_by},
        )
        self.stop(wait=False)  # we are inside a job: stop() would wait for ourselves

    def _failed(self, name: str, exc: Exception) -> None:
        """Log the failure, record it on the heartbeat row if the database answers, and run the job
        again after an exponential backoff instead of at its next interval."""
        self._failures[name] += 1
        failures = self._failures[name]
        delay = min(2.0 ** (failures - 1), MAX_BACKOFF, self.intervals[name])
        message = one_line(exc)
        self.last_error = message
        fields = {"daemon": self.id, "job": name, "error": message, "failures": failures, "retry_in": delay}
        if database_error(exc):  # the message says it all
            log.error("database error", extra=fields)
        else:  # a bug or a bad definition: the traceback helps
            log.error("job failed", extra=fields, exc_info=exc)
        try:
            with self.engine.db.begin() as conn:
                now = self.engine.clock()
                conn.execute(
                    sa.update(_DAEMON).where(self._mine()).values(beat_at=now, last_error=message, last_error_at=now)
                )
        except Exception as again:  # most likely the same outage; the log line above has it
            log.debug("could not record the error", extra={"daemon": self.id, "error": one_line(again)})
        with self._lock:
            if self._stopping:
                return
            try:
                when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
                self._scheduler.modify_job(name, next_run_time=when)
            except Exception as odd:  # the job keeps its own interval then
                log.warning("could not reschedule", extra={"daemon": self.id, "job": name, "error": one_line(odd)})

    def _mark_stopped(self) -> None:
        try:
            with self.engine.db.begin() as conn:
                now = self.engine.clock()
                conn.execute(sa.update(_DAEMON).where(self._mine()).values(beat_at=now, stopped_at=now))
        except Exception as exc:  # the row goes stale instead, which reads the same to the next daemon
            log.warning("could not mark the heartbeat row stopped", extra={"daemon": self.id, "error": one_line(exc)})


def start(
    engine: Engine,
    *,
    daemon_id: str | None = None,
    sweep_interval: float = 60.0,
    dispatch_interval: float = 30.0,
    batch: int = 500,
    stale_after: float | None = None,
) -> Daemon:
    """Start a daemon in background threads of this process and return its handle.

    Every *sweep_interval* seconds it runs ``engine.sweep`` (without dispatch, *batch* deadlines a
    claim), every *dispatch_interval* seconds ``engine.dispatch``; both run at once on start, each
    never twice at the same time. ``now`` is ``engine.clock()``. Raises :class:`DaemonConflict` if a
    daemon with the same id (default ``host-pid``) has a heartbeat younger than *stale_after* seconds.
    """
    daemon = Daemon(
        engine,
        BackgroundScheduler,
        daemon_id=daemon_id,
        sweep_interval=sweep_interval,
        dispatch_interval=dispatch_interval,
        batch=batch,
        stale_after=stale_after,
    )
    daemon._begin()
    daemon._scheduler.start()
    return daemon


def run(
    engine: Engine,
    *,
    daemon_id: str | None = None,
    sweep_interval: float = 60.0,
    dispatch_interval: float = 30.0,
    batch: int = 500,
    stale_after: float | None = None,
) -> None:
    """Run a daemon in the foreground until SIGTERM or SIGINT, then stop it gracefully (the batch in
    hand finishes and commits) and return. Call it from the main thread; see :func:`start` for the rest.
    Raises :class:`DaemonConflict` if the id is taken at start, or if another process took the
    heartbeat row over while this one ran (it stops then)."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("run() handles signals, so it needs the main thread; use start() elsewhere")
    daemon = Daemon(
        engine,
        BlockingScheduler,
        daemon_id=daemon_id,
        sweep_interval=sweep_interval,
        dispatch_interval=dispatch_interval,
        batch=batch,
        stale_after=stale_after,
    )
    # A signal handler may run between any two bytecodes of the main thread, even while it holds a
    # lock the scheduler's shutdown needs, so the handler only writes the signal's number to a pipe;
    # a thread started once the scheduler runs reads it and stops the daemon.
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)

    def on_signal(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):  # the pipe is full: a stop is already on its way
            os.write(write_end, bytes([signum]))

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    stopper = threading.Thread(target=_await_signal, args=(daemon, read_end), name="duban-signals", daemon=True)
    try:
        daemon._begin()
        daemon._scheduler.add_listener(lambda _event: stopper.start(), EVENT_SCHEDULER_START)
        daemon._scheduler.start()  # returns once a stop has shut the scheduler down
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.write(write_end, b"\0")  # lets the signal thread end if no signal came
        if stopper.is_alive():
            stopper.join()
        if daemon.started_at is not None:
            daemon.stop()
        os.close(read_end)
        os.close(write_end)
    if daemon.displaced_by:
        raise DaemonConflict(f"daemon {daemon.id!r} stopped: its heartbeat row was taken over by {daemon.displaced_by}")


def _await_signal(daemon: Daemon, fd: int) -> None:
    number = os.read(fd, 1)
    if number and number[0]:
        log.info("signal received", extra={"daemon": daemon.id, "signal": signal.Signals(number[0]).name})
        daemon.stop()


def _register(engine: Engine, daemon_id: str, host: str, pid: int, stale_after: float) -> dt.datetime:
    """Insert or take over the heartbeat row for *daemon_id*; returns its ``started_at``.

    The row is read locked (``FOR UPDATE``; SQLite's writer lock does the same), so of two daemons
    taking over one stale row the second sees the first's fresh heartbeat; of two inserting a new id
    the second hits the primary key and, on its next try, the first's row.
    """
    for _ in range(3):
        now = engine.clock()
        values = {
            "host": host,
            "pid": pid,
            "started_at": now,
            "beat_at": now,
            "last_sweep_at": None,
            "last_result": None,
            "last_error": None,
            "last_error_at": None,
            "stopped_at": None,
        }
        try:
            with engine.db.begin() as conn:
                row = (
                    conn.execute(sa.select(_DAEMON).where(_DAEMON.c.id == daemon_id).with_for_update())
                    .mappings()
                    .first()
                )
                if row is None:
                    conn.execute(sa.insert(_DAEMON).values(id=daemon_id, **values))
                elif _status(row, now, stale_after) == "running":
                    age = (now - row["beat_at"]).total_seconds()
                    raise DaemonConflict(
                        f"daemon {daemon_id!r} is already running on host {row['host']} (pid {row['pid']}, "
                        f"last heartbeat {age:.0f} s ago); start this one with another --id, or stop that one "
                        f"(or wait until its heartbeat is {stale_after:.0f} s old)"
                    )
                else:
                    conn.execute(sa.update(_DAEMON).where(_DAEMON.c.id == daemon_id).values(**values))
            return now
        except IntegrityError:
            continue  # another daemon inserted this id at the same moment: read its row again
    raise DaemonConflict(f"daemon {daemon_id!r}: could not register, other daemons keep registering this id")


def _status(row: Any, now: dt.datetime, stale_after: float) -> str:
    if row["stopped_at"] is not None:
        return "stopped"
    return "running" if (now - row["beat_at"]).total_seconds() < stale_after else "stale"


def daemons(engine: Engine, *, stale_after: float | None = None) -> list[dict[str, Any]]:
    """Every heartbeat row, by id, with ``status``: running, stale (no heartbeat for *stale_after*
    seconds, default that of the default intervals) or stopped."""
    stale_after = default_stale_after() if stale_after is None else stale_after
    now = engine.clock()
    with reading(engine.db) as conn:
        rows = conn.execute(sa.select(_DAEMON).order_by(_DAEMON.c.id)).mappings().all()
    return [{**row, "status": _status(row, now, stale_after)} for row in rows]


def database_error(exc: BaseException) -> bool:
    """Whether *exc* came from the database driver, wrapped by SQLAlchemy or raw (prepared statements
    run straight on the DBAPI cursor)."""
    if isinstance(exc, (sa.exc.DBAPIError, sa.exc.DisconnectionError, sqlite3.Error)):
        return True
    return any(c.__module__.split(".")[0] in ("psycopg", "psycopg2") for c in type(exc).__mro__)


def one_line(exc: BaseException) -> str:
    """An exception as one line: the driver's own message for database errors, without SQL or links."""
    inner = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    text = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {text[0] if text else ''}"[:500]


# ---- logs -------------------------------------------------------------------------------------

_RECORD_KEYS = {*vars(logging.LogRecord("", 0, "", 0, "", None, None)), "message", "asctime", "taskName"}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """What the caller passed as ``extra=``: every attribute a plain LogRecord does not have."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_KEYS and not k.startswith("_")}


def _ts(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts (UTC), level, logger, event, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _ts(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``ts LEVEL logger: event key=value …`` for people reading a terminal or journal."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [f"{_ts(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"]
        for key, value in _fields(record).items():
            shown = (
                value if isinstance(value, (str, int, float)) else json.dumps(value, ensure_ascii=False, default=str)
            )
            parts.append(f"{key}={shown}")
        text = " ".join(map(str, parts))
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure_logging(fmt: str = "text", level: int | str = logging.INFO, stream: TextIO | None = None) -> None:
    """Send the ``duban`` loggers (``duban.daemon``, ``duban.sweep``) to *stream* (default stderr)
    as ``text`` or ``json`` lines; APScheduler's own logs only from warnings up. Calling it again
    replaces the handler it installed before."""
    if fmt not in ("text", "json"):
        raise ValidationError("--log-format", f"must be text or json, not {fmt!r}")
    level = logging.getLevelNamesMapping()[level.upper()] if isinstance(level, str) else level
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.set_name("duban")
    for name, at in (("duban", level), ("apscheduler", max(level, logging.WARNING))):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == "duban"]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(at)
        logger.propagate = False
