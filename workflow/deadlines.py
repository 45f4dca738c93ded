"""Deadline rows read back: listing open clocks, producing due reminders and escalation levels
exactly once, and recomputing open deadlines when the official calendar changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow.calendar import Calendar
from workflow.clocks import ClockSpec, schedule
from workflow.store import TABLES

if TYPE_CHECKING:
    from workflow.definition import Definition

__all__ = ["DueStep", "claim_due", "deadline_dict", "deadline_query", "definition_of"]

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


def claim_due(conn: sa.Connection, now: dt.datetime, specs: Specs, calendar: Calendar, limit: int) -> list[DueStep]:
    """Produce every reminder and escalation level due at *now*, each once.

    One indexed query finds running deadlines whose next step has come; a compare-and-set on the
    deadline's step counter and the unique (deadline, step) row make a step produced at most once,
    however often or by however many processes this is asked. A deadline that was overdue for a while
    gets every level it has earned, in order.
    """
    rows = conn.execute(
        sa.select(_D, _ITEM.c.definition_id)
        .join(_ITEM, _ITEM.c.id == _D.c.item_id)
        .where(_D.c.state == "running", _D.c.next_at <= now)
        .order_by(_D.c.next_at, _D.c.id)
        .limit(limit)
    ).all()
    produced: list[DueStep] = []
    for row in rows:
        spec = specs(conn, row.definition_id).get(row.clock)
        if spec is None:
            continue
        steps = schedule(spec, row.due, calendar)[row.next_step :]
        ready = [s for s in steps if s.at <= now]
        if not ready:
            continue
        later = steps[len(ready)].at if len(ready) < len(steps) else None
        level = max([row.level, *(s.level for s in ready)])
        claimed = conn.execute(
            sa.update(_D)
            .where(_D.c.id == row.id, _D.c.next_step == row.next_step)
            .values(next_step=row.next_step + len(ready), next_at=later, level=level)
        )
        if claimed.rowcount != 1:
            continue  # another process produced these steps first
        conn.execute(
            sa.insert(_S),
            [
                {
                    "deadline_id": row.id,
                    "step": row.next_step + i,
                    "kind": s.kind,
                    "level": s.level,
                    "scheduled_at": s.at,
                    "produced_at": now,
                }
                for i, s in enumerate(ready)
            ],
        )
        produced += [
            DueStep(
                row.id,
                row.item_id,
                row.clock,
                row.subject,
                s.kind,
                s.level,
                row.next_step + i,
                s.at,
                row.due,
                s.notify,
                s.template,
                row.explanation,
            )
            for i, s in enumerate(ready)
        ]
    return produced
