"""``duban notices``: the outbox, and recovering what could not go (retry, resend, resolve).

Imported by :mod:`workflow.cli`, which owns the application this adds to.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from workflow.cli import INT_MAX, JsonOpt, _emit, _engine, app, out

notices_app = typer.Typer(help="The outbox: notices held, queued, sent, failed; incidents.")
app.add_typer(notices_app, name="notices")
_KEYS = ("id", "item_id", "type", "unit", "recipient", "role", "address", "status", "attempts", "last_error", "subject")


@notices_app.callback(invoke_without_command=True)
def notices_list(
    ctx: typer.Context,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only held, failed and dead notices, with open incidents.")
    ] = False,
    status: Annotated[str | None, typer.Option(help="held, queued, sending, sent, failed or dead.")] = None,
    item: Annotated[int | None, typer.Option(max=INT_MAX, help="Only this item's notices.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the outbox (newest first); with --failed, what needs a person."""
    if ctx.invoked_subcommand is not None:
        return
    with _engine(ctx) as eng:
        rows = eng.outbox(status=status, item=item)
        rows = [r for r in rows if not failed or r["status"] in ("held", "failed", "dead")]
        incidents = eng.incidents() if failed else []
    shown = [{k: r.get(k) for k in _KEYS} for r in rows]
    if as_json:
        _emit(True, {"notices": shown, "incidents": incidents} if failed else shown, "")
        return
    for r in shown:
        error = f" — {r['last_error']}" if r["last_error"] else ""
        about = f"item {r['item_id']}" if r["item_id"] is not None else "no item"
        to = " ".join(filter(None, [r["unit"], r["recipient"]]))
        address = f"<{r['address']}>" if r["address"] else "(no address yet)"
        out.print(
            f"#{r['id']} [{r['status']}] {about} {r['type']} → {to} ({r['role']}) {address} "
            f"(attempts {r['attempts']}){error}\n    {r['subject']}"
        )
    for i in incidents:
        about = f" item {i['item_id']}" if i["item_id"] is not None else ""
        notice = f" notice #{i['notice_id']}" if i["notice_id"] is not None else ""
        out.print(f"incident {i['id']} ({i['kind']}{about}{notice}): {i['message']}")


def _requeued(as_json: bool, result: dict[str, Any]) -> None:
    if result["status"] == "held":
        text = f"notice {result['id']} still has no address: held, and sent once its party has one (duban party add)"
    else:
        text = f"notice {result['id']} queued again for {result['address']}"
    _emit(as_json, result, text)


@notices_app.command("retry")
def notices_retry(
    ctx: typer.Context, notice: Annotated[int, typer.Argument(max=INT_MAX)], as_json: JsonOpt = False
) -> None:
    """Queue a failed or dead notice again, at the address its party has now, and resolve its incidents."""
    with _engine(ctx) as eng:
        result = eng.retry(notice)
    _requeued(as_json, result)


@notices_app.command("resend")
def notices_resend(
    ctx: typer.Context, notice: Annotated[int, typer.Argument(max=INT_MAX)], as_json: JsonOpt = False
) -> None:
    """Queue a held, failed or dead notice at the address its party has now."""
    with _engine(ctx) as eng:
        result = eng.resend(notice)
    _requeued(as_json, result)


@notices_app.command("resolve")
def incidents_resolve(
    ctx: typer.Context,
    incident: Annotated[int, typer.Argument(max=INT_MAX, help="The incident's id (duban notices --failed).")],
    note: Annotated[str, typer.Option("--note", help="How it was dealt with, kept with the incident.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Close an open incident with a note."""
    with _engine(ctx) as eng:
        row = eng.resolve_incident(incident, note)
    _emit(as_json, row, f"incident {incident} resolved")
