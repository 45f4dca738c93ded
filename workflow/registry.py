"""The engine's registry: the only place a guard, condition or action named in YAML is found.

Names in a definition are looked up here when the definition is loaded, never imported, so a
definition file cannot make duban run arbitrary code (``guards: [os.system]`` is an error).

* a **guard** ``(ctx) -> None`` raises :class:`~workflow.errors.ValidationError` (or another
  :class:`~workflow.errors.WorkflowError`) when the fire must not happen;
* a **condition** ``(ctx) -> bool`` picks a transition's branch;
* an **action** ``(ctx) -> None`` writes the fire's side effects (sub-rows) in its transaction,
  through :meth:`Context.insert` and :meth:`Context.update`, which record each row written in the
  event's audit row (``duban audit verify`` re-derives the rows from those records and reports any
  row written behind them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from workflow.audit_rows import Effects, record
from workflow.beijing import beijing_date
from workflow.errors import PermissionDenied, ValidationError
from workflow.model import Actor
from workflow.store import AssignmentRow, Prepared

if TYPE_CHECKING:
    from workflow.definition import Definition
    from workflow.fields import FieldSpec

__all__ = ["Action", "Condition", "Context", "Guard", "Registry"]

_A = AssignmentRow.__table__  # type: ignore[attr-defined]
# Only what guards, conditions and the roles check read: decoding whole rows cost more than the query.
ACTIVE_ASSIGNMENTS = Prepared(
    sa.select(_A.c.id, _A.c.unit, _A.c.role, _A.c.state)
    .where(_A.c.item_id == sa.bindparam("w_item"), _A.c.active)
    .order_by(_A.c.id)
)


@dataclass(eq=False, slots=True)
class Context:
    """What a guard, condition or action sees of one fire. Thrown away if the fire fails."""

    state: str  # the transitions model attribute: moves when the machine fires
    item: dict[str, Any]  # the item row's columns (id, kind, round, data, ...)
    data: dict[str, Any]  # the trigger's validated data
    actor: Actor
    at: dt.datetime
    conn: sa.Connection
    definition: Definition
    params: dict[str, Any]
    trigger: str = ""
    updates: dict[str, Any] = field(default_factory=dict)  # item columns the actions change
    created: dict[str, list[int]] = field(default_factory=dict)  # ids of rows actions created, by field
    timeout: bool = False  # fired by a clock's on_due (the sweep), not by a caller
    effects: Effects = field(default_factory=dict)  # the rows the actions wrote, for the audit row
    _assignments: list[dict[str, Any]] | None = None

    @property
    def assignments(self) -> list[dict[str, Any]]:
        """The item's active assignments (loaded once per fire, kept in step by actions)."""
        if self._assignments is None:
            self._assignments = ACTIVE_ASSIGNMENTS.rows(self.conn, {"w_item": self.item["id"]})
        return self._assignments

    def own_assignment(self) -> dict[str, Any] | None:
        """The acting unit's active assignment on this item, if any."""
        return next((a for a in self.assignments if a["unit"] == self.actor.party), None)

    def held(self) -> set[str]:
        """The roles the actor holds on this item.

        Office, leader, committee and system act by role. A unit is ``assigned_unit`` and
        ``lead_unit`` or ``co_unit`` by its active assignments; a deputy is ``proposer`` of the items
        they proposed and ``lead_deputy`` of those they lead (a sole proposer leads).
        """
        actor = self.actor
        if actor.role in ("office", "leader", "committee", "system"):
            return {actor.role}
        if actor.role == "unit":
            own = [a for a in self.assignments if a["unit"] == actor.party]
            have = {"assigned_unit"} if own else set()
            return have | {"lead_unit" if a["role"] in ("lead", "split") else "co_unit" for a in own}
        data = self.item["data"] if self.item["id"] is not None else self.data
        proposers = data.get("proposers", [])
        lead = data.get("lead_deputy") or (proposers[0] if len(proposers) == 1 else None)
        have = {"proposer"} if actor.party in proposers else set()
        return have | ({"lead_deputy"} if actor.party == lead else set())

    def authorize(self, allowed: tuple[str, ...]) -> None:
        """Raise PermissionDenied unless the actor holds one of *allowed* on this item (:meth:`held`)."""
        actor, have = self.actor, self.held()
        if have & set(allowed):
            return
        what = f"item {self.item['id']}" if self.item["id"] is not None else f"a {self.definition.kind}"
        if have:
            held = f" (here {actor} is {', '.join(sorted(have))})"
        elif actor.role in ("unit", "deputy"):
            held = f" ({actor.party} is not {'assigned' if actor.role == 'unit' else 'a proposer of'} this item)"
        else:
            held = ""
        raise PermissionDenied(
            f"{actor} may not {self.trigger} {what}: allowed for {', '.join(allowed)}{held}", self.who_may(allowed)
        )

    def who_may(self, allowed: tuple[str, ...]) -> list[str]:
        """The actors (``ROLE[:PARTY]``) that hold one of *allowed* on this item: the office, leader or
        committee by role, its assigned (lead, co) units by name, its (lead) deputy by name; never system."""
        data = self.item["data"] if self.item["id"] is not None else self.data
        proposers = list(data.get("proposers") or [])
        lead = data.get("lead_deputy") or (proposers[0] if len(proposers) == 1 else None)
        units = {
            "assigned_unit": [a["unit"] for a in self.assignments],
            "lead_unit": [a["unit"] for a in self.assignments if a["role"] in ("lead", "split")],
            "co_unit": [a["unit"] for a in self.assignments if a["role"] not in ("lead", "split")],
        }
        found: list[str] = []
        for role in allowed:
            if role in ("office", "leader", "committee"):
                found.append(role)
            elif role in units:
                found += [f"unit:{u}" for u in units[role]]
            elif role == "proposer":
                found += [f"deputy:{p}" for p in proposers]
            elif role == "lead_deputy" and lead:
                found.append(f"deputy:{lead}")
        return [a for a in dict.fromkeys(found) if a != str(self.actor)]

    def check_setters(self, specs: tuple[FieldSpec, ...]) -> None:
        """Refuse a value for a field the actor may not set (``set_by``): a deputy's own 编号, a caller's
        ``deemed``. Only the engine's timeout fire (:attr:`timeout`) sets an ``on_due`` field."""
        have = self.held() | ({"on_due"} if self.timeout else set())
        for spec in specs:
            if spec.set_by and spec.name in self.data and not have & set(spec.set_by):
                who = "、".join("the clock's own timeout (on_due)" if s == "on_due" else s for s in spec.set_by)
                raise ValidationError(
                    spec.name, f"may be set only by {who}, not by {self.actor}; leave it out and it is set for you"
                )

    def insert(self, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
        """Insert *rows* of this item into *table* and record them in the event's effects; their ids, in order."""
        if not rows:
            return []
        values = [{"item_id": self.item["id"], **r} for r in rows]
        statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = [int(r[0]) for r in self.conn.execute(statement, values)]
        for row_id, row in zip(ids, values, strict=True):
            record(self.effects, table.name, row_id, row)
        return ids

    def update(self, table: sa.Table, where: sa.ColumnElement[bool], **values: Any) -> list[int]:
        """Set *values* on this item's rows of *table* that match *where*, recorded in the event's
        effects; the ids of the rows changed."""
        statement = sa.update(table).where(table.c.item_id == self.item["id"], where).values(**values)
        ids = [int(i) for i in self.conn.execute(statement.returning(table.c.id)).scalars()]
        for row_id in ids:
            record(self.effects, table.name, row_id, values)
        return ids

    @property
    def today(self) -> dt.date:
        """The Beijing calendar date of the fire: the day the law counts, whatever the UTC date."""
        return beijing_date(self.at)

    @property
    def round(self) -> int:
        return int(self.updates.get("round", self.item["round"]))


Guard = Callable[[Context], None]
Condition = Callable[[Context], bool]
Action = Callable[[Context], None]
F = TypeVar("F", bound=Callable[..., Any])


class Registry:
    """Named guards, conditions and actions. ``Registry.default()`` holds duban's built-ins."""

    def __init__(self) -> None:
        self.guards: dict[str, Guard] = {}
        self.conditions: dict[str, Condition] = {}
        self.actions: dict[str, Action] = {}

    def guard(self, name: str) -> Callable[[F], F]:
        return self._adder(self.guards, name)

    def condition(self, name: str) -> Callable[[F], F]:
        return self._adder(self.conditions, name)

    def action(self, name: str) -> Callable[[F], F]:
        return self._adder(self.actions, name)

    @staticmethod
    def _adder(table: dict[str, Any], name: str) -> Callable[[F], F]:
        def add(fn: F) -> F:
            table[name] = fn
            return fn

        return add

    def copy(self) -> Registry:
        """A registry an integrator may extend without changing the default one."""
        new = Registry()
        new.guards, new.conditions, new.actions = dict(self.guards), dict(self.conditions), dict(self.actions)
        return new

    @classmethod
    def default(cls) -> Registry:
        from workflow.rules import REGISTRY

        return REGISTRY.copy()
