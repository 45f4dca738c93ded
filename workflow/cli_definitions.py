"""``duban definitions show KIND [TRIGGER]``: the states, the triggers with who may fire them, and a
trigger's fields (name, Chinese label, type, required, choices, record shape), so nothing is guessed.

Also the pointers to it: the hint an error about a trigger's fields ends with, and the triggers
``duban show`` lists as allowed now. Imported by :mod:`workflow.cli`, which owns ``definitions``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from workflow.cli import JsonOpt, _emit, definitions_app, out
from workflow.definition import Definition
from workflow.discover import ROLE_ACTORS, SUBMIT, describe
from workflow.engine import Engine, load_definitions
from workflow.errors import ValidationError, WorkflowError
from workflow.fields import MissingFields
from workflow.model import Actor, Item
from workflow.registry import Registry

#: What a value of each type looks like on the command line.
_WRITTEN = {
    "date": "YYYY-MM-DD",
    "period": "3 months, 3个月, 7 working days",
    "boolean": "是/否 (true/false)",
    "list": "names separated by 、 , or ; (or JSON)",
    "text": "free text",
}
#: The submit fields that have their own option on ``duban submit``.
_SUBMIT_OPTIONS = {"title": "--title", "body": "--body", "proposers": "--proposer"}


def definition(ctx: typer.Context, kind: str) -> Definition:
    """The loaded definition of *kind* (``--definitions`` or the bundled ones), or bad input naming KIND."""
    found = {d.kind: d for d in load_definitions(ctx.obj["definitions"], Registry.default())}
    if kind not in found:
        raise ValidationError("KIND", f"no lifecycle {kind!r}; known: {', '.join(sorted(found))}")
    return found[kind]


@definitions_app.command("show")
def definitions_show(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="suggestion or review_opinion.")],
    trigger: Annotated[
        str | None, typer.Argument(help="A trigger (or submit): its fields, types, choices and who may fire it.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """What KIND asks for: its states, its triggers and who may fire them; with TRIGGER, that trigger's fields.

    e.g. duban definitions show suggestion assign
    """
    doc = describe(definition(ctx, kind), trigger)
    if as_json:
        _emit(True, doc, "")
    elif trigger is None:
        _print_kind(doc)
    else:
        _print_trigger(doc, trigger)


def _print_kind(doc: dict[str, Any]) -> None:
    out.print(f"{doc['kind']}: {doc['label']}, version {doc['version']}", style="bold")
    states = _table(f"states (an item starts {doc['initial']})", "state", "label")
    for s in doc["states"]:
        states.add_row(s["name"], s["label"] + (", final" if s["final"] else ""))
    out.print(states)
    triggers = _table("triggers (duban fire ITEM TRIGGER --actor WHO)", "trigger", "label; from → to; who")
    triggers.add_row(
        SUBMIT, f"提交 (duban submit {doc['kind']})\n→ {doc['initial']}; by {_who(doc['submit']['roles'])}"
    )
    for t in doc["triggers"]:
        triggers.add_row(t["trigger"], f"{t['label']}\n{_moves(t)}; by {_who(t['roles'])}")
    out.print(triggers)
    out.print(f"A trigger's fields: duban definitions show {doc['kind']} TRIGGER (e.g. submit)")


def _print_trigger(doc: dict[str, Any], trigger: str) -> None:
    kind = doc["kind"]
    if trigger == SUBMIT:
        variants = [{"label": "提交", "from": [], "to": [doc["initial"]], **doc["submit"]}]
        usage = f"duban submit {kind} --title … --set NAME=VALUE"
    else:
        variants = doc["triggers"]
        usage = f"duban fire ITEM {trigger} --set NAME=VALUE"
    shown: list[Any] | None = None
    for v in variants:
        out.print(f"{kind} {trigger}: {v['label']}", style="bold")
        out.print(f"  {_moves(v, '(new item)')}; fired by {_who(v['roles'])}")
        if v["fields"] != shown:  # a trigger from several states lists its fields once when they agree
            _print_fields(v["fields"], trigger == SUBMIT)
            shown = v["fields"]
    out.print(f"Usage: {usage}; a choice by its label or its code" if shown else f"Usage: {usage.split(' --set')[0]}")


def _moves(t: dict[str, Any], new: str = "") -> str:
    """``registered → assigned``; ``assigned → handling (or state kept)`` where a branch keeps the state."""
    to = ", ".join(t["to"])
    kept = "(state kept)" if not to else " (or state kept)" if t.get("keeps_state") else ""
    return (", ".join(s["state"] for s in t["from"]) or new) + " → " + to + kept


def _print_fields(fields: list[dict[str, Any]], submit: bool) -> None:
    if not fields:
        out.print("  no fields")
        return
    table = _table("fields (--set NAME=VALUE)", "field", "label", "type", "required", "values")
    for f in fields:
        _field_rows(table, f, "", submit)
    out.print(table)


def _field_rows(table: Table, f: dict[str, Any], prefix: str, submit: bool) -> None:
    name = prefix + f["name"] + (f": {f['shape']}" if f["type"] == "records" else "")
    choices = [f"{c['label']} ({c['code']})" if c["label"] else c["code"] for c in f.get("choices", [])]
    notes = ["\n".join(choices) or _WRITTEN.get(f["type"], "")]
    if f["type"] == "records":
        notes = ["JSON, e.g. " + _example(f)]
    if "min" in f or "max" in f:
        notes = [" ".join(b for b in (_bound("≥", f.get("min")), _bound("≤", f.get("max"))) if b)]
    if f.get("set_by"):
        notes.append("set only by " + ", ".join("its clock (on_due)" if s == "on_due" else s for s in f["set_by"]))
    if submit and f["name"] in _SUBMIT_OPTIONS:
        notes.append(f"option {_SUBMIT_OPTIONS[f['name']]}")
    table.add_row(name, f["label"], f["type"], "yes" if f["required"] else "no", "; ".join(n for n in notes if n))
    for sub in f.get("fields", []):
        _field_rows(table, sub, f"  {f['name']}[].", submit=False)


def _bound(sign: str, value: float | None) -> str:
    return "" if value is None else f"{sign} {value:g}"


def _example(f: dict[str, Any]) -> str:
    samples = {"date": '"2026-12-31"', "integer": "1", "number": "1", "boolean": "true"}
    entry = ", ".join(f'"{s["name"]}": {samples.get(s["type"], chr(34) + "…" + chr(34))}' for s in f["fields"])
    return "[{" + entry + "}]"


def _actor(role: str) -> str:
    """A role and, when it is not the role itself, the ``--actor`` that acts in it: ``lead_unit (unit:NAME)``."""
    actor = ROLE_ACTORS.get(role, role)
    return role if actor == role else f"{role} ({actor})"


def _who(roles: list[dict[str, str]]) -> str:
    return ", ".join(
        f"{r['role']} {r['label']}" + ("" if r["actor"] == r["role"] else f" ({r['actor']})") for r in roles
    )


def _table(title: str, *columns: str) -> Table:
    """A table that fits the terminal (80 columns, CJK measured) by folding cells, never cutting them."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, name in enumerate(columns):  # the first column names what a clerk types: kept whole
        table.add_column(name, overflow="fold", no_wrap=i == 0)
    return table


# ---- pointers from other commands -------------------------------------------------------------


@contextmanager
def fields_hint(eng: Engine, trigger: str, item: int | None = None, kind: str | None = None) -> Iterator[None]:
    """An error about the fields of *trigger* (one missing, wrong or unknown) ends by saying where the
    fields are listed: ``duban definitions show KIND TRIGGER``."""
    try:
        yield
    except ValidationError as exc:
        if kind is None and item is not None and not exc.field.startswith("-"):
            try:
                kind = eng.get(item).kind
            except WorkflowError:  # an --at or --actor refused before the item was read: no field to point to
                raise exc from None
        if kind in eng.kinds and _about_fields(exc, eng.definition(kind), trigger):
            hint = f"; the fields are listed by: duban definitions show {kind} {trigger}"
            exc.message += hint
            exc.args = (f"{exc.args[0]}{hint}",)
        raise


def _about_fields(exc: ValidationError, defn: Definition, trigger: str) -> bool:
    if isinstance(exc, MissingFields) or exc.message.startswith("is not a field here"):
        return True
    specs = (
        defn.submit.fields
        if trigger == SUBMIT
        else [f for t in defn.transitions if t.trigger == trigger for f in t.fields]
    )
    return exc.field.split(".")[0].split("[")[0] in {f.name for f in specs}


def print_triggers_now(found: list[dict[str, Any]], item: Item, actor: Actor | None) -> None:
    """``duban show``'s list of the triggers allowed on *item* now (:func:`~workflow.discover.triggers_now`)."""
    whose = f" for {actor}" if actor else ""
    if not found:
        out.print(f"triggers allowed now{whose}: none")
        return
    table = _table(f"triggers allowed now{whose}", "trigger", "label", "who (--actor)")
    for t in found:
        table.add_row(t["trigger"], t["label"], ", ".join(_actor(r) for r in t["roles"]))
    out.print(table)
    out.print(f"Fire one: duban fire {item.id} TRIGGER; its fields: duban definitions show {item.kind} TRIGGER")
