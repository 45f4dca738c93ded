"""``duban migrate``, ``duban backup`` and ``duban restore``: change without loss.

Imported by :mod:`workflow.cli`, which owns the ``app`` these commands are added to. A refusal or failure is
one line on stderr saying what, where and how to fix it; exit 1 for a run-time failure or refusal, 2 for bad input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from workflow.backup import backup, restore
from workflow.cli import (
    ActorOpt,
    AllowFutureOpt,
    AtOpt,
    JsonOpt,
    _check_url,
    _engine,
    app,
    out,
    parse_actor,
    written_when,
)
from workflow.cli_errors import CommandFailed
from workflow.errors import ValidationError
from workflow.migrate import MigrationPlan, StateMap, apply, plan, read_map

T = TypeVar("T")

MapOpt = Annotated[
    list[str],
    typer.Option(
        "--map",
        metavar="FILE.yaml|OLD=NEW",
        help="A migration file (from: N, to: M, states: {old: new}) or one OLD=NEW state pair (repeatable).",
    ),
]


def state_map(values: list[str], from_version: int | None, to_version: int | None, kind: str) -> StateMap:
    """The ``--map`` options (files and OLD=NEW pairs) and ``--from`` / ``--to`` as one state map."""
    states: dict[str, str] = {}
    versions: dict[str, int | None] = {"--from": from_version, "--to": to_version}
    same = False
    for value in values:
        if "=" in value and not Path(value).is_file():
            old, _, new = (v.strip() for v in value.partition("="))
            if not old or not new:
                raise ValidationError("--map", f"{value!r} is not OLD=NEW")
            found = StateMap({old: new})
        else:
            found = read_map(value)
            if found.kind is not None and found.kind != kind:
                raise ValidationError("--map", f"{value} migrates {found.kind!r}, not {kind!r}")
        for old, new in found.states.items():
            if states.get(old, new) != new:
                raise ValidationError("--map", f"state {old!r} is mapped twice: to {states[old]!r} and to {new!r}")
            states[old] = new
        for option, number in (("--from", found.from_version), ("--to", found.to_version)):
            if number is not None and versions[option] not in (None, number):
                raise ValidationError(option, f"{value} says {number}, but {versions[option]} was given")
            versions[option] = versions[option] or number
        same = same or found.same_names
    if not states:
        raise ValidationError("--map", "give a migration file or OLD=NEW pairs: the states to move items between")
    return StateMap(states, versions["--from"], versions["--to"], kind, same)


@app.command("migrate")
def migrate_command(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="The lifecycle whose items move: suggestion, review_opinion.")],
    maps: MapOpt,
    from_version: Annotated[
        int | None, typer.Option("--from", metavar="N", help="The version items move from [default: TO - 1].")
    ] = None,
    to_version: Annotated[
        int | None,
        typer.Option("--to", metavar="N", help="The version items move to [default: the current definition]."),
    ] = None,
    same_names: Annotated[
        bool, typer.Option("--same-names", help="A state the map does not name keeps its name, if the target has it.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would move and what cannot; write nothing.")
    ] = False,
    only_movable: Annotated[
        bool, typer.Option("--only-movable", help="Move the items that can move; leave the others on the old version.")
    ] = False,
    actor: ActorOpt = "office",
    at: AtOpt = None,
    allow_future: AllowFutureOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Move items in flight from one definition version to another with an explicit state map: each move is an
    audit row (trigger migrate); all or nothing. Load the new definition with --definitions before the command."""
    mapping = state_map(maps, from_version, to_version, kind)
    who = parse_actor(actor)
    with _engine(ctx, allow_future=allow_future) as eng:
        when = written_when(eng, at)
        planned = plan(eng, kind, mapping, same_names=same_names)
        if dry_run:
            _show(planned, as_json, "dry run")
            blocked = len(planned.blocked)
            if not as_json:
                if blocked:
                    out.print(
                        f"dry run, nothing written: {blocked} item{'s' if blocked != 1 else ''} cannot move; fix the "
                        "map, or apply with --only-movable to leave them on "
                        f"v{planned.from_version}"
                    )
                else:
                    out.print(
                        f"dry run, nothing written: all {len(planned.moves)} items can move; "
                        "run again without --dry-run"
                    )
            raise typer.Exit(1 if blocked else 0)
        if planned.blocked and not only_movable:
            _show(planned, as_json, "refused")
            raise CommandFailed(
                f"nothing migrated: {len(planned.blocked)} item(s) of {kind} v{planned.from_version} cannot "
                "move (listed above); fix the map, or pass --only-movable to leave them behind"
            )
        done = apply(eng, planned, actor=who, at=when, only_movable=only_movable)
    _show(done, as_json, "migrated")
    if not as_json:
        left = f"; {len(done.blocked)} left on v{done.from_version}" if done.blocked else ""
        out.print(
            f"migrated {len(done.moves)} item{'s' if len(done.moves) != 1 else ''} of {kind} from "
            f"v{done.from_version} to v{done.to_version} (audit trigger migrate){left}"
            if done.moves
            else f"nothing to migrate: no item of {kind} v{done.from_version} can move"
        )


def _show(planned: MigrationPlan, as_json: bool, status: str) -> None:
    if as_json:
        print(json.dumps({"status": status, **planned.to_dict()}, ensure_ascii=False, indent=2))
        return
    out.print(planned.summary)
    if planned.moves:
        table = Table("id", "title", "from", "", "to", title=f"move to v{planned.to_version}")
        for m in planned.moves:
            table.add_row(str(m.item_id), m.title, f"v{planned.from_version} {m.from_state}", "→", m.to_state)
        out.print(table)
    if planned.blocked:
        table = Table("id", "title", "state", "why it cannot move", title="cannot move")
        for b in planned.blocked:
            table.add_row(str(b.item_id), b.title, b.state, b.reason)
        out.print(table)


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Back the database up to FILE: SQLite's online backup (a consistent snapshot while the daemon writes), or
    pg_dump --format=custom on PostgreSQL."""
    done = _guarded(lambda: backup(ctx.obj["db"], file, force=force), ctx.obj["db"], file)
    _report(done.summary, as_json, _fields(done))


@app.command("restore")
def restore_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A backup made by duban backup.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that holds items or parties (back it up first).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Replace the database with the backup FILE, after checking its audit chains; stop the daemons first."""
    done = _guarded(lambda: restore(ctx.obj["db"], file, force=force), ctx.obj["db"], file)
    _report(done.summary, as_json, _fields(done))


def _guarded(run: Callable[[], T], url: str, file: Path) -> T:
    """A --db that is no database URL, or a FILE the system cannot use (a name too long, a folder), is bad input
    named as such, not a crash."""
    _check_url(url)
    try:
        return run()
    except OSError as exc:
        raise ValidationError("FILE", f"cannot use {str(file)[:80]!r}: {exc.strerror or exc}") from None


def _fields(done: Any) -> dict[str, Any]:
    values = {name: getattr(done, name) for name in done.__dataclass_fields__}
    return {name: str(v) if isinstance(v, Path) else v for name, v in values.items()}


def _report(summary: str, as_json: bool, values: dict[str, Any]) -> None:
    if as_json:
        print(json.dumps({"ok": True, **values}, ensure_ascii=False, indent=2))
    else:
        out.print(summary)
