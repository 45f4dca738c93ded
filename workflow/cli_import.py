"""``duban import FILE``: a suggestion summary sheet (建议汇总表, .xlsx or .csv) into the database.

Imported by :mod:`workflow.cli`, which owns the ``app`` this command is added to. Every problem is
printed as ``FILE:ROW:COLUMN: message``; bad input exits 2, a run-time failure 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from workflow.audit_export import visible
from workflow.cli import INT_MAX, AllowFutureOpt, AtOpt, JsonOpt, _engine, app, out, written_when
from workflow.cli_errors import CommandFailed
from workflow.errors import ImportRejected, ValidationError
from workflow.importer import Progress as OnProgress
from workflow.importer import import_file
from workflow.sheet import MAX_BYTES, MAX_ROWS

_STAGES = {"check": "检查 checking", "write": "导入 importing"}


@contextmanager
def _bar(show: bool) -> Iterator[OnProgress | None]:
    """A progress bar on stderr (so that --json output stays clean), one line per stage."""
    if not show:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done)

        yield update


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The summary sheet: .xlsx (sheet 事项 or 建议汇总表, else the first) or .csv.")
    ],
    skip_bad: Annotated[
        bool,
        typer.Option("--skip-bad", help="Import the good rows; write the bad ones, with an 错误 column, to a file."),
    ] = False,
    errors_to: Annotated[
        Path | None,
        typer.Option(
            "--errors-to",
            metavar="PATH",
            help="Where --skip-bad writes the bad rows (default: FILE.errors.csv beside FILE).",
        ),
    ] = None,
    unknown_deputy: Annotated[
        str,
        typer.Option("--unknown-deputy", metavar="warn|error", help="A proposer who is not a registered deputy."),
    ] = "warn",
    at: AtOpt = None,
    progress: Annotated[
        bool, typer.Option("--progress", help="Show a progress bar even when stderr is not a terminal.")
    ] = False,
    max_mb: Annotated[
        float,
        typer.Option("--max-mb", min=0.001, max=100_000, help="The largest file read, in MB (a workbook unzipped)."),
    ] = MAX_BYTES / 1e6,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=1, max=INT_MAX, help="The last row of the sheet read.")
    ] = MAX_ROWS,
    allow_future: AllowFutureOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a suggestion summary sheet: every row checked first; nothing imported if any is bad (unless
    --skip-bad); rows already present (same 会次 and 编号, or 会次, 标题 and 领衔代表) are skipped."""
    if unknown_deputy not in ("warn", "error"):
        raise ValidationError("--unknown-deputy", f"must be warn or error, not {unknown_deputy!r}")
    with _engine(ctx, allow_future=allow_future) as eng, _bar(progress or sys.stderr.isatty()) as on_progress:
        try:
            result = import_file(
                eng,
                file,
                skip_bad=skip_bad,
                errors_to=errors_to,
                unknown_deputy=unknown_deputy,
                at=written_when(eng, at),
                progress=on_progress,
                max_bytes=int(max_mb * 1e6),
                max_rows=max_rows,
            )
        except ImportRejected as exc:
            rows = {p.row for p in exc.problems if p.row is not None}
            why = (
                f"{len(rows)} bad row{'s' if len(rows) != 1 else ''} (--skip-bad imports the good ones)"
                if rows
                else "the file cannot be read as a summary sheet"
            )
            if as_json:  # the problems on stdout, the failure as JSON on stderr
                errors = [{"row": p.row, "column": p.column, "message": p.message} for p in exc.problems]
                print(json.dumps({"ok": False, "file": str(file), "errors": errors}, ensure_ascii=False, indent=2))
                raise CommandFailed(f"nothing imported: {why}", "FILE", exit_code=2) from None
            for problem in exc.problems:
                print(visible(str(problem)), file=sys.stderr)  # cells echoed: control characters as marks
            print(f"nothing imported: {why}", file=sys.stderr)
            raise typer.Exit(2) from None
    for problem in [*result.warnings, *result.bad]:
        print(visible(str(problem)), file=sys.stderr)
    if as_json:
        print(json.dumps({"ok": True, **result.to_dict()}, ensure_ascii=False, indent=2))
        return
    out.print(result.summary)
    if result.errors_file:
        out.print(f"bad rows written to {result.errors_file}")
