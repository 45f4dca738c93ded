"""Lifecycle definitions: YAML in, typed and validated objects out, compiled to `transitions`.

One YAML file describes one lifecycle (``kind``). Loading checks it strictly and reports every
problem as ``FILE:LINE:COLUMN: message``. A definition's version is the digest of its content:
edit the file and it becomes a new version, while items already in flight keep theirs.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.calendar import PeriodError, parse_period
from workflow.clocks import CHAIN, ClockSpec, parse_clocks
from workflow.errors import DefinitionError
from workflow.fields import FIELD_TYPES, FieldSpec, distinct_labels, labels_from
from workflow.notify import NoticeSpec, bundled_notice_types
from workflow.registry import Registry
from workflow.yamlfile import LocatedYAML, YamlPath, read_text

__all__ = [
    "ROLES",
    "Branch",
    "Definition",
    "ParameterSpec",
    "StateSpec",
    "SubmitSpec",
    "TransitionSpec",
    "bundled_dir",
    "load_definition",
    "parse_definition",
]

#: Roles a transition may allow. ``lead_unit``, ``co_unit`` and ``assigned_unit`` are units acting
#: on an item assigned to them; ``proposer`` and ``lead_deputy`` are deputies acting on their own item.
#: In a field's ``set_by``: the value comes only from a clock's ``on_due`` fire (deemed satisfied).
ON_DUE = "on_due"
ROLES = ("office", "leader", "committee", "system", "assigned_unit", "lead_unit", "co_unit", "proposer", "lead_deputy")
PARAMETER_TYPES = ("period", "integer", "number", "fraction", "boolean", "string")
RESERVED_FIELDS = ("actor", "at", "data", "expected_version", "item_id", "trigger", "kind")
_KEYS = {
    "top": {
        "kind",
        "label",
        "description",
        "initial",
        "parameters",
        "states",
        "submit",
        "transitions",
        "clocks",
        "notices",
    },
    "state": {"label", "final", "description"},
    "transition": {
        "trigger",
        "source",
        "dest",
        "roles",
        "label",
        "description",
        "fields",
        "guards",
        "actions",
        "branches",
        "notices",
    },
    "branch": {"when", "if", "dest", "actions"},
    "field": {
        "type",
        "required",
        "label",
        "description",
        "choices",
        "min",
        "max",
        "max_length",
        "min_items",
        "max_items",
        "fields",
        "keep",
        "set_by",
    },
    "parameter": {"type", "default", "label", "description"},
    "submit": {"roles", "fields", "guards", "label"},
    "clock": {
        "label",
        "description",
        "start",
        "stop",
        "period",
        "long_period",
        "long_when",
        "pause",
        "resume",
        "pause_if",
        "extend",
        "ceiling",
        "each",
        "date",
        "subject",
        "reminders",
        "reminder_template",
        "escalation",
        "start_if",
        "on_due",
        "climb_by_round",
        "redate",
    },
    "on_due": {"trigger", "data"},
    "clock_trigger": {"trigger", "to", "when", "all"},
    "level": {"level", "after", "notify", "template"},
    "notice": {"type", "to", "units", "deadline", "when_state"},
}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class StateSpec:
    name: str
    label: str
    final: bool = False


@dataclass(frozen=True, slots=True)
class Branch:
    """An alternative destination taken when ``when`` matches the data or ``condition`` holds."""

    dest: str | None
    when: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    condition: str | None = None
    actions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    """A trigger from one or more states. ``dest`` None keeps the state (an internal transition)."""

    trigger: str
    sources: tuple[str, ...]
    dest: str | None
    roles: tuple[str, ...]
    label: str = ""
    fields: tuple[FieldSpec, ...] = ()
    guards: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    branches: tuple[Branch, ...] = ()
    notices: tuple[NoticeSpec, ...] = ()

    def dests(self) -> Iterable[str | None]:
        yield self.dest
        yield from (b.dest for b in self.branches)


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    name: str
    type: str
    default: Any
    label: str = ""


@dataclass(frozen=True, slots=True)
class SubmitSpec:
    roles: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    guards: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Definition:
    """A validated lifecycle. Compare versions by ``digest``."""

    kind: str
    label: str
    path: str
    source: str
    digest: str
    initial: str
    states: dict[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    parameters: dict[str, ParameterSpec]
    submit: SubmitSpec
    clocks: dict[str, ClockSpec] = field(default_factory=dict)
    _index: dict[tuple[str, str], TransitionSpec] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for t in self.transitions:
            for s in t.sources:
                self._index[(s, t.trigger)] = t

    def transition(self, state: str, trigger: str) -> TransitionSpec | None:
        return self._index.get((state, trigger))

    def allowed_triggers(self, state: str) -> list[str]:
        return [trigger for (source, trigger) in self._index if source == state]

    def state_label(self, state: str) -> str:
        spec = self.states.get(state)
        return spec.label if spec else state

    def defaults(self) -> dict[str, Any]:
        return {name: p.default for name, p in self.parameters.items()}


def bundled_dir(name: str) -> Path:
    """Where the shipped data folder *name* (``definitions``, ``notifications``) lives.

    Inside an installed wheel it is ``workflow/_data/NAME``; in a source checkout, ``NAME`` beside
    the package.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data" / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"duban's bundled {name}/ folder is missing; reinstall duban")


def load_definition(
    path: str | Path, registry: Registry | None = None, notice_types: set[str] | None = None
) -> Definition:
    """Read, validate and return the definition in *path*; raise DefinitionError if it is wrong."""
    path = Path(path)
    return parse_definition(read_text(path), str(path), registry, notice_types)


def parse_definition(
    text: str, file: str = "<string>", registry: Registry | None = None, notice_types: set[str] | None = None
) -> Definition:
    """Validate YAML *text* as a definition; *file* names it in error messages."""
    doc = LocatedYAML(text, file)
    return _Parser(doc, registry or Registry.default(), notice_types).parse()


def _known(name: Any, names: Iterable[str]) -> bool:
    """Whether *name* is one of *names*; a list or mapping where a name belongs is never one (nor hashable)."""
    return isinstance(name, str) and name in names


def _suggest(name: Any, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(name), list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Parser:
    def __init__(self, doc: LocatedYAML, registry: Registry, notice_types: set[str] | None = None) -> None:
        self.doc = doc
        self.registry = registry
        self.notice_types = bundled_notice_types() if notice_types is None else notice_types
        self.state_names: set[str] = set()
        self.errors: list[DefinitionError] = []

    def error(self, path: YamlPath, message: str, key: bool = False) -> None:
        self.errors.append(DefinitionError(message, self.doc.file, *self.doc.where(path, key)))

    def fail(self) -> DefinitionError:
        first = self.errors[0]
        first.errors = list(self.errors)
        return first

    def mapping(self, value: Any, path: YamlPath, kind: str, required: Iterable[str] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping of {kind} keys, got {_typename(value)}")
            return {}
        allowed = _KEYS[kind]
        for key in value:
            if key not in allowed:
                self.error(
                    (*path, key),
                    f"unknown key {key!r} in {kind}{_suggest(key, allowed)}; allowed: {', '.join(sorted(allowed))}",
                    key=True,
                )
        for key in required:
            if key not in value:
                self.error(path, f"{kind} needs the key {key!r}")
        return value

    def names(self, value: Any, path: YamlPath, what: str) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            self.error(path, f"{what} must be a name or a list of names, got {_typename(value)}")
            return ()
        return tuple(items)

    def text(self, value: Any, path: YamlPath, what: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.error(path, f"{what} must be text, got {_typename(value)}")
            return ""
        return value

    def registered(self, names: tuple[str, ...], path: YamlPath, table: dict[str, Any], what: str) -> None:
        for i, name in enumerate(names):
            if name not in table:
                hint = " (names are looked up in the engine's registry, never imported)" if "." in name else ""
                known = ", ".join(sorted(table)) or "none"
                self.error(
                    (*path, i),
                    f"{what} {name!r} is not in the engine's registry{hint}"
                    f"{_suggest(name, table)}; known {what}s: {known}",
                )

    def parse(self) -> Definition:
        root = self.doc.root
        if root is None:
            raise DefinitionError(
                "the file is empty; a definition needs kind, initial, states, submit and transitions",
                self.doc.file,
                1,
                1,
            )
        top = self.mapping(root, (), "top", required=("kind", "initial", "states", "submit", "transitions"))
        if self.errors and not top:
            raise self.fail()
        kind = top.get("kind")
        if not isinstance(kind, str) or not _NAME.match(kind):
            self.error(("kind",), f"kind must be a lower-case name like 'suggestion', got {kind!r}")
        states = self.states(top.get("states"))
        parameters = self.parameters(top.get("parameters", {}))
        submit = self.submit(top.get("submit"))
        self.state_names = set(states)
        transitions = self.transitions(top.get("transitions"), states)
        initial = top.get("initial")
        if not _known(initial, states):
            self.error(("initial",), f"initial state {initial!r} is not defined{_suggest(initial, states)}")
        clocks = parse_clocks(self, top.get("clocks"), transitions, states, parameters)
        for t in transitions:
            for n in t.notices:
                if n.deadline is not None and n.deadline not in clocks:
                    self.error(
                        ("transitions",),
                        f"{t.trigger}: notice {n.type!r} names clock {n.deadline!r}, which is not defined",
                    )
        if not self.errors:
            self.check_graph(str(initial), states, transitions)
        if self.errors:
            raise self.fail()
        canonical = json.dumps(root, sort_keys=True, ensure_ascii=False, default=str)
        return Definition(
            kind=str(kind),
            label=self.text(top.get("label"), ("label",), "label") or str(kind),
            path=self.doc.file,
            source=self.doc.text,
            digest=hashlib.sha256(canonical.encode()).hexdigest(),
            initial=str(initial),
            states=states,
            transitions=transitions,
            parameters=parameters,
            submit=submit,
            clocks=clocks,
        )

    def states(self, raw: Any) -> dict[str, StateSpec]:
        out: dict[str, StateSpec] = {}
        if not isinstance(raw, dict) or not raw:
            self.error(("states",), "states must be a mapping of state names to {label, final}")
            return out
        for name, spec in raw.items():
            path: YamlPath = ("states", name)
            if not _NAME.match(name) or name == "same":
                self.error(path, f"state name {name!r} must be a lower-case name (a-z, 0-9, _)", key=True)
            spec = self.mapping(spec, path, "state", required=("label",))
            final = spec.get("final", False)
            if not isinstance(final, bool):
                self.error((*path, "final"), f"final must be true or false, got {final!r}")
            out[name] = StateSpec(name, self.text(spec.get("label"), (*path, "label"), "label"), final is True)
        return out

    def parameters(self, raw: Any) -> dict[str, ParameterSpec]:
        out: dict[str, ParameterSpec] = {}
        if not isinstance(raw, dict):
            self.error(("parameters",), "parameters must be a mapping of names to {type, default}")
            return out
        for name, spec in raw.items():
            path: YamlPath = ("parameters", name)
            spec = self.mapping(spec, path, "parameter", required=("type", "default"))
            ptype, default = spec.get("type"), spec.get("default")
            if ptype not in PARAMETER_TYPES:
                self.error(
                    (*path, "type"),
                    f"unknown parameter type {ptype!r}{_suggest(ptype, PARAMETER_TYPES)}; "
                    f"types: {', '.join(PARAMETER_TYPES)}",
                )
                continue
            problem = check_parameter(str(ptype), default)
            if problem:
                self.error((*path, "default"), f"default of {name!r}: {problem}")
            out[name] = ParameterSpec(
                name, str(ptype), default, self.text(spec.get("label"), (*path, "label"), "label")
            )
        return out

    def fields(self, raw: Any, path: YamlPath) -> tuple[FieldSpec, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.error(path, "fields must be a mapping of field names to {type, required, ...}")
            return ()
        out = []
        for name, spec in raw.items():
            fpath = (*path, name)
            if not _NAME.match(name) or name in RESERVED_FIELDS:
                self.error(
                    fpath,
                    f"field name {name!r} must be a lower-case name and not one of {', '.join(RESERVED_FIELDS)}",
                    key=True,
                )
            spec = self.mapping(spec, fpath, "field", required=("type",))
            ftype = spec.get("type")
            if ftype not in FIELD_TYPES:
                self.error(
                    (*fpath, "type"),
                    f"unknown field type {ftype!r}{_suggest(ftype, FIELD_TYPES)}; types: {', '.join(FIELD_TYPES)}",
                )
                continue
            kw: dict[str, Any] = {}
            for key, types in (
                ("required", bool),
                ("keep", bool),
                ("min", (int, float)),
                ("max", (int, float)),
                ("max_length", int),
                ("min_items", int),
                ("max_items", int),
            ):
                if key in spec:
                    if not isinstance(spec[key], types) or (types is not bool and isinstance(spec[key], bool)):
                        self.error((*fpath, key), f"{key} has the wrong type: {spec[key]!r}")
                    else:
                        kw[key] = spec[key]
            if "set_by" in spec:
                setters = self.names(spec["set_by"], (*fpath, "set_by"), "set_by")
                for i, who in enumerate(setters):
                    if who not in (*ROLES, ON_DUE):
                        self.error(
                            (*fpath, "set_by", i),
                            f"unknown setter {who!r}{_suggest(who, (*ROLES, ON_DUE))}; "
                            f"set_by names roles ({', '.join(ROLES)}) or {ON_DUE} (the clock's own timeout)",
                        )
                kw["set_by"] = setters
            label = self.text(spec.get("label"), (*fpath, "label"), "label")
            if ftype == "choice":
                kw["choices"], kw["choice_labels"] = self.choices(spec.get("choices"), (*fpath, "choices"), label)
                if not kw["choices"]:
                    self.error(fpath, f"choice field {name!r} needs a non-empty list of choices")
            if ftype == "records":
                kw["fields"] = self.fields(spec.get("fields"), (*fpath, "fields"))
                if not kw["fields"]:
                    self.error(fpath, f"records field {name!r} needs fields for its entries")
            out.append(FieldSpec(name, str(ftype), label=label, **kw))
        return tuple(out)

    def choices(self, raw: Any, path: YamlPath, label: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A choice field's codes and their Chinese labels: ``choices: {session: 大会期间, ...}``, or a list
        of codes labelled by the field's label when it names each in turn (``大会期间 / 闭会期间``)."""
        if not isinstance(raw, dict):
            codes = self.names(raw, path, "choices")
            labels = labels_from(label, codes)
            return codes, labels if distinct_labels(codes, labels) else ()
        codes = tuple(str(c) for c in raw)
        labels = tuple(self.text(v, (*path, c), "a choice's label").strip() for c, v in raw.items())
        if not distinct_labels(codes, labels):
            self.error(path, "each choice needs its own label, neither another choice's label nor its code")
        return codes, labels

    def submit(self, raw: Any) -> SubmitSpec:
        spec = self.mapping(raw, ("submit",), "submit", required=("roles", "fields"))
        roles = self.roles(spec.get("roles"), ("submit", "roles"))
        fields = self.fields(spec.get("fields"), ("submit", "fields"))
        title = next((f for f in fields if f.name == "title"), None)
        if spec and (title is None or not title.required or title.type != "string"):
            self.error(("submit", "fields"), "submit needs a required string field 'title'")
        guards = self.names(spec.get("guards", []), ("submit", "guards"), "guards")
        self.registered(guards, ("submit", "guards"), self.registry.guards, "guard")
        return SubmitSpec(roles, fields, guards)

    def roles(self, raw: Any, path: YamlPath) -> tuple[str, ...]:
        roles = self.names(raw, path, "roles")
        if raw is not None and not roles:
            self.error(path, f"roles must name at least one of {', '.join(ROLES)}")
        for i, role in enumerate(roles):
            if role not in ROLES:
                self.error((*path, i), f"unknown role {role!r}{_suggest(role, ROLES)}; roles: {', '.join(ROLES)}")
        return roles

    def transitions(self, raw: Any, states: dict[str, StateSpec]) -> tuple[TransitionSpec, ...]:
        if not isinstance(raw, list) or not raw:
            self.error(("transitions",), "transitions must be a non-empty list")
            return ()
        out: list[TransitionSpec] = []
        seen: dict[tuple[str, str], int] = {}
        for i, spec in enumerate(raw):
            path: YamlPath = ("transitions", i)
            spec = self.mapping(spec, path, "transition", required=("trigger", "source", "roles"))
            trigger = spec.get("trigger")
            if not isinstance(trigger, str) or not _NAME.match(trigger):
                self.error((*path, "trigger"), f"trigger must be a lower-case name, got {trigger!r}")
                continue
            sources = self.names(spec.get("source"), (*path, "source"), "source")
            for j, source in enumerate(sources):
                spath = (*path, "source") if isinstance(spec.get("source"), str) else (*path, "source", j)
                if source not in states:
                    self.error(spath, f"unknown state {source!r}{_suggest(source, states)}")
                elif (source, trigger) in seen:
                    self.error(
                        spath,
                        f"trigger {trigger!r} from state {source!r} is already defined by "
                        f"transition {seen[(source, trigger)] + 1}; merge them or use branches",
                    )
                seen[(source, trigger)] = i
            fields = self.fields(spec.get("fields"), (*path, "fields"))
            branches = tuple(
                self.branch(b, (*path, "branches", k), states, fields)
                for k, b in enumerate(self.listed(spec.get("branches"), (*path, "branches"), "branches"))
            )
            guards = self.names(spec.get("guards", []), (*path, "guards"), "guards")
            actions = self.names(spec.get("actions", []), (*path, "actions"), "actions")
            self.registered(guards, (*path, "guards"), self.registry.guards, "guard")
            self.registered(actions, (*path, "actions"), self.registry.actions, "action")
            notices = tuple(
                self.notice(n, (*path, "notices", k))
                for k, n in enumerate(self.listed(spec.get("notices"), (*path, "notices"), "notices"))
            )
            out.append(
                TransitionSpec(
                    trigger=trigger,
                    sources=sources,
                    dest=self.dest(spec.get("dest"), (*path, "dest"), states),
                    roles=self.roles(spec.get("roles"), (*path, "roles")),
                    label=self.text(spec.get("label"), (*path, "label"), "label"),
                    fields=fields,
                    guards=guards,
                    actions=actions,
                    branches=branches,
                    notices=notices,
                )
            )
        return tuple(out)

    def notice(self, raw: Any, path: YamlPath) -> NoticeSpec:
        """One notice a transition sends: its type, to whom in the chain, for which units."""
        spec = self.mapping(raw, path, "notice", required=("type", "to"))
        self.notice_type(spec.get("type"), (*path, "type"))
        to = self.names(spec.get("to"), (*path, "to"), "to")
        for i, who in enumerate(to):
            if who not in CHAIN:
                self.error((*path, "to", i), f"unknown recipient {who!r}; recipients: {', '.join(CHAIN)}")
        units = spec.get("units", "lead")
        if units not in ("lead", "co", "all"):
            self.error((*path, "units"), f"units must be lead, co or all, not {units!r}")
        when_state, deadline = spec.get("when_state"), spec.get("deadline")
        if when_state is not None and not _known(when_state, self.state_names):
            self.error((*path, "when_state"), f"unknown state {when_state!r}")
        if deadline is not None and not isinstance(deadline, str):
            self.error((*path, "deadline"), f"deadline must name a clock, got {_typename(deadline)}")
            deadline = None
        return NoticeSpec(str(spec.get("type")), to, str(units), deadline, when_state)

    def listed(self, raw: Any, path: YamlPath, what: str) -> list[Any]:
        """A list section (branches, notices): left out it is empty; anything but a list is an error."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(path, f"{what} must be a list, got {_typename(raw)}")
            return []
        return raw

    def notice_type(self, name: Any, path: YamlPath) -> None:
        if not _known(name, self.notice_types):
            self.error(
                path,
                f"unknown notice type {name!r}{_suggest(name, self.notice_types)}; "
                f"types: {', '.join(sorted(self.notice_types))}",
            )

    def dest(self, dest: Any, path: YamlPath, states: dict[str, StateSpec]) -> str | None:
        if dest is not None and not _known(dest, states):
            self.error(path, f"unknown state {dest!r}{_suggest(dest, states)} (leave dest out to keep the state)")
        return dest if _known(dest, states) else None

    def branch(self, raw: Any, path: YamlPath, states: dict[str, StateSpec], fields: tuple[FieldSpec, ...]) -> Branch:
        spec = self.mapping(raw, path, "branch")
        when, condition = spec.get("when"), spec.get("if")
        if (when is None) == (condition is None):
            self.error(path, "a branch needs exactly one of 'when' (field values) or 'if' (a registered condition)")
        match: dict[str, tuple[Any, ...]] = {}
        if when is not None:
            by_name = {f.name: f for f in fields}
            for name, value in when.items() if isinstance(when, dict) else []:
                values = tuple(value) if isinstance(value, list) else (value,)
                f = by_name.get(name)
                if f is None:
                    self.error(
                        (*path, "when", name),
                        f"'when' names {name!r}, which is not a field of this transition",
                        key=True,
                    )
                elif f.choices and not all(v in f.choices for v in values):
                    self.error(
                        (*path, "when", name),
                        f"{values!r} is not among the choices of {name!r}: {', '.join(f.choices)}",
                    )
                match[name] = values
            if not isinstance(when, dict) or not when:
                self.error((*path, "when"), "'when' must map field names to the values that select this branch")
        if condition is not None:
            self.registered((str(condition),), (*path, "if"), self.registry.conditions, "condition")
        actions = self.names(spec.get("actions", []), (*path, "actions"), "actions")
        self.registered(actions, (*path, "actions"), self.registry.actions, "action")
        dest = self.dest(spec.get("dest"), (*path, "dest"), states)
        return Branch(dest, match, None if condition is None else str(condition), actions)

    def check_graph(self, initial: str, states: dict[str, StateSpec], transitions: tuple[TransitionSpec, ...]) -> None:
        edges: dict[str, set[str]] = {s: set() for s in states}
        for t in transitions:
            for s in t.sources:
                edges[s].update(d for d in t.dests() if d is not None and d != s)
        reached, todo = {initial}, [initial]
        while todo:
            for nxt in edges[todo.pop()] - reached:
                reached.add(nxt)
                todo.append(nxt)
        for name, spec in states.items():
            if name not in reached:
                self.error(("states", name), f"state {name!r} cannot be reached from {initial!r}", key=True)
            # A final state is never left for handling again; it may only move to another final state
            # (a withdrawn or rejected item entered by mistake is voided, 作废).
            leaving = sorted(
                {t.trigger for t in transitions if name in t.sources for d in t.dests() if not _final(d, states)}
            )
            if spec.final and leaving:
                self.error(
                    ("states", name),
                    f"final state {name!r} has outgoing transitions ({', '.join(leaving)}); mark it final: false "
                    "or remove them (a final state may move only to another final state, as void does)",
                    key=True,
                )
            if not spec.final and not edges[name]:
                self.error(
                    ("states", name),
                    f"state {name!r} is a dead end: it is not final and no transition leaves it",
                    key=True,
                )


def check_parameter(ptype: str, value: Any) -> str | None:
    """Why *value* is not a valid *ptype* parameter, or None when it is."""
    if ptype == "period":
        try:
            parse_period(value)
        except PeriodError as exc:
            return str(exc)
        return None
    ok = {
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "fraction": isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1,
        "boolean": isinstance(value, bool),
        "string": isinstance(value, str),
    }[ptype]
    return None if ok else f"{value!r} is not a valid {ptype}" + (" (between 0 and 1)" if ptype == "fraction" else "")


def _final(state: str | None, states: dict[str, StateSpec]) -> bool:
    """Whether *state* is a final state (None, staying where the item is, is not a move to one)."""
    return state is not None and state in states and states[state].final


def _typename(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )
