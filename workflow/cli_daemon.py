"""The daemon's commands: ``duban sweep`` (one pass), ``duban daemon`` (on a timer), ``duban daemons``.

Imported by :mod:`workflow.cli`, which owns the ``app`` they are added to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

import typer
from rich.table import Table

from workflow.beijing import beijing_text
from workflow.cli import INT_MAX, AllowFutureOpt, JsonOpt, _emit, _engine, app, out, written_when
from workflow.daemon import MAX_INTERVAL, MAX_STALE_AFTER


def _seconds(most: float) -> Callable[[float | None], float | None]:
    """An option's check: a number of seconds above 0 and at most *most* (not inf, nan, 0 or negative)."""

    def check(value: float | None) -> float | None:
        if value is not None and not 0 < value <= most:
            span = "a day" if most == MAX_INTERVAL else "a week"
            raise typer.BadParameter(f"must be a number of seconds above 0 and at most {most:g} ({span}), not {value}")
        return value

    return check


@app.command("sweep")
def sweep_command(
    ctx: typer.Context,
    now: Annotated[str | None, typer.Option("--now", metavar="WHEN", help="Act as if it were WHEN.")] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=INT_MAX, help="Deadlines claimed at a time.")] = 500,
    no_dispatch: Annotated[bool, typer.Option("--no-dispatch", help="Queue notices but do not send them.")] = False,
    allow_future: AllowFutureOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """One sweep: every due reminder, escalation and timeout, then the outbox sent (for cron and tests)."""
    with _engine(ctx, allow_future=allow_future) as eng:
        result = eng.sweep(written_when(eng, now, "--now"), batch=batch, dispatch=not no_dispatch)
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    when = beijing_text(result.now)
    _emit(as_json, result, f"swept at {when}: {counts} ({result.duration * 1000:.0f} ms, {result.batches} batches)")


@app.command("daemon")
def daemon_command(
    ctx: typer.Context,
    daemon_id: Annotated[
        str | None, typer.Option("--id", help="This daemon's name in the heartbeat table [default: HOST-PID].")
    ] = None,
    interval: Annotated[
        float,
        typer.Option("--interval", callback=_seconds(MAX_INTERVAL), help="Seconds between sweeps (at most a day)."),
    ] = 60.0,
    dispatch_interval: Annotated[
        float,
        typer.Option(
            "--dispatch-interval",
            callback=_seconds(MAX_INTERVAL),
            help="Seconds between sending the outbox (at most a day).",
        ),
    ] = 30.0,
    batch: Annotated[int, typer.Option("--batch", min=1, max=INT_MAX, help="Deadlines claimed at a time.")] = 500,
    stale_after: Annotated[
        float | None,
        typer.Option(
            "--stale-after",
            metavar="SECONDS",
            callback=_seconds(MAX_STALE_AFTER),
            help="Take over a same-id daemon silent this long [default: 3 x the longer interval, at least 30].",
        ),
    ] = None,
    log_format: Annotated[str, typer.Option("--log-format", help="text or json (one object a line).")] = "text",
) -> None:
    """Sweep deadlines and send notices on a timer until SIGTERM or SIGINT, which finish the batch in hand."""
    from workflow.daemon import configure_logging, run

    configure_logging(log_format)
    with _engine(ctx) as eng:
        run(
            eng,
            daemon_id=daemon_id,
            sweep_interval=interval,
            dispatch_interval=dispatch_interval,
            batch=batch,
            stale_after=stale_after,
        )


@app.command("daemons")
def daemons_command(
    ctx: typer.Context,
    stale_after: Annotated[
        float | None, typer.Option("--stale-after", metavar="SECONDS", help="Silent this long is stale [default: 180].")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The daemons that ran on this database: running, stale (no heartbeat) or stopped, and their last sweep."""
    from workflow.daemon import daemons

    with _engine(ctx) as eng:
        rows = daemons(eng, stale_after=stale_after)
    if as_json:
        _emit(True, rows, "")
        return

    def at(when: dt.datetime | None) -> str:
        return beijing_text(when, label=False) if when else "—"

    table = Table("id", "host", "pid", "status", "started", "last beat", "last sweep", "last error", title="(北京时间)")
    for r in rows:
        error = f"{at(r['last_error_at'])} {r['last_error']}" if r["last_error"] else ""
        table.add_row(
            r["id"],
            r["host"],
            str(r["pid"]),
            r["status"],
            at(r["started_at"]),
            at(r["beat_at"]),
            at(r["last_sweep_at"]),
            error,
        )
    out.print(table)
