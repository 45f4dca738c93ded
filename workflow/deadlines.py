"""Deadline rows read back: listing open clocks, producing due reminders and escalation levels
exactly once, and recomputing open deadlines when the official calendar changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow.clocks import ClockSpec
from workflow.store import TABLES

if TYPE_CHECKING:
    from workflow.definition import Definition

__all__ = ["DueStep", "deadline_dict", "deadline_query", "definition_of"]

_D, _S, _ITEM = TABLES["duban_deadline"], TABLES["duban_deadline_step"], TABLES["duban_item"]
OPEN = ("running", "paused")
Specs = Callable[[sa.Connection, int], dict[str, ClockSpec]]


@dataclass(frozen=True, slots=True)
class DueStep:
    """A reminder or escalation level that fell due, produced once for its (deadline, step)."""

    deadline_id: int
    item_id: int
    clock: str
    subject: str
    kind: str  # reminder | escalation
    level: int
    step: int
    scheduled_at: dt.datetime
    due: dt.date
    notify: tuple[str, ...]
    template: str
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def deadline_query(
    *,
    item: int | None = None,
    kind: str | None = None,
    clock: str | None = None,
    state: str | None = "open",
    overdue_at: dt.datetime | None = None,
    provisional: bool | None = None,
    unit: str | None = None,
) -> sa.Select[Any]:
    """Deadlines matching every filter given, soonest first; ``state="open"`` means running or paused."""
    query = (
        sa.select(_D, _ITEM.c.kind, _ITEM.c.title).join(_ITEM, _ITEM.c.id == _D.c.item_id).order_by(_D.c.due, _D.c.id)
    )
    if state == "open":
        query = query.where(_D.c.state.in_(OPEN))
    elif state is not None:
        query = query.where(_D.c.state == state)
    for column, value in (
        (_D.c.item_id, item),
        (_ITEM.c.kind, kind),
        (_D.c.clock, clock),
        (_D.c.provisional, provisional),
    ):
        if value is not None:
            query = query.where(column == value)
    if overdue_at is not None:
        query = query.where(_D.c.deadline_at <= overdue_at)
    if unit is not None:
        a = TABLES["duban_assignment"]
        query = query.where(sa.exists().where(a.c.item_id == _D.c.item_id, a.c.unit == unit, a.c.active))
    return query


def deadline_dict(row: Mapping[Any, Any], defn: Definition) -> dict[str, Any]:
    """A deadline as the API shows it, with its clock's label."""
    spec = defn.clocks.get(row["clock"])
    keys = (
        "id",
        "item_id",
        "clock",
        "subject",
        "round",
        "state",
        "start_date",
        "period",
        "extension",
        "due",
        "deadline_at",
        "provisional",
        "explanation",
        "level",
        "next_at",
    )
    return {k: row[k] for k in keys} | {"label": spec.label if spec else row["clock"]}


def definition_of(conn: sa.Connection, item_id: int) -> int:
    """The definition version an item runs under."""
    return int(conn.execute(sa.select(_ITEM.c.definition_id).where(_ITEM.c.id == item_id)).scalar_one())
