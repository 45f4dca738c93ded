"""`duban sweep`, `duban daemon` and `duban daemons`: one pass for cron, the daemon as a real process
stopped by signals, refusing a taken id, taking over a stale one, failing to start with one clear line,
and living through a PostgreSQL outage on a throw-away cluster of its own.

The daemon runs with the real clock; the tests poll its heartbeat row and log (with a deadline).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from conftest import to_handling

from workflow import Actor, Engine
from workflow.cli import main
from workflow.daemon import daemons
from workflow.definition import bundled_dir
from workflow.store import TABLES

T = TypeVar("T")
DUBAN = [sys.executable, "-m", "workflow"]
LEAD = "市交通运输局"


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Daemon:
    """`duban daemon` as a child process logging JSON lines to a file."""

    def __init__(self, db_url: str, folder: Path, *args: str) -> None:
        self.log = folder / f"daemon-{time.monotonic_ns()}.log"
        env = {**os.environ, "DUBAN_OUTBOX_DIR": str(folder / "outbox")}  # notices to a folder, not to SMTP
        with self.log.open("wb") as sink:
            self.proc = subprocess.Popen(
                [*DUBAN, "--db", db_url, "daemon", "--log-format", "json", *args],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.pid = self.proc.pid

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(line) for line in self.text().splitlines() if line.startswith("{")]
        return [e for e in found if name is None or e["event"] == name]

    def poll(self, check: Callable[[], T | None], what: str, timeout: float = 60) -> T:
        """Wait until *check* returns something true while the daemon keeps running."""
        deadline = time.monotonic() + timeout
        while not (found := check()):
            assert self.proc.poll() is None, f"the daemon exited ({self.proc.returncode}) before {what}:\n{self.text()}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{self.text()}"
            time.sleep(0.05)  # the daemon gets there on its own; we only look again
        return found

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(60)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Start daemons; any still running when the test ends is killed (by its own pid)."""
    started: list[Daemon] = []

    def new(db_url: str, *args: str) -> Daemon:
        started.append(Daemon(db_url, tmp_path, *args))
        return started[-1]

    yield new
    for d in started:
        d.kill()


@pytest.fixture
def real(db_url: str) -> Iterator[Engine]:
    """An engine on the test database with the wall clock, as the daemon process has."""
    eng = Engine(db_url)
    yield eng
    eng.close()


def row_of(eng: Engine, daemon_id: str) -> dict[str, Any] | None:
    return next((r for r in daemons(eng) if r["id"] == daemon_id), None)


def swept(eng: Engine, daemon_id: str) -> dict[str, Any] | None:
    row = row_of(eng, daemon_id)
    return row if row and row["last_sweep_at"] else None


def duban(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DUBAN, *args], capture_output=True, text=True, timeout=120, check=False)


# ---- duban sweep ------------------------------------------------------------------------------


def test_sweep_command_runs_one_pass_at_the_given_instant(
    engine: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`duban sweep --now WHEN --json` runs exactly one pass at WHEN and prints its counts and duration;
    the same pass again finds nothing (each step once); --no-dispatch queues notices without sending them,
    and a plain sweep sends them."""
    for name in (LEAD, "市民政局"):
        engine.add_party("unit", name, contacts={r: f"{r}@unit.example" for r in ("handler", "department_head")})
    item = to_handling(engine)
    monkeypatch.setenv("DUBAN_OUTBOX_DIR", str(tmp_path / "outbox"))

    def sweep(*args: str) -> tuple[int, str]:
        code = main(["--db", db_url, "sweep", "--now", "2026-07-01T09:00+08:00", *args])
        out, err = capsys.readouterr()
        assert code == 0 and "Traceback" not in out + err, err
        return code, out

    first = json.loads(sweep("--no-dispatch", "--json")[1])
    assert first["now"] == "2026-07-01T01:00:00+00:00" and first["batches"] == 1
    counts = first["counts"]
    assert counts["claimed"] == 2 and counts["reminders"] > 0 and counts["escalations"] > 0
    assert first["counts"]["notices"] > 0 and "sent" not in first["counts"] and first["duration_ms"] > 0
    assert {r["status"] for r in engine.outbox(item=item.id) if r["cause"].startswith("deadline")} - {"held"} == {
        "queued"
    }
    second = json.loads(sweep("--json")[1])
    assert second["counts"]["claimed"] == second["counts"]["escalations"] == 0
    assert second["counts"]["sent"] == len([r for r in engine.outbox(item=item.id) if r["status"] != "held"])
    text = sweep()[1]
    assert text.startswith("swept at 2026-07-01 09:00:00 (北京时间): claimed 0, reminders 0, escalations 0")
    assert text.rstrip().endswith("batches)")
    assert sum(h.trigger == "escalate" for h in engine.get(item.id).history) == counts["escalations"]


# ---- duban daemon -----------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_daemon_stops_gracefully_on_a_signal(
    real: Engine, db_url: str, spawn: Callable[..., Daemon], sig: signal.Signals
) -> None:
    """`duban daemon` sweeps and beats until SIGTERM or SIGINT, then exits 0 with its heartbeat row marked
    stopped, logging the signal; no traceback."""
    daemon = spawn(db_url, "--id", "d1", "--interval", "0.2", "--dispatch-interval", "0.2")
    row = daemon.poll(lambda: swept(real, "d1"), "the first sweep")
    assert (row["pid"], row["status"], row["host"]) == (daemon.pid, "running", socket.gethostname())
    assert daemon.stop(sig) == 0, daemon.text()
    row = row_of(real, "d1")
    assert row is not None and row["status"] == "stopped" and row["stopped_at"] >= row["last_sweep_at"]
    assert [e["signal"] for e in daemon.events("signal received")] == [sig.name]
    assert daemon.events("daemon stopped") and "Traceback" not in daemon.text()
    [started] = daemon.events("daemon started")
    assert (started["daemon"], started["sweep_interval"], started["batch"]) == ("d1", 0.2, 500)
    sweeps = daemon.events("sweep")
    assert sweeps and sweeps[0]["sweep"]["worker"] == "d1" and "duration_ms" in sweeps[0]["sweep"]


def test_a_second_daemon_with_the_same_id_refuses_while_the_first_runs(
    real: Engine, db_url: str, spawn: Callable[..., Daemon]
) -> None:
    """While a daemon runs, another with its --id exits 1 naming the running one's host and pid, and the
    first is untouched; `duban daemons` lists it as running. Once the first has stopped the id is free."""
    first = spawn(db_url, "--id", "same", "--interval", "0.2", "--dispatch-interval", "0.2")
    first.poll(lambda: swept(real, "same"), "the first daemon's sweep")
    second = duban("--db", db_url, "daemon", "--id", "same")
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert f"error: daemon 'same' is already running on host {socket.gethostname()} (pid {first.pid}," in (
        second.stderr
    )
    assert first.proc.poll() is None
    listed = duban("--db", db_url, "daemons", "--json")
    assert listed.returncode == 0, listed.stderr
    [shown] = json.loads(listed.stdout)
    assert (shown["id"], shown["pid"], shown["status"]) == ("same", first.pid, "running")
    assert first.stop() == 0
    third = spawn(db_url, "--id", "same", "--interval", "0.2")
    third.poll(lambda: (r := row_of(real, "same")) and r["pid"] == third.pid and r["status"] == "running", "takeover")
    assert third.stop() == 0


def test_a_stale_heartbeat_row_is_taken_over(real: Engine, db_url: str, spawn: Callable[..., Daemon]) -> None:
    """A row whose daemon went silent longer than --stale-after (it crashed, its host is gone) shows as
    stale in `duban daemons`, and a new daemon with that id takes it over."""
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with real.db.begin() as conn:
        conn.execute(
            sa.insert(TABLES["duban_daemon"]).values(
                id="night", host="gone", pid=4242, started_at=an_hour_ago, beat_at=an_hour_ago
            )
        )
    listed = duban("--db", db_url, "daemons")
    assert listed.returncode == 0 and "night" in listed.stdout and "stale" in listed.stdout, listed.stderr
    daemon = spawn(db_url, "--id", "night", "--interval", "0.2", "--stale-after", "600")
    row = daemon.poll(lambda: swept(real, "night"), "the takeover")
    assert (row["host"], row["pid"], row["status"]) == (socket.gethostname(), daemon.pid, "running")
    assert row["started_at"] > an_hour_ago
    assert daemon.stop() == 0


def test_a_daemon_displaced_from_its_row_exits_1(real: Engine, db_url: str, spawn: Callable[..., Daemon]) -> None:
    """A daemon that finds its heartbeat row taken over by another process stops and exits 1, naming it."""
    daemon = spawn(db_url, "--id", "moved", "--interval", "0.2", "--dispatch-interval", "0.2")
    daemon.poll(lambda: swept(real, "moved"), "the first sweep")
    with real.db.begin() as conn:
        conn.execute(sa.update(TABLES["duban_daemon"]).where(TABLES["duban_daemon"].c.id == "moved").values(pid=4242))
    assert daemon.proc.wait(60) == 1
    taken = f"error: daemon 'moved' stopped: its heartbeat row was taken over by host {socket.gethostname()} pid 4242"
    assert taken in daemon.text()
    assert "Traceback" not in daemon.text()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_unreachable_database_at_start_is_one_line_and_exit_1(tmp_path: Path, kind: str) -> None:
    """A database that is not there (a missing folder, a server not listening) stops `duban daemon` at once
    with exit 1 and one line naming the database (password hidden) and the driver's reason."""
    url = (
        f"sqlite:///{tmp_path / 'missing' / 'duban.db'}"
        if kind == "sqlite"
        else f"postgresql+psycopg://duban:secret@127.0.0.1:{free_port()}/duban"
    )
    done = duban("--db", url, "daemon", "--id", "x")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: cannot open the database ")
    assert ("unable to open database file" if kind == "sqlite" else "Connection refused") in done.stderr
    assert "secret" not in done.stderr and "Traceback" not in done.stderr


def test_a_definition_error_refuses_to_start_naming_file_and_line(db_url: str, tmp_path: Path) -> None:
    """A broken lifecycle definition stops `duban daemon` before it registers, exit 2, with FILE:LINE:COL."""
    text = (bundled_dir("definitions") / "suggestion.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "suggestion.yaml"
    bad.write_text(text.replace("dest: replied", "dest: repleid", 1), encoding="utf-8")
    line = next(n for n, t in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if "dest: repleid" in t)
    done = duban("--db", db_url, "--definitions", str(bad), "daemon", "--id", "x")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {bad}:{line}:") and "unknown state 'repleid'" in done.stderr
    listed = duban("--db", db_url, "daemons", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_daemons_table_shows_status_and_last_error(real: Engine, db_url: str) -> None:
    """`duban daemons` prints one row a daemon: id, host, pid, status, times in Asia/Shanghai, last error."""
    at = dt.datetime(2026, 3, 20, 1, 0, tzinfo=dt.UTC)
    with real.db.begin() as conn:
        conn.execute(
            sa.insert(TABLES["duban_daemon"]).values(
                id="old",
                host="h1",
                pid=7,
                started_at=at,
                beat_at=at,
                stopped_at=at,
                last_error="OperationalError: gone",
                last_error_at=at,
            )
        )
    done = subprocess.run(
        [*DUBAN, "--db", db_url, "daemons"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [line] = [t for t in done.stdout.splitlines() if " old " in t]
    assert "h1" in line and " 7 " in line and "stopped" in line and "2026-03-20 09:00:00" in line
    assert "OperationalError: gone" in line


# ---- a PostgreSQL outage ----------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


class Cluster:
    """A throw-away PostgreSQL server on a free loopback port, run as an unprivileged user (PostgreSQL
    refuses root) the way .ci/postgres.sh does it."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.user = pwd.getpwuid(os.geteuid()).pw_name
        if os.geteuid() == 0:
            self.user = "duban_ci"
            if subprocess.run(["id", self.user], capture_output=True, check=False).returncode:
                subprocess.run(["useradd", "--system", "--no-create-home", self.user], check=True)
        # Not pytest's tmp_path: under root that folder is closed to the server's user.
        self.dir = Path(tempfile.mkdtemp(prefix="duban-pg-"))
        if os.geteuid() == 0:
            os.chown(self.dir, pwd.getpwnam(self.user).pw_uid, -1)
        self.port = free_port()
        self.url = f"postgresql+psycopg://duban@127.0.0.1:{self.port}/postgres"
        data = str(self.dir / "data")
        self._run("initdb", "-D", data, "-A", "trust", "-U", "duban", "-E", "UTF8", "--locale=C.UTF-8")

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["su", self.user, "-s", "/bin/sh", "-c", shlex.join(command)]
        subprocess.run(command, check=True, capture_output=True, cwd="/", timeout=120)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "-o", options, "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql (.ci/postgres.sh installs them)")
    c = Cluster(bin_dir)
    try:
        c.start()
        yield c
    finally:
        c.remove()


@pytest.mark.slow
def test_daemon_lives_through_a_postgresql_outage(cluster: Cluster, spawn: Callable[..., Daemon]) -> None:
    """With the server stopped under it (`pg_ctl stop -m fast`) the daemon logs each failed try as a database
    error and stays alive; when the server is back it sweeps again by itself (work that fell due meanwhile
    is done, the heartbeat advances, it logs that it recovered) and still exits 0 on SIGTERM."""
    eng = Engine(cluster.url)
    try:
        eng.add_party("unit", LEAD, principal_leader="局长", department_head="处长", handler="科员")
        daemon = spawn(cluster.url, "--id", "pg", "--interval", "0.3", "--dispatch-interval", "0.3")
        daemon.poll(lambda: swept(eng, "pg"), "the first sweep")
        cluster.stop()
        daemon.poll(lambda: len([e for e in daemon.events("database error") if e["job"] == "sweep"]) >= 3, "retries")
        failed = daemon.events("database error")[0]
        assert failed["level"] == "error" and failed["daemon"] == "pg" and failed["retry_in"] <= 0.3
        assert "Traceback" not in daemon.text()
        back = dt.datetime.now(dt.UTC)
        cluster.start()
        # Work that is long overdue by the time the server is back: a suggestion accepted 400 days ago.
        at = back - dt.timedelta(days=400)
        item = eng.submit("suggestion", title="恢复后到期", origin="session", proposers=["王芳"], at=at)
        eng.fire(item.id, "register", at=at)
        eng.fire(item.id, "assign", at=at, lead_unit=LEAD)
        eng.fire(item.id, "accept", actor=Actor("unit", LEAD), at=at)
        daemon.poll(lambda: any(h.trigger == "escalate" for h in eng.get(item.id).history), "the escalation")
        row = daemon.poll(lambda: (r := swept(eng, "pg")) and r["last_sweep_at"] > back and r, "a later sweep")
        assert row["status"] == "running" and row["pid"] == daemon.pid
        daemon.poll(lambda: daemon.events("recovered"), "the recovery")
        assert daemon.stop() == 0, daemon.text()
        assert row_of(eng, "pg")["status"] == "stopped"  # type: ignore[index]
    finally:
        eng.close()
