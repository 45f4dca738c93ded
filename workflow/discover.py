"""What a lifecycle asks for, so a clerk need not guess: its states, its triggers with who may fire
them, and each trigger's fields (name, Chinese label, type, required, choices, record shape).

:func:`describe` is what ``duban definitions show KIND [TRIGGER]`` prints; :func:`triggers_now` is
what ``duban show`` lists as the triggers allowed on an item now (for one actor, with ``--as``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow import store
from workflow.audit_export import FIELD_NAMES
from workflow.errors import NotFound, ValidationError
from workflow.fields import FieldSpec, labels_from
from workflow.model import Actor
from workflow.registry import Context

if TYPE_CHECKING:
    from workflow.definition import Definition, TransitionSpec
    from workflow.engine import Engine

__all__ = ["ROLE_ACTORS", "ROLE_LABELS", "describe", "field_doc", "shape", "trigger_names", "triggers_now"]

SUBMIT = "submit"
#: Who each role of a definition is, in Chinese, and the ``--actor`` that acts in it.
ROLE_LABELS = {
    "office": "办公室",
    "leader": "常委会领导",
    "committee": "专门委员会",
    "system": "系统(自动)",
    "assigned_unit": "承办单位",
    "lead_unit": "主办单位 or 分办单位",
    "co_unit": "协办单位",
    "proposer": "提出代表",
    "lead_deputy": "领衔代表",
}
ROLE_ACTORS = {
    "office": "office",
    "leader": "leader",
    "committee": "committee",
    "system": "the daemon",
    "assigned_unit": "unit:NAME",
    "lead_unit": "unit:NAME",
    "co_unit": "unit:NAME",
    "proposer": "deputy:NAME",
    "lead_deputy": "deputy:NAME",
}
_ITEM = store.TABLES["duban_item"]


def shape(spec: FieldSpec) -> str:
    """A records field's entries as a clerk writes them, ``[{what, by}]``; a list's ``[name, …]``."""
    if spec.type == "records":
        return "[{" + ", ".join(f.name for f in spec.fields) + "}]"
    return "[name, …]" if spec.type == "list" else ""


def field_label(spec: FieldSpec) -> str:
    """The field's Chinese name: its label, unless the label only lists the choices (``满意 / 不满意``)."""
    if labels_from(spec.label, spec.choices):
        return FIELD_NAMES.get(spec.name, "")
    return spec.label


def field_doc(spec: FieldSpec) -> dict[str, Any]:
    """One field as ``definitions show --json`` gives it."""
    doc: dict[str, Any] = {
        "name": spec.name,
        "label": field_label(spec),
        "type": spec.type,
        "required": spec.required,
    }
    if spec.choices:
        doc["choices"] = [{"code": code, "label": label} for code, label in spec.labelled()]
    if spec.type in ("list", "records"):
        doc["shape"] = shape(spec)
        doc["min_items"], doc["max_items"] = spec.min_items, spec.max_items
    if spec.fields:
        doc["fields"] = [field_doc(f) for f in spec.fields]
    for key in ("min", "max", "max_length"):
        if getattr(spec, key) is not None:
            doc[key] = getattr(spec, key)
    if spec.set_by:
        doc["set_by"] = list(spec.set_by)
    return doc


def _roles(roles: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"role": r, "label": ROLE_LABELS.get(r, r), "actor": ROLE_ACTORS.get(r, r)} for r in roles]


def _transition(t: TransitionSpec, defn: Definition) -> dict[str, Any]:
    return {
        "trigger": t.trigger,
        "label": t.label,
        "from": [{"state": s, "label": defn.state_label(s)} for s in t.sources],
        "to": sorted({d for d in t.dests() if d is not None}, key=list(defn.states).index),
        "keeps_state": None in t.dests(),  # a branch (or the trigger itself) that leaves the state as it is
        "roles": _roles(t.roles),
        "fields": [field_doc(f) for f in t.fields],
    }


def trigger_names(defn: Definition) -> list[str]:
    """Every trigger of *defn*, ``submit`` first, each once, in the order the definition gives them."""
    return [SUBMIT, *dict.fromkeys(t.trigger for t in defn.transitions)]


def describe(defn: Definition, trigger: str | None = None) -> dict[str, Any]:
    """The states, the submit and every trigger of *defn* (only *trigger*'s, when given; ``submit``
    names the submit); ValidationError naming ``TRIGGER`` for a trigger the definition does not have."""
    if trigger is not None and trigger not in trigger_names(defn):
        import difflib

        close = difflib.get_close_matches(trigger, trigger_names(defn), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValidationError(
            "TRIGGER", f"{defn.kind} has no trigger {trigger!r}{hint}; triggers: {', '.join(trigger_names(defn))}"
        )
    doc: dict[str, Any] = {
        "kind": defn.kind,
        "label": defn.label,
        "version": defn.digest[:12],
        "initial": defn.initial,
        "states": [{"name": s.name, "label": s.label, "final": s.final} for s in defn.states.values()],
    }
    if trigger in (None, SUBMIT):
        doc["submit"] = {"roles": _roles(defn.submit.roles), "fields": [field_doc(f) for f in defn.submit.fields]}
    if trigger != SUBMIT:
        doc["triggers"] = [_transition(t, defn) for t in defn.transitions if trigger in (None, t.trigger)]
    return doc


def triggers_now(engine: Engine, item_id: int, actor: Actor | None = None) -> list[dict[str, Any]]:
    """The triggers that may fire on the item in its state now, with their label and roles; with
    *actor*, only those the actor holds a role for on this item (its guards may still refuse a fire,
    e.g. a reassignment request after the window). NotFound for an item *actor* may not see."""
    from workflow import scope

    with store.reading(engine.db) as conn:
        row = conn.execute(sa.select(_ITEM).where(_ITEM.c.id == item_id)).mappings().first()
        if row is None or not scope.can_see(conn, actor, item_id):
            raise NotFound(f"no item {item_id}")
        item = dict(row)
        defn = engine._version(item["definition_id"], conn)[0]
        found = []
        for trigger in defn.allowed_triggers(item["state"]):
            spec = defn.transition(item["state"], trigger)
            assert spec is not None
            if actor is not None:
                now = dt.datetime.now(dt.UTC)
                ctx = Context(item["state"], item, {}, actor, now, conn, defn, {}, trigger)
                if not ctx.held() & set(spec.roles):
                    continue
            found.append({"trigger": trigger, "label": spec.label, "roles": list(spec.roles)})
        return found
