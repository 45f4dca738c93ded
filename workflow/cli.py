"""The ``duban`` command line. Exit status: 0 success, 1 run-time failure, 2 bad input.

Errors print one line (``error: …``) and never a traceback; set ``DUBAN_DEBUG=1`` to see one.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tomllib
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from workflow import cli_errors, cli_setup
from workflow.audit_export import ENGINE_TRIGGERS, visible
from workflow.beijing import SHANGHAI, beijing_text
from workflow.calendar import Calendar, PeriodError, parse_period
from workflow.channels import Settings
from workflow.cli_errors import CommandFailed
from workflow.cli_output import program, record_table, shown
from workflow.definition_numbers import version_text
from workflow.discover import triggers_now
from workflow.engine import Engine, load_definitions
from workflow.errors import DefinitionError, ValidationError
from workflow.fields import DATES, split_list
from workflow.model import Actor, Item, plain
from workflow.registry import Registry
from workflow.wording import plain as plain_label

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help is plain text: `[default: …]` and `ROLE[:PARTY]` show as written, never as markup
    help="duban (督办): deputies' suggestions and review opinions, from assignment to follow-up review.",
)
definitions_app = typer.Typer(no_args_is_help=True, help="Check and draw lifecycle definitions.")
audit_app = typer.Typer(no_args_is_help=True, help="Check the hash-chained audit log.")
calendar_app = typer.Typer(no_args_is_help=True, help="The official working-day calendar.")
party_app = typer.Typer(no_args_is_help=True, help="Handling units and deputies.")
app.add_typer(definitions_app, name="definitions")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(party_app, name="party")


class _Shown(Console):
    """A console that prints control, bidirectional and invisible characters as visible marks (␛, ⟨U+202E⟩):
    item text is public input, and an escape sequence in a title must not reach the terminal."""

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(visible(text), **options)


out = _Shown(highlight=False, soft_wrap=True, markup=False)  # item text is public input: never markup

#: The largest id, version, year or count a database column holds (PostgreSQL's integer, the narrower):
#: a larger number is a usage error naming its argument, not an overflow deep in the driver.
INT_MAX = 2**31 - 1
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="A data field: a choice by its label or code, a list separated by 、 or commas, records as JSON. "
        "The fields: duban definitions show KIND TRIGGER.",
    ),
]
AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at", metavar="WHEN", help="When it happened: YYYY-MM-DD[THH:MM[:SS]][+08:00]; Asia/Shanghai if no offset."
    ),
]
AllowFutureOpt = Annotated[
    bool, typer.Option("--allow-future", help="Accept a --at/--now more than a day ahead of the clock.")
]
ActorOpt = Annotated[
    str, typer.Option("--actor", metavar="ROLE[:PARTY]", help="office, leader, committee, unit:NAME, deputy:NAME.")
]
AsOpt = Annotated[
    str | None,
    typer.Option("--as", metavar="ROLE:PARTY", help="Only what this actor may see, e.g. unit:市民政局, deputy:王芳."),
]
DefsOpt = Annotated[
    list[Path] | None, typer.Option("--definitions", metavar="PATH", help="Definition folder or file (repeatable).")
]


def _version(value: bool) -> None:
    if value:
        from workflow import __version__

        print(f"duban {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL|PATH",
            envvar="DUBAN_DB",
            help="Database: a URL (postgresql+psycopg://user@host/db) or a SQLite file path (duban.db)"
            " [default: ./duban.db].",
        ),
    ] = None,
    definitions: DefsOpt = None,
    parameters: Annotated[
        Path | None,
        typer.Option(
            "--parameters", metavar="FILE", envvar="DUBAN_PARAMETERS", help="A jurisdiction's parameter file."
        ),
    ] = None,
    calendar: Annotated[
        list[Path] | None,
        typer.Option("--calendar", metavar="DIR", help="Extra official-calendar folder, read after the bundled one."),
    ] = None,
    settings: Annotated[
        Path | None,
        typer.Option("--settings", metavar="FILE", envvar="DUBAN_SETTINGS", help="Delivery settings (TOML)."),
    ] = None,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print duban's version and exit."),
    ] = None,
) -> None:
    source = ctx.get_parameter_source("db")
    db_source = None if db is None else ("DUBAN_DB" if source and source.name == "ENVIRONMENT" else "--db")
    ctx.obj = {
        "db": cli_setup.database_url(db, db_source or "--db"),
        "db_source": db_source,
        "definitions": definitions or None,
        "parameters": parameters,
        "calendar": calendar or [],
        "settings": settings,
    }


def _engine(ctx: typer.Context, calendar: Calendar | None = None, allow_future: bool = False) -> Engine:
    _check_url(ctx.obj["db"])
    cli_setup.opening(ctx.obj, ctx.command_path.partition(" ")[2])
    try:
        return Engine(
            ctx.obj["db"],
            definitions=ctx.obj["definitions"],
            parameters=ctx.obj["parameters"],
            calendar=calendar or ctx.obj["calendar"],
            settings=_settings(ctx.obj["settings"]),
            allow_future=allow_future,
        )
    except sa.exc.DBAPIError as exc:  # opening touches the database first: it is not there, or refuses us
        from workflow.daemon import one_line

        url = sa.engine.make_url(ctx.obj["db"]).render_as_string(hide_password=True)
        raise CommandFailed(f"cannot open the database {url}: {one_line(exc)}", ctx.obj["db_source"]) from None


def _check_url(url: str) -> None:
    """A --db that is not a database URL, or names a database whose driver is not installed, is bad input."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise ValidationError(
            "--db", "not a database URL; write e.g. duban.db, sqlite:///duban.db or postgresql+psycopg://user@host/db"
        ) from None
    try:
        parsed.get_dialect().import_dbapi()
    except (sa.exc.ArgumentError, ImportError) as exc:  # NoSuchModuleError is an ArgumentError
        raise ValidationError("--db", f"cannot use {parsed.drivername!r} databases: {exc}") from None


def _settings(path: Path | None) -> Settings | None:
    """The --settings file read here, so that one that cannot be read is bad input naming the option."""
    if path is None:
        return None
    try:
        return Settings.load(path)
    except OSError as exc:
        raise ValidationError("--settings", f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError("--settings", f"{path} is not a TOML file: {exc}") from None


def parse_when(text: str | None, option: str = "--at") -> dt.datetime | None:
    """``2026-03-20`` (midnight), ``2026-03-20T09:30`` or with an offset; naive times are Asia/Shanghai.
    *option* names the option in the error when *text* cannot be read or lies outside the dates duban keeps."""
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(option, f"cannot read {text!r}; write YYYY-MM-DD or YYYY-MM-DDTHH:MM[+08:00]") from None
    when = when if when.tzinfo else when.replace(tzinfo=SHANGHAI)
    if not DATES[0] <= when.date() <= DATES[1]:
        raise ValidationError(option, f"{text!r} is out of range: a date lies between {DATES[0]} and {DATES[1]}")
    return when


def parse_actor(text: str, option: str = "--actor") -> Actor:
    """``ROLE[:PARTY]`` from the command line. ``system`` is the daemon's own role (its timeouts, its
    escalations): a person at the shell acts as themselves, so it is refused here, naming *option*."""
    try:
        actor = Actor.parse(text)
    except ValidationError as exc:
        raise ValidationError(option, exc.message) from None
    if actor.role == "system":
        raise ValidationError(
            option,
            "system is the daemon's own role and cannot be taken from the command line; "
            "act as office, leader, committee, unit:NAME or deputy:NAME",
        )
    return actor


def written_when(eng: Engine, text: str | None, option: str = "--at") -> dt.datetime | None:
    """:func:`parse_when` for an instant something is written at: refused when it is far in the future."""
    return eng._written(parse_when(text, option), option)


def parse_sets(pairs: list[str] | None, option: str = "--set") -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationError(option, f"{pair!r} is not KEY=VALUE")
        if key.strip() in values:
            again = "put list entries in one --set, comma-separated" if option == "--set" else f"give {option} once"
            raise ValidationError(key.strip(), f"is given twice; {again}")
        values[key.strip()] = value
    return values


def _emit(as_json: bool, value: Any, human: str) -> None:
    if as_json:
        print(json.dumps(plain(value), ensure_ascii=False, indent=2))
    else:
        out.print(human)


def _item_line(item: Item) -> str:
    """One item as a clerk reads it: number, title, state; the version is what --expect-version takes."""
    return f"#{item.id} {item.title}：{plain_label(item.state_label)}（{item.state}，版本号 {item.version}）"


@app.command()
def init(
    ctx: typer.Context,
    office_name: Annotated[
        str | None,
        typer.Option(
            "--office-name",
            metavar="NAME",
            help="The office notices are signed by, e.g. 宽城满族自治县人大常委会办公室; stored in the database "
            "(office_name in the settings, if given, wins).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create or upgrade the database schema, record the loaded definitions and the office's name."""
    with _engine(ctx) as eng:
        numbers = {k: eng.definition_number(eng._current_id(k)) for k in eng.kinds}
        info: dict[str, Any] = {
            "db": eng.url,
            "kinds": {k: eng.definition(k).digest[:12] for k in eng.kinds},  # kept for scripts: the digests
            "definitions": {k: {"number": n, "digest": eng.definition(k).digest} for k, n in numbers.items()},
        }
        info["office"], office_line = cli_setup.set_office(eng, office_name, ctx.obj["settings"])
        _emit(
            as_json,
            info,
            f"database ready: {eng.url}\n"
            + "\n".join(f"  {k}: {version_text(n)} (digest {info['kinds'][k]})" for k, n in numbers.items())
            + f"\n{office_line}",
        )


@definitions_app.command("validate")
def definitions_validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="YAML files or folders [default: the bundled definitions].")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check definition files; every problem is printed as PATH:LINE:COL: message."""
    registry = Registry.default()
    errors: list[DefinitionError] = []
    checked: list[dict[str, Any]] = []
    for path in paths or [None]:  # type: ignore[list-item]
        try:
            for defn in load_definitions(path, registry):
                checked.append(
                    {
                        "path": defn.path,
                        "kind": defn.kind,
                        "version": defn.digest[:12],
                        "states": len(defn.states),
                        "transitions": len(defn.transitions),
                    }
                )
        except DefinitionError as exc:
            errors.extend(exc.errors)
    if as_json:
        print(
            json.dumps(
                {
                    "ok": not errors,
                    "definitions": checked,
                    "errors": [
                        {"file": e.file, "line": e.line, "column": e.column, "message": e.message} for e in errors
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for c in checked:
            out.print(
                f"ok {c['path']}: {c['kind']} version {c['version']}, {c['states']} states, "
                f"{c['transitions']} transitions"
            )
        for e in errors:
            print(str(e), file=sys.stderr)
    if errors:
        raise typer.Exit(2)


@definitions_app.command("graph")
def definitions_graph(
    ctx: typer.Context,
    kind: str,
    fmt: Annotated[str, typer.Option("--format", help="mermaid or dot.")] = "mermaid",
    internal: Annotated[bool, typer.Option("--internal", help="Also draw triggers that keep the state.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Draw a lifecycle from its YAML as a Mermaid state diagram or Graphviz dot (--json: states and edges)."""
    from workflow.graph import edges, to_dot, to_mermaid

    if fmt not in ("mermaid", "dot"):
        raise ValidationError("--format", f"must be mermaid or dot, not {fmt!r}")
    found = {d.kind: d for d in load_definitions(ctx.obj["definitions"], Registry.default())}
    if kind not in found:
        raise ValidationError("KIND", f"no lifecycle {kind!r}; known: {', '.join(sorted(found))}")
    defn = found[kind]
    if as_json:
        states = [{"name": s.name, "label": s.label, "final": s.final} for s in defn.states.values()]
        graph = [{"source": a, "dest": b, "trigger": t} for a, b, t in edges(defn, internal)]
        _emit(True, {"kind": kind, "initial": defn.initial, "states": states, "edges": graph}, "")
    else:
        print((to_mermaid if fmt == "mermaid" else to_dot)(defn, internal), end="")


@party_app.command("add")
def party_add(
    ctx: typer.Context,
    role: Annotated[str, typer.Argument(help="unit, deputy or leader.")],
    name: str,
    principal_leader: Annotated[str | None, typer.Option(help="主要领导 (负总责).")] = None,
    department_head: Annotated[str | None, typer.Option(help="部门负责人 (具体责任人).")] = None,
    handler: Annotated[str | None, typer.Option(help="承办人员 (直接责任人).")] = None,
    case_leader: Annotated[str | None, typer.Option(help="包案领导.")] = None,
    contact: Annotated[
        list[str] | None,
        typer.Option(
            "--contact",
            metavar="KEY=ADDRESS",
            help="Where notices go (repeatable): a mail address, an http(s):// webhook or file:FOLDER. A unit's keys: "
            "handler, department_head, principal_leader, case_leader; a deputy's or a leader's: address.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add (or update) a handling unit with its chain of responsibility, a deputy or a leader."""
    chain: dict[str, Any] = {
        k: v
        for k, v in {
            "principal_leader": principal_leader,
            "department_head": department_head,
            "handler": handler,
            "case_leader": case_leader,
        }.items()
        if v
    }
    if contact:
        chain["contacts"] = parse_sets(contact, "--contact")
        cli_setup.check_contacts(role, chain["contacts"])
    with _engine(ctx) as eng:
        row = eng.add_party(role, name, **chain)
    _emit(as_json, row, f"{row['role']} {row['name']} recorded")


@party_app.command("list")
def party_list(
    ctx: typer.Context,
    role: Annotated[str | None, typer.Option(help="unit or deputy.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List units and deputies."""
    with _engine(ctx) as eng:
        rows = eng.parties(role)
    table = Table("role", "name", "主要领导", "部门负责人", "承办人员", "包案领导")
    for r in rows:
        table.add_row(
            r["role"],
            r["name"],
            *(r[k] or "" for k in ("principal_leader", "department_head", "handler", "case_leader")),
        )
    if as_json:
        _emit(True, rows, "")
    else:
        out.print(table)


@app.command()
def submit(
    ctx: typer.Context,
    kind: str,
    title: Annotated[str, typer.Option("--title", help="The item's title.")],
    body: Annotated[str | None, typer.Option("--body")] = None,
    proposer: Annotated[list[str] | None, typer.Option("--proposer", help="A proposing deputy (repeatable).")] = None,
    sets: SetOpt = None,
    at: AtOpt = None,
    actor: ActorOpt = "office",
    allow_future: AllowFutureOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Submit a new item of KIND (suggestion, review_opinion); its fields: duban definitions show KIND submit."""
    data: dict[str, Any] = {"title": title, **parse_sets(sets)}
    if body is not None:
        data["body"] = body
    if proposer:  # --proposer "王芳、李强" is two proposers, as in an import's 提出代表 column
        data["proposers"] = [name for given in proposer for name in split_list(given)]
    with _engine(ctx, allow_future=allow_future) as eng, cli_definitions.fields_hint(eng, "submit", kind=kind):
        item = eng.submit(kind, actor=parse_actor(actor), at=written_when(eng, at), data=data)
    _emit(as_json, item, _item_line(item))


@app.command()
def fire(
    ctx: typer.Context,
    item: Annotated[int, typer.Argument(max=INT_MAX)],
    trigger: str,
    sets: SetOpt = None,
    at: AtOpt = None,
    actor: ActorOpt = "office",
    expect_version: Annotated[
        int | None, typer.Option(max=INT_MAX, help="Fail with a conflict if the item is not at this version.")
    ] = None,
    allow_future: AllowFutureOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Fire TRIGGER on ITEM, e.g. duban fire 3 assign --set lead_unit=市民政局.

    TRIGGER's fields, their types and choices: duban definitions show KIND TRIGGER
    (e.g. duban definitions show suggestion assign); the triggers ITEM allows now: duban show ITEM.
    """
    with _engine(ctx, allow_future=allow_future) as eng, cli_definitions.fields_hint(eng, trigger, item=item):
        result = eng.fire(
            item,
            trigger,
            actor=parse_actor(actor),
            at=written_when(eng, at),
            expected_version=expect_version,
            data=parse_sets(sets),
        )
    _emit(as_json, result, _item_line(result))


@app.command()
def show(
    ctx: typer.Context,
    item: Annotated[int, typer.Argument(max=INT_MAX)],
    as_actor: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show an item: state, data, units, promises, problems, contacts, votes and its history."""
    actor = parse_actor(as_actor, "--as") if as_actor else None
    with _engine(ctx) as eng:
        detail = eng.get(item, actor=actor)
        now = triggers_now(eng, item, actor)
    if as_json:
        _emit(True, {**detail.to_dict(), "triggers_now": now}, "")
        return
    defn = eng.definition(detail.kind) if detail.kind in eng.kinds else None
    out.print(_item_line(detail), style="bold")
    out.print(
        f"{plain_label(defn.label) if defn else detail.kind}，{detail.year} 年度，第 {detail.round + 1} 轮办理"
        f"{'，重点督办' if detail.key_supervised else ''}，流程定义{version_text(detail.definition_number)}"
    )
    for key, value in detail.data.items():  # the keys are what --set KEY=VALUE takes
        out.print(f"  {key}: " + shown(value).replace("\n", "\n    "))
    for name, title in _RECORDS.items():
        if rows := getattr(detail, name):
            out.print(record_table(f"{title}（时间为北京时间）", rows))
    if detail.deadlines:
        _print_clocks(detail.deadlines)
    heads = ("#", "时间（北京时间）", "操作人", "操作", "原状态", "新状态")
    history = Table(*heads, title="办理记录", title_justify="left")
    for h in detail.history:
        spec = defn.transition(h.source, h.trigger) if defn and h.source else None
        step = plain_label(spec.label) if spec and spec.label else ENGINE_TRIGGERS.get(h.trigger, h.trigger)
        states = [plain_label(defn.state_label(x)) if defn and x else (x or "") for x in (h.source, h.dest)]
        when = beijing_text(h.at, "minutes", label=False)
        history.add_row(str(h.seq), when, h.actor, f"{step}（{h.trigger}）", *states)
    out.print(history)
    cli_definitions.print_triggers_now(now, detail, actor)


#: An item's sub-records as ``duban show`` titles them.
_RECORDS = {
    "assignments": "承办单位",
    "promises": "承诺事项",
    "problems": "问题清单",
    "contacts": "联系代表记录",
    "votes": "测评记录",
}


@app.command("list")
def list_items(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option()] = None,
    state: Annotated[str | None, typer.Option()] = None,
    unit: Annotated[str | None, typer.Option(help="Items assigned to this unit.")] = None,
    year: Annotated[int | None, typer.Option(max=INT_MAX)] = None,
    voided: Annotated[
        bool, typer.Option("--voided", help="Include voided items (作废); --state voided lists only them.")
    ] = False,
    as_actor: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List items by kind, state, unit and year (voided items only with --voided)."""
    actor = parse_actor(as_actor, "--as") if as_actor else None
    with _engine(ctx) as eng:
        items = eng.items(kind=kind, state=state, unit=unit, year=year, actor=actor, voided=voided)
        kinds = {k: plain_label(eng.definition(k).label) for k in eng.kinds}
    table = Table("编号", "类别", "标题", "状态", "年度", "轮次")
    for i in items:
        kind = kinds.get(i.kind, i.kind)
        table.add_row(str(i.id), kind, i.title, plain_label(i.state_label), str(i.year), str(i.round))
    if as_json:
        _emit(True, items, "")
    else:
        out.print(table)


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context, item: Annotated[int | None, typer.Argument(max=INT_MAX)] = None, as_json: JsonOpt = False
) -> None:
    """Check the audit chain of one item or of all; exit 1 and name the first broken link if any."""
    with _engine(ctx) as eng:
        breaks = eng.verify_audit(item)
        foreign = eng.foreign_triggers()
    if as_json:
        found = [{"item": b.item_id, "seq": b.seq, "problem": b.problem} for b in breaks]
        _emit(True, {"ok": not (breaks or foreign), "breaks": found, "foreign_triggers": foreign}, "")
    elif breaks or foreign:
        for b in breaks:
            print(f"broken: {b}", file=sys.stderr)
        for f in foreign:
            print(f"foreign {f}: duban creates none; it can rewrite later writes unseen by the audit", file=sys.stderr)
    else:
        out.print("audit chain intact")
    if breaks or foreign:
        raise typer.Exit(1)


@app.command()
def deadline(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", metavar="DATE", help="The start day (excluded), YYYY-MM-DD.")],
    period: Annotated[str, typer.Option("--period", help='"3 months", "3个月", "7 working days", "20 days".')],
    event: Annotated[str, typer.Option("--event", help="What starts the period, e.g. 交办.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Compute a statutory due date, with how it was counted and whether it is provisional."""
    try:
        day = dt.date.fromisoformat(start.strip())
    except ValueError:
        raise ValidationError("--from", f"{start!r} is not a date written YYYY-MM-DD") from None
    try:
        due = Calendar.load(ctx.obj["calendar"]).due(day, parse_period(period), event)
    except PeriodError as exc:
        raise ValidationError("--period", str(exc)) from None
    flag = " (provisional 暂定)" if due.provisional else ""
    _emit(as_json, due, f"{due.due}{flag}\n{due.explanation}")


@calendar_app.command("check")
def calendar_check(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Which years the official calendar covers, and which open deadlines are provisional."""
    cal = Calendar.load(ctx.obj["calendar"])
    with _engine(ctx, cal) as eng:
        provisional = eng.deadlines(provisional=True)
        cal = eng.calendar  # with the years stored in the database
    years = cal.years
    info = {"years": years, "sources": {str(y): cal.sources[y] for y in years}, "provisional_deadlines": provisional}
    lines = [
        f"official calendar loaded for {years[0]}–{years[-1]} ({len(years)} years)" if years else "no calendar loaded"
    ]
    gaps = sorted(set(range(years[0], years[-1] + 1)) - set(years)) if years else []
    if gaps:
        lines.append(f"missing years: {', '.join(map(str, gaps))}")
    lines.append(
        f"next year {dt.date.today().year + 1}: {'loaded' if dt.date.today().year + 1 in years else 'NOT loaded'}"
    )
    lines.append(f"{len(provisional)} open deadline(s) are provisional")
    lines += [f"  item {d['item_id']} {d['label']}: {d['due']} — {d['explanation']}" for d in provisional]
    _emit(as_json, info, "\n".join(lines))


@calendar_app.command("load")
def calendar_load(ctx: typer.Context, folder: Path, as_json: JsonOpt = False) -> None:
    """Store FOLDER's year files in the database (every process then counts with them) and recompute
    open deadlines, each change audited; a bad file is reported FILE:LINE:COL and nothing is stored."""
    with _engine(ctx) as eng:
        changes = eng.reload_calendar([folder])
    lines = [f"calendar loaded from {folder}: {len(changes)} open deadline(s) moved"]
    lines += [f"  item {c['item']} {c['clock']}: {c['old_due']} -> {c['new_due']}" for c in changes]
    _emit(as_json, changes, "\n".join(lines))


@calendar_app.command("list")
def calendar_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every calendar year counted with: stored (with its version) or bundled, and its notice."""
    with _engine(ctx) as eng:
        years = eng.calendar_years()
    lines = [
        f"{y['year']}  {'stored v' + str(y['version']) if y['version'] else 'bundled'}  {y['notice']}" for y in years
    ]
    _emit(as_json, years, "\n".join(lines))


@app.command()
def deadlines(
    ctx: typer.Context,
    item: Annotated[int | None, typer.Option(max=INT_MAX, help="Only this item's clocks.")] = None,
    unit: Annotated[str | None, typer.Option(help="Items assigned to this unit.")] = None,
    overdue: Annotated[str | None, typer.Option(metavar="WHEN", help="Only deadlines ended by WHEN.")] = None,
    as_actor: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List open deadlines, soonest first."""
    actor = parse_actor(as_actor, "--as") if as_actor else None
    with _engine(ctx) as eng:
        rows = eng.deadlines(item=item, unit=unit, overdue_at=parse_when(overdue, "--overdue"), actor=actor)
    if as_json:
        _emit(True, rows, "")
        return
    _print_clocks(rows, with_item=True)


def _print_clocks(rows: list[dict[str, Any]], with_item: bool = False) -> None:
    """One line per clock and its explanation beneath: explanations are read, not scanned in a table."""
    out.print("clocks", style="bold")
    for d in rows:
        item = f"item {d['item_id']} " if with_item else ""
        subject = f" {d['subject']}" if d["subject"] else ""
        flag = " 暂定 (provisional)" if d["provisional"] else ""
        level = f", escalation level {d['level']}" if d["level"] else ""
        out.print(f"  {item}{d['label']}{subject}: due {d['due']}{flag} — {d['state']}{level}")
        out.print(f"    {d['explanation']}")


@app.command("dispatch")
def dispatch_command(
    ctx: typer.Context,
    now: Annotated[str | None, typer.Option("--now", metavar="WHEN", help="Act as if it were WHEN.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Send the notices that are due, once."""
    with _engine(ctx) as eng:
        counts = eng.dispatch(parse_when(now, "--now"))
    _emit(as_json, counts, ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command()
def demo(
    db: Annotated[
        str,
        typer.Option(
            "--db",
            metavar="URL|PATH",
            help="Where to write the demo database (recreated) [default: its own file, duban-demo.db].",
        ),
    ] = "sqlite:///duban-demo.db",
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that holds items or parties (they are deleted).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Walk realistic items through every path of both lifecycles over a simulated year.

    It never touches the global --db / DUBAN_DB, and refuses a database holding items or parties unless --force.
    """
    from workflow.demo import run_demo

    db = cli_setup.database_url(db)
    _check_url(db)
    summary = run_demo(db, echo=None if as_json else out.print, force=force, program=program())
    if as_json:
        _emit(True, summary, "")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``duban`` console script; returns the exit status. Every failure is one line on
    stderr (with ``--json``, one JSON object ``{"error": {"type", "message", "field"}}``): see
    :func:`workflow.cli_errors.run`."""
    return cli_errors.run(app, sys.argv[1:] if argv is None else list(argv))


# The daemon's, the import and the report commands live in their own modules; importing one adds
# its commands to `app`.
# cli_definitions: `definitions show` and the pointers to it (fire's and submit's errors, show's triggers).
from workflow import cli_audit, cli_change, cli_daemon, cli_definitions, cli_import, cli_notices, cli_report  # noqa: E402, F401

if __name__ == "__main__":
    sys.exit(main())
