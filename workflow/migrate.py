"""Moving items in flight from one definition version to another, with an explicit state map.

A new version of a definition never changes the rules under an item already in flight (each item is fired with
the version it started under) unless a migration says so. :func:`plan` lists every item of a kind on the old
version that would move (and from which state to which) and every one that cannot, with the reason; nothing is
written. :func:`apply` moves them in one transaction, all or nothing: each item's definition and state change under
a compare-and-set on its version (an item that changed since the plan fails the whole migration with a
ConflictError), and each move is an audit row on the item (trigger ``migrate``) continuing its hash chain.

Open deadlines are kept as they are: their clocks continue under their original start, period and due date, and
the target version's clock of the same name governs their reminders and escalations from then on. An item whose
open clock the target version does not define cannot move. The units' own states (signed for, opinion given,
replied) are kept by the built-in actions, not by the definition, and carry over unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow.audit import _FIRE_COLUMNS, INSERT_AUDIT, next_event
from workflow.beijing import beijing_text
from workflow.deadlines import OPEN
from workflow.errors import ConflictError, DefinitionError, NotFound, ValidationError, WorkflowError
from workflow.model import Actor
from workflow.store import TABLES, Prepared, reading
from workflow.yamlfile import LocatedYAML, read_text

if TYPE_CHECKING:
    from workflow.definition import Definition
    from workflow.engine import Engine

__all__ = ["TRIGGER", "Blocked", "MigrationBlocked", "MigrationPlan", "Move", "StateMap", "apply", "plan", "read_map"]

TRIGGER = "migrate"
OFFICE = Actor("office")
_ITEM, _DEF, _DEADLINE = TABLES["duban_item"], TABLES["duban_definition"], TABLES["duban_deadline"]
_MOVE = Prepared(
    sa.update(_ITEM).where(_ITEM.c.id == sa.bindparam("w_id"), _ITEM.c.version == sa.bindparam("w_version")),
    [*_FIRE_COLUMNS, "definition_id"],
)
_MAP_KEYS = ("kind", "from", "to", "states", "same_names")


class MigrationBlocked(WorkflowError):
    """Some items cannot move and the caller did not ask to leave them behind: nothing was written."""

    exit_code = 1

    def __init__(self, plan: MigrationPlan):
        self.plan = plan
        n = len(plan.blocked)
        super().__init__(
            f"nothing migrated: {n} item{'s' if n != 1 else ''} of {plan.kind} v{plan.from_version} cannot move "
            f"(first: item {plan.blocked[0].item_id}: {plan.blocked[0].reason}); fix the state map, or move only "
            "the others (--only-movable)"
        )


@dataclass(frozen=True, slots=True)
class StateMap:
    """What a migration file (or ``--map OLD=NEW`` options) says: states old → new, and maybe the versions."""

    states: dict[str, str]
    from_version: int | None = None
    to_version: int | None = None
    kind: str | None = None
    same_names: bool = False  # a state the map does not name keeps its name, if the target version has it


@dataclass(frozen=True, slots=True)
class Move:
    """An item that moves: *version* is its optimistic-lock version when planned."""

    item_id: int
    title: str
    version: int
    from_state: str
    to_state: str


@dataclass(frozen=True, slots=True)
class Blocked:
    """An item that cannot move, and why."""

    item_id: int
    title: str
    version: int
    state: str
    reason: str


@dataclass(frozen=True)
class MigrationPlan:
    """Every item of *kind* on version *from_version*: those that move, those that cannot, and the finished ones
    (in a final state the map does not name), which stay where they are."""

    kind: str
    from_version: int
    to_version: int
    from_id: int
    to_id: int
    states: dict[str, str]
    same_names: bool
    moves: list[Move] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return (
            f"{self.kind} v{self.from_version} → v{self.to_version}: {_n(len(self.moves), 'item')} to move, "
            f"{len(self.blocked)} cannot move, {len(self.finished)} finished (stay on v{self.from_version})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "from": self.from_version,
            "to": self.to_version,
            "states": self.states,
            "same_names": self.same_names,
            "moves": [_fields(m) for m in self.moves],
            "blocked": [_fields(b) for b in self.blocked],
            "finished": self.finished,
        }


def read_map(path: str | Path) -> StateMap:
    """A migration file: ``from: 3``, ``to: 4``, ``states: {old: new}`` (and optionally ``kind`` and
    ``same_names: true``). Errors are DefinitionErrors located at ``FILE:LINE:COL``."""
    path = Path(path)
    doc = LocatedYAML(read_text(path, "migration file"), str(path))
    root = doc.root

    def fail(message: str, *where: str | int, key: bool = False) -> DefinitionError:
        return DefinitionError(message, str(path), *doc.where(tuple(where), key))

    example = "e.g. from: 3, to: 4, states: {handling: in_progress}"
    if not isinstance(root, dict):
        raise fail(f"a migration file is a mapping, {example}")
    for key in root:
        if key not in _MAP_KEYS:
            raise fail(f"unknown key {key!r}; allowed: {', '.join(_MAP_KEYS)}", key, key=True)
    states = root.get("states")
    if not isinstance(states, dict) or not states:
        raise fail(f"'states' maps each old state to its new one, {example}", "states")
    for old, new in states.items():
        if not isinstance(new, str) or not new:
            raise fail(f"state {old!r} must map to a state name, not {new!r}", "states", old)
    versions: dict[str, int | None] = {}
    for key in ("from", "to"):
        value = root.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise fail(f"{key!r} is a definition version number (1, 2, …), not {value!r}", key)
        versions[key] = value
    kind, same = root.get("kind"), root.get("same_names", False)
    if kind is not None and not isinstance(kind, str):
        raise fail(f"'kind' is a lifecycle name like suggestion, not {kind!r}", "kind")
    if not isinstance(same, bool):
        raise fail(f"'same_names' is true or false, not {same!r}", "same_names")
    return StateMap(dict(states), versions["from"], versions["to"], kind, same)


def plan(
    engine: Engine,
    kind: str,
    state_map: Mapping[str, str] | StateMap,
    from_version: int | None = None,
    to_version: int | None = None,
    *,
    same_names: bool = False,
) -> MigrationPlan:
    """Which items of *kind* on *from_version* (default: the version before *to_version*) would move to
    *to_version* (default: the current one, which the engine registered from its definition files) and which
    cannot, with the reason. Writes nothing."""
    with reading(engine.db) as conn:
        return _plan(engine, conn, kind, state_map, from_version, to_version, same_names)


def apply(
    engine: Engine,
    migration: MigrationPlan,
    *,
    actor: Actor = OFFICE,
    at: dt.datetime | None = None,
    only_movable: bool = False,
) -> MigrationPlan:
    """Move the items of *migration* (a plan from :func:`plan`) in one transaction; returns the plan applied.

    Raises MigrationBlocked (nothing written) when some items cannot move, unless *only_movable*, which leaves
    them on the old version; ConflictError (nothing written) when an item of the kind on the old version changed,
    appeared or left since the plan was made. An explicit *at* may not precede an item's last change; without one,
    each move is dated now, or at the item's last change if that is later.
    """
    if migration.blocked and not only_movable:
        raise MigrationBlocked(migration)
    explicit = at is not None
    when = engine._instant(at)
    with engine.db.begin() as conn:
        fresh = _plan(
            engine,
            conn,
            migration.kind,
            migration.states,
            migration.from_version,
            migration.to_version,
            migration.same_names,
        )
        _same_or_conflict(migration, fresh)
        if not fresh.moves:
            return fresh
        rows = {
            r["id"]: dict(r)
            for r in conn.execute(sa.select(_ITEM).where(_ITEM.c.id.in_([m.item_id for m in fresh.moves]))).mappings()
        }
        writes, audits = [], []
        for move in fresh.moves:
            item = rows[move.item_id]
            if explicit and when < item["updated_at"]:
                raise ValidationError(
                    "at",
                    f"{beijing_text(when)} is before item {move.item_id}'s last change "
                    f"({beijing_text(item['updated_at'])}); history is written in order",
                )
            data = {
                "from_definition": fresh.from_version,
                "to_definition": fresh.to_version,
                "from_state": move.from_state,
                "to_state": move.to_state,
            }
            new, audit = next_event(
                item, actor, max(when, item["updated_at"]), TRIGGER, move.to_state, data, {"definition_id": fresh.to_id}
            )
            writes.append({"w_id": move.item_id, "w_version": move.version, **new})
            audits.append(audit)
        if _MOVE.execute_many(conn, writes) != len(writes):
            raise ConflictError(
                f"an item of {fresh.kind} v{fresh.from_version} was changed by another process during the migration; "
                "nothing was migrated: plan again"
            )
        INSERT_AUDIT.execute_many(conn, audits)
    return fresh


def _plan(
    engine: Engine,
    conn: sa.Connection,
    kind: str,
    state_map: Mapping[str, str] | StateMap,
    from_version: int | None,
    to_version: int | None,
    same_names: bool,
) -> MigrationPlan:
    if isinstance(state_map, StateMap):
        same_names = same_names or state_map.same_names
        from_version = from_version or state_map.from_version
        to_version = to_version or state_map.to_version
        state_map = state_map.states
    current = engine._current_id(kind)  # NotFound for an unknown kind
    versions = {r.number: r.id for r in conn.execute(sa.select(_DEF.c.id, _DEF.c.number).where(_DEF.c.kind == kind))}
    numbers = {v: k for k, v in versions.items()}
    known = ", ".join(f"v{n}" for n in sorted(versions))
    to_number = numbers[current] if to_version is None else to_version
    from_number = to_number - 1 if from_version is None else from_version
    if from_version is None and from_number < 1:
        raise NotFound(
            f"{kind} v{to_number} is its first version: there is nothing to migrate from; open duban with the new "
            "definition (--definitions PATH) to register it as the next version"
        )
    for what, number in (("--to", to_number), ("--from", from_number)):
        if number not in versions:
            raise NotFound(f"{kind} has no definition version {number} ({what}); registered: {known}")
    if from_number == to_number:
        raise ValidationError("--to", f"{kind} v{from_number} is both the source and the target; name another version")
    old, new = (engine._version(versions[n], conn)[0] for n in (from_number, to_number))
    for name in state_map:
        if name not in old.states:
            raise ValidationError(
                "--map", f"{name!r} is not a state of {kind} v{from_number}; its states: {', '.join(old.states)}"
            )
    result = MigrationPlan(
        kind, from_number, to_number, versions[from_number], versions[to_number], dict(state_map), same_names
    )
    items = conn.execute(
        sa.select(_ITEM.c.id, _ITEM.c.title, _ITEM.c.version, _ITEM.c.state)
        .where(_ITEM.c.kind == kind, _ITEM.c.definition_id == versions[from_number])
        .order_by(_ITEM.c.id)
    ).all()
    clocks: dict[int, list[tuple[int, str]]] = {}
    open_clocks = (
        sa.select(_DEADLINE.c.item_id, _DEADLINE.c.id, _DEADLINE.c.clock)
        .join(_ITEM, _ITEM.c.id == _DEADLINE.c.item_id)
        .where(_ITEM.c.kind == kind, _ITEM.c.definition_id == versions[from_number], _DEADLINE.c.state.in_(OPEN))
        .order_by(_DEADLINE.c.id)
    )
    for item_id, deadline_id, clock in conn.execute(open_clocks):
        clocks.setdefault(item_id, []).append((deadline_id, clock))
    for item in items:
        spec = old.states.get(item.state)
        if item.state not in state_map and spec is not None and spec.final:
            result.finished.append(item.id)
            continue
        reason, target = _target(item.state, state_map, same_names, new, to_number, clocks.get(item.id, []))
        if reason:
            result.blocked.append(Blocked(item.id, item.title, item.version, item.state, reason))
        else:
            result.moves.append(Move(item.id, item.title, item.version, item.state, target))
    return result


def _target(
    state: str,
    state_map: Mapping[str, str],
    same_names: bool,
    new: Definition,
    to_number: int,
    clocks: list[tuple[int, str]],
) -> tuple[str, str]:
    """(why the item cannot move, "") or ("", the state it moves to)."""
    target = state_map.get(state) or (state if same_names else None)
    where = f"{new.kind} v{to_number}"
    if target is None:
        return f"its state {state!r} is not in the map (add {state}=NEW_STATE)", ""
    if target not in new.states:
        there = f"states there: {', '.join(new.states)}"
        if state not in state_map:
            return f"its state {state!r} keeps its name, but {where} has no state {state!r}; {there}", ""
        return f"its state {state!r} is mapped to {target!r}, a state {where} does not have; {there}", ""
    missing = [f"{clock!r} (deadline {d})" for d, clock in clocks if clock not in new.clocks]
    if missing:
        return f"its open clock {', '.join(missing)} is not defined in {where}; stop it first or keep the clock", ""
    if clocks and new.states[target].final:
        return f"{target!r} is final in {where} but clocks are still open ({', '.join(c for _, c in clocks)})", ""
    return "", target


def _same_or_conflict(planned: MigrationPlan, fresh: MigrationPlan) -> None:
    """ConflictError unless the items on the old version are exactly those planned, at the versions planned."""
    then = {m.item_id: m.version for m in planned.moves} | {b.item_id: b.version for b in planned.blocked}
    now = {m.item_id: m.version for m in fresh.moves} | {b.item_id: b.version for b in fresh.blocked}
    changed = sorted(i for i in then.keys() | now.keys() if then.get(i) != now.get(i))
    changed += sorted(set(planned.finished) ^ set(fresh.finished))
    if changed or {m.item_id for m in planned.moves} != {m.item_id for m in fresh.moves}:
        which = ", ".join(map(str, changed[:5])) + ("…" if len(changed) > 5 else "")
        raise ConflictError(
            f"{planned.kind} v{planned.from_version} changed since the migration was planned (items {which}); "
            "nothing was migrated: plan again"
        )


def _fields(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"
