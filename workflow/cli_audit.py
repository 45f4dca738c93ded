"""``duban audit export ITEM``: an item's full, verified history to print and sign.

Imported by :mod:`workflow.cli`, which owns the ``audit`` command group this adds to.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from workflow.audit_export import FORMATS, collect, render
from workflow.cli import INT_MAX, _engine, audit_app, out
from workflow.cli_errors import CommandFailed
from workflow.errors import ValidationError

_EXTENSIONS = {".html": "html", ".htm": "html", ".json": "json", ".txt": "text"}


@audit_app.command("export")
def audit_export(
    ctx: typer.Context,
    item: Annotated[int, typer.Argument(help="The item's id.", max=INT_MAX)],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", metavar="FORMAT", help=f"{', '.join(FORMATS)} [default: from --out's extension, else text]."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="FILE", help="Write here instead of to stdout.")
    ] = None,
) -> None:
    """The item's history with hashes, its notices, the chain's verification and lines to sign.

    Exit 1 when the chain is broken (the export is still written, naming the first broken link).
    """
    chosen = fmt or (_EXTENSIONS.get(output.suffix.lower(), "text") if output else "text")
    if chosen not in FORMATS:
        raise ValidationError("--format", f"must be one of {', '.join(FORMATS)}; got {chosen!r}")
    with _engine(ctx) as eng:
        data = collect(eng, item)
    text = render(data, chosen)
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandFailed(f"cannot write {output}: {exc.strerror or exc}", "--out") from None
        out.print(f"审计记录已导出 (audit export written): {output} ({chosen}, {len(data['rows'])} rows)")
    verification = data["verification"]
    if not verification["intact"]:
        print(f"broken: item {item}: audit row {verification['seq']}: {verification['problem']}", file=sys.stderr)
        raise typer.Exit(1)
