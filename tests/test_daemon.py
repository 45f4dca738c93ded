"""The daemon as a library: ``workflow.daemon.start(engine)`` in the application's own process.

Real threads, a real scheduler and the test database; the engine's FakeClock dates the work while the
scheduler keeps wall time, so the tests poll the heartbeat row (with a deadline) instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from conftest import SPAWN, in_processes, to_handling

from workflow import DaemonConflict, Engine, ValidationError
from workflow.daemon import configure_logging, daemons, default_stale_after, start
from workflow.store import TABLES
from workflow.testing import FakeClock

T = TypeVar("T")
_DAEMON = TABLES["duban_daemon"]


def poll(check: Callable[[], T | None], what: str, timeout: float = 60) -> T:
    """Wait until *check* returns something true, for at most *timeout* seconds of wall time."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)  # the scheduler's threads get there on their own; we only look again
    return found


def heartbeat(eng: Engine, daemon_id: str) -> dict[str, Any] | None:
    return next((r for r in daemons(eng) if r["id"] == daemon_id), None)


def escalations(eng: Engine, item_id: int) -> int:
    return sum(h.trigger == "escalate" for h in eng.get(item_id).history)


def insert_row(eng: Engine, daemon_id: str, beat_at: dt.datetime) -> None:
    """A heartbeat row left by a daemon on another host, last heard of at *beat_at*."""
    with eng.db.begin() as conn:
        conn.execute(
            sa.insert(_DAEMON).values(
                id=daemon_id, host="elsewhere", pid=4242, started_at=beat_at, beat_at=beat_at, last_error="old"
            )
        )


def test_embedded_daemon_sweeps_at_the_engine_clock_and_stops_cleanly(engine: Engine, clock: FakeClock) -> None:
    """`start(engine)` returns at once with a running handle; its sweep acts on what is due at the engine's
    clock (each escalation once, however many sweeps run), writes the heartbeat row dated by that clock, and
    `stop()` finishes, marks the row stopped and runs nothing more. The stopped id can be started again."""
    item = to_handling(engine)
    clock.advance(days=100)  # past the reply and co-opinion deadlines: three escalation levels are due
    daemon = start(engine, daemon_id="embedded", sweep_interval=0.05, dispatch_interval=0.05)
    try:
        assert daemon.running and daemon.id == "embedded"
        poll(lambda: escalations(engine, item.id) == 3, "the escalations")
        row = poll(lambda: (r := heartbeat(engine, "embedded")) and r["last_result"] and r, "a recorded sweep")
        assert (row["status"], row["host"], row["pid"]) == ("running", socket.gethostname(), os.getpid())
        assert row["started_at"] == row["beat_at"] == row["last_sweep_at"] == clock()
        assert row["last_result"]["worker"] == "embedded"
        assert row["last_result"]["now"] == clock().isoformat()
        assert daemon.last_result is not None and daemon.last_error is None
    finally:
        daemon.stop()
    assert not daemon.running
    row = heartbeat(engine, "embedded")
    assert row is not None and (row["status"], row["stopped_at"]) == ("stopped", clock())
    clock.advance(days=100)  # more is due now, but nobody sweeps any more
    assert escalations(engine, item.id) == 3
    with start(engine, daemon_id="embedded", sweep_interval=0.05, dispatch_interval=0.05) as again:
        poll(lambda: escalations(engine, item.id) > 3, "the restarted daemon's sweep")
    assert not again.running and heartbeat(engine, "embedded")["status"] == "stopped"  # type: ignore[index]


def test_a_fresh_heartbeat_holds_the_id_and_a_stale_one_is_taken_over(engine: Engine, clock: FakeClock) -> None:
    """A daemon refuses an id whose row has a heartbeat younger than stale_after (3 times the longer
    interval, at least 30 s), naming the host and pid that hold it and the way out; once that heartbeat is
    older, the row is taken over and starts afresh."""
    assert default_stale_after(60, 30) == 180 and default_stale_after(1, 2) == 30
    insert_row(engine, "night", clock() - dt.timedelta(seconds=170))
    with pytest.raises(DaemonConflict) as refused:
        start(engine, daemon_id="night")
    assert "'night' is already running on host elsewhere (pid 4242" in str(refused.value)
    assert "another --id" in str(refused.value) and refused.value.exit_code == 1
    assert heartbeat(engine, "night")["pid"] == 4242  # type: ignore[index]
    clock.advance(seconds=11)
    assert heartbeat(engine, "night")["status"] == "stale"  # type: ignore[index]
    with start(engine, daemon_id="night") as daemon:
        row = heartbeat(engine, "night")
        assert row is not None and daemon.running
        assert (row["host"], row["pid"], row["started_at"], row["status"]) == (
            socket.gethostname(),
            os.getpid(),
            clock(),
            "running",
        )
        assert row["last_error"] is None and row["stopped_at"] is None
        with pytest.raises(DaemonConflict, match=f"pid {os.getpid()}"):
            start(engine, daemon_id="night")


def test_a_shorter_stale_after_takes_over_sooner(engine: Engine, clock: FakeClock) -> None:
    """`stale_after` sets how long a silent daemon keeps its id."""
    insert_row(engine, "short", clock() - dt.timedelta(seconds=20))
    with pytest.raises(DaemonConflict):
        start(engine, daemon_id="short", stale_after=30)
    with start(engine, daemon_id="short", stale_after=10, sweep_interval=3600, dispatch_interval=3600):
        assert heartbeat(engine, "short")["pid"] == os.getpid()  # type: ignore[index]


def test_a_daemon_whose_row_was_taken_over_stops_itself(engine: Engine, clock: FakeClock) -> None:
    """If another process takes the heartbeat row over (this daemon looked dead to it), this daemon stops
    at its next heartbeat instead of running on under the same id, says who took it, and leaves the row to
    the new owner."""
    daemon = start(engine, daemon_id="moved", sweep_interval=0.05, dispatch_interval=0.05)
    try:
        poll(lambda: (r := heartbeat(engine, "moved")) and r["last_sweep_at"], "the first sweep")
        with engine.db.begin() as conn:
            conn.execute(sa.update(_DAEMON).where(_DAEMON.c.id == "moved").values(host="elsewhere", pid=4242))
        assert daemon.wait(60), "the daemon kept running"
        assert not daemon.running and daemon.displaced_by is not None
        assert daemon.displaced_by.startswith("host elsewhere pid 4242")
    finally:
        daemon.stop()
    row = heartbeat(engine, "moved")
    assert row is not None and (row["host"], row["pid"], row["stopped_at"]) == ("elsewhere", 4242, None)


def _register_at_once(db_url: str, barrier: Any, out: Any) -> None:
    eng = Engine(db_url, migrate=False)
    barrier.wait()
    try:
        daemon = start(eng, daemon_id="twin", sweep_interval=3600, dispatch_interval=3600)
    except DaemonConflict:
        out.put("refused")
        barrier.wait()
    else:
        out.put("started")
        barrier.wait()  # everyone has tried before the winner lets go of the id
        daemon.stop()
    eng.close()


def test_daemons_registering_one_id_at_the_same_moment_start_once(engine: Engine, db_url: str) -> None:
    """Of four processes starting a daemon with the same id at the same instant, exactly one starts; the
    others get DaemonConflict (no lost update, no crash on the primary key)."""
    barrier = SPAWN.Barrier(4)
    results = in_processes(_register_at_once, [(db_url, barrier)] * 4)
    assert sorted(results) == ["refused", "refused", "refused", "started"]
    assert heartbeat(engine, "twin")["status"] == "stopped"  # type: ignore[index]


def test_a_failing_sweep_is_logged_recorded_and_retried_with_backoff(
    engine: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """When the sweep's statements fail (here: the deadline table is renamed away under it), the daemon
    keeps running: it logs each database error as one line with its retry delay (1 s, then 2 s, … instead of
    the sweep interval), records it on the heartbeat row, and once the table is back it sweeps what is due
    by itself and logs that it recovered."""
    caplog.set_level(logging.INFO, logger="duban")
    item = to_handling(engine)
    clock.advance(days=100)

    def failures() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage() == "database error" and vars(r)["job"] == "sweep"]

    with engine.db.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE duban_deadline RENAME TO duban_deadline_away")
    daemon = start(engine, daemon_id="faulty", sweep_interval=10, dispatch_interval=3600)
    try:
        try:
            poll(lambda: len(failures()) >= 2, "a retry")
            row = heartbeat(engine, "faulty")
            assert row is not None and "duban_deadline" in row["last_error"] and row["last_error_at"] == clock()
            assert daemon.running and daemon.last_error
            with engine.db.connect() as conn:  # Engine.get reads the missing table too
                assert conn.exec_driver_sql("SELECT count(*) FROM duban_audit WHERE trigger = 'escalate'").scalar() == 0
        finally:
            with engine.db.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE duban_deadline_away RENAME TO duban_deadline")
        poll(lambda: escalations(engine, item.id) == 3, "the sweep after the fault")
        poll(lambda: any(r.getMessage() == "recovered" for r in caplog.records), "the recovery")
    finally:
        daemon.stop()
    assert all(r.levelno == logging.ERROR and r.exc_info is None for r in failures())  # one line, no traceback
    first, second = (vars(r) for r in failures()[:2])
    assert (first["daemon"], first["failures"], first["retry_in"]) == ("faulty", 1, 1.0)
    assert (second["failures"], second["retry_in"]) == (2, 2.0)
    assert second["created"] - first["created"] >= 0.9  # it waited the backoff, not the 10 s interval
    assert "duban_deadline" in first["error"]


def test_bad_arguments_are_validation_errors(engine: Engine) -> None:
    """Intervals must be positive, the batch at least 1 and the id 1 to 64 characters; nothing is registered."""
    for kwargs, field in (
        ({"sweep_interval": 0}, "sweep_interval"),
        ({"dispatch_interval": -1}, "dispatch_interval"),
        ({"batch": 0}, "batch"),
        ({"daemon_id": "x" * 65}, "id"),
        ({"daemon_id": " "}, "id"),
    ):
        with pytest.raises(ValidationError) as bad:
            start(engine, **kwargs)
        assert bad.value.field == field
    assert daemons(engine) == []


@pytest.fixture
def duban_loggers() -> Iterator[None]:
    """configure_logging changes process-wide loggers: put them back for the other tests."""
    saved = [
        (lg, list(lg.handlers), lg.level, lg.propagate)
        for lg in (logging.getLogger("duban"), logging.getLogger("apscheduler"))
    ]
    yield
    for lg, handlers, level, propagate in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate


@pytest.mark.usefixtures("duban_loggers")
def test_logs_are_one_json_object_a_line_or_readable_text() -> None:
    """`configure_logging("json")` writes one JSON object a line (ts, level, logger, event, and the extra
    fields such as the sweep's counts and duration); "text" writes `ts LEVEL logger: event key=value`; a
    second call replaces the first handler instead of doubling every line."""
    sink = io.StringIO()
    configure_logging("json", stream=sink)
    configure_logging("json", stream=sink)
    sweep = {"worker": "d1", "counts": {"claimed": 2, "escalations": 1}, "duration_ms": 3.5}
    logging.getLogger("duban.sweep").info("sweep", extra={"sweep": sweep})
    logging.getLogger("duban.daemon").debug("not shown at info")
    [line] = sink.getvalue().splitlines()
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["event"], entry["sweep"]) == ("info", "duban.sweep", "sweep", sweep)
    assert dt.datetime.fromisoformat(entry["ts"]).tzinfo is not None
    text = io.StringIO()
    configure_logging("text", level="debug", stream=text)
    logging.getLogger("duban.daemon").error("database error", extra={"daemon": "d1", "retry_in": 2.0})
    assert text.getvalue().rstrip().endswith("ERROR   duban.daemon: database error daemon=d1 retry_in=2.0")
    assert sink.getvalue().count("\n") == 1
    with pytest.raises(ValidationError, match="text or json"):
        configure_logging("xml")
