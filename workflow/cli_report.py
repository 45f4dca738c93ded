"""``duban report followup``: the follow-up review report (回头看), to stdout or a file.

Imported by :mod:`workflow.cli`, which owns the ``app`` the commands are added to.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from workflow.audit_export import visible
from workflow.cli import INT_MAX, _engine, app, out, parse_when
from workflow.cli_errors import CommandFailed
from workflow.errors import ValidationError
from workflow.reports import BINARY, FORMATS, format_for, render, write

report_app = typer.Typer(no_args_is_help=True, help="Reports: the follow-up review (回头看) and its ledgers.")
app.add_typer(report_app, name="report")


@report_app.command("followup")
def followup_command(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Option("--year", max=INT_MAX, help="Items submitted in this year.")] = None,
    session: Annotated[
        str | None,
        typer.Option("--session", help="Items of this session (会次), as recorded, e.g. 市十五届人大五次会议."),
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", metavar="DATE", help="Items submitted on or after DATE (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help="Items submitted on or before DATE (YYYY-MM-DD).")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="suggestion or review_opinion.")] = None,
    units: Annotated[
        list[str] | None, typer.Option("--unit", metavar="UNIT", help="Items assigned to this unit (repeatable).")
    ] = None,
    key_only: Annotated[bool, typer.Option("--key-only", help="Key supervised items (重点督办) only.")] = False,
    state: Annotated[str | None, typer.Option("--state", help="Items in this state, e.g. handling.")] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", metavar="FORMAT", help=f"{', '.join(FORMATS)} [default: from -o's extension, else md]."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", metavar="FILE", help="Write here instead of to stdout.")
    ] = None,
    now: Annotated[
        str | None, typer.Option("--now", metavar="WHEN", help="Describe the data as of WHEN [default: now].")
    ] = None,
    flag_bottom: Annotated[
        int,
        typer.Option(
            "--flag-bottom", min=0, max=INT_MAX, help="Flag the N lowest-ranked units (at most half of them)."
        ),
    ] = 3,
    flag_below: Annotated[
        float | None,
        typer.Option("--flag-below", metavar="RATE", help="Also flag units whose on-time rate is below RATE (0.8)."),
    ] = None,
) -> None:
    """The follow-up review report: rates, units ranked, promises, key items, review opinions, overdue.

    md, json and csv (the items ledger) print to stdout without -o, control characters shown as marks
    (␛, ⟨U+202E⟩); -o FILE writes the text as it is; docx and xlsx need -o FILE.
    """
    chosen = format_for(output, fmt)
    if output is None and chosen in BINARY:
        raise ValidationError("--output", f"{chosen} is a binary format: give -o FILE.{chosen}")
    as_of = parse_when(now, "--now")
    with _engine(ctx) as eng:
        report = eng.report(
            "followup",
            year=year,
            session=session,
            date_from=date_from,
            date_to=date_to,
            kind=kind,
            units=units or [],
            key_only=key_only,
            state=state,
            now=as_of,
            flag_bottom=flag_bottom,
            flag_below=flag_below,
        )
    if output is None:
        text = render(report.data, chosen)
        assert isinstance(text, str)
        if chosen != "json":  # item text is public input: control characters reach the terminal as marks
            text = "\r\n".join(visible(line) for line in text.split("\r\n"))  # CSV's own line ends kept
        sys.stdout.write(text)
        return
    try:
        write(report.data, output, chosen)
    except OSError as exc:
        raise CommandFailed(f"cannot write {output}: {exc.strerror or exc}", "--output") from None
    items = report.data["summary"]["items"]
    out.print(f"报告已写入 (report written): {output} ({chosen}, {items} items)")
