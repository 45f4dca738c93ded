"""The peer: the same lifecycle written the obvious way with `transitions` and SQLModel, without duban.

Per fire: a fresh SQLModel ``Session``, ``session.get`` of the item row, a ``transitions.Machine``
built on it, the trigger, the checks, the sub-rows, an audit row, ``session.commit()``.
Small and plain on purpose, but not slowed down on purpose. See bench/README.md for what it does
and does not do compared with duban.
"""

# No ``from __future__ import annotations``: SQLModel resolves Relationship annotations at class creation.

import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional, cast

from sqlalchemy import event
from sqlmodel import JSON, Column, Field, Relationship, Session, SQLModel, create_engine, func, select
from transitions import EventData, Machine

__all__ = ["NaiveContestant"]

SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}
UNIT_ROLES = {"lead": "lead_unit", "co": "co_unit"}


class NaiveItem(SQLModel, table=True):
    __tablename__ = "naive_item"
    id: int | None = Field(default=None, primary_key=True)
    kind: str
    state: str = Field(index=True)
    title: str
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 1
    created_at: dt.datetime
    updated_at: dt.datetime
    assignments: list["NaiveAssignment"] = Relationship(back_populates="item")


class NaiveAssignment(SQLModel, table=True):
    __tablename__ = "naive_assignment"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="naive_item.id", index=True)
    unit: str
    role: str  # lead | co
    state: str  # assigned | accepted | opinion_given | replied
    opinion: str | None = None
    reply: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    assigned_at: dt.datetime
    updated_at: dt.datetime
    item: Optional["NaiveItem"] = Relationship(back_populates="assignments")


class NaiveAudit(SQLModel, table=True):
    __tablename__ = "naive_audit"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="naive_item.id", index=True)
    at: dt.datetime
    actor: str
    trigger: str
    source: str | None = None
    dest: str
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class NaiveContact(SQLModel, table=True):
    __tablename__ = "naive_contact"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="naive_item.id", index=True)
    unit: str
    stage: str
    method: str
    contacted_on: dt.date
    recorded_at: dt.datetime


TABLES = [SQLModel.metadata.tables[name] for name in ("naive_item", "naive_assignment", "naive_audit", "naive_contact")]


class ItemModel:
    """The machine's model: transitions attaches trigger methods to its model, which a pydantic-based
    SQLModel instance refuses, so the row is wrapped and ``state`` passed through to it."""

    def __init__(self, row: NaiveItem) -> None:
        self.row = row

    @property
    def state(self) -> str:
        return self.row.state

    @state.setter
    def state(self, value: str) -> None:
        self.row.state = value

    trigger: Callable[..., bool]  # attached by the machine (transitions skips names a model already has)


# ---- checks and effects, called by the machine with send_event=True ---------------------------


def _row(e: EventData) -> NaiveItem:
    return cast(ItemModel, e.model).row


def _who(e: EventData) -> tuple[str, str | None]:
    who: tuple[str, str | None] = e.kwargs["actor"]
    return who


def _own(e: EventData) -> NaiveAssignment | None:
    role, party = _who(e)
    if role != "unit":
        return None
    return next((a for a in _row(e).assignments if a.unit == party), None)


def _roles(e: EventData) -> set[str]:
    role, party = _who(e)
    if role == "unit":
        own = _own(e)
        return {"assigned_unit", UNIT_ROLES[own.role]} if own else set()
    if role == "deputy":
        return {"proposer"} if party in _row(e).data.get("proposers", []) else set()
    return {role}


def _may(*allowed: str) -> Any:
    return lambda e: bool(_roles(e) & set(allowed))


def _require(e: EventData, *names: str, choices: Mapping[str, tuple[str, ...]] | None = None) -> None:
    data = e.kwargs["data"]
    for name in names:
        if data.get(name) in (None, "", []):
            raise ValueError(f"{e.event.name}: {name} is required")
    for name, allowed in (choices or {}).items():
        if name in data and data[name] not in allowed:
            raise ValueError(f"{e.event.name}: {name} must be one of {', '.join(allowed)}")


def _check_assign(e: EventData) -> None:
    data = e.kwargs["data"]
    _require(e, "lead_unit")
    if data["lead_unit"] in data.get("co_units", []):
        raise ValueError("assign: the lead unit cannot also be a co-unit")


def _open_assignments(e: EventData) -> None:
    data, at, row = e.kwargs["data"], e.kwargs["at"], _row(e)
    assert row.id is not None
    units = [(data["lead_unit"], "lead")] + [(u, "co") for u in data.get("co_units", [])]
    for unit, role in units:
        row.assignments.append(
            NaiveAssignment(item_id=row.id, unit=unit, role=role, state="assigned", assigned_at=at, updated_at=at)
        )


def _set_own(e: EventData, **values: Any) -> None:
    own = _own(e)
    assert own is not None  # the machine's conditions let only assigned units this far
    for key, value in values.items():
        setattr(own, key, value)
    own.updated_at = e.kwargs["at"]


def _accept(e: EventData) -> None:
    own = _own(e)
    if own is not None and own.state == "assigned":
        _set_own(e, state="accepted")


def _co_opinion(e: EventData) -> None:
    _require(e, "opinion")
    _set_own(e, state="opinion_given", opinion=e.kwargs["data"]["opinion"])


def _contact(e: EventData) -> None:
    _require(
        e,
        "stage",
        "method",
        choices={"stage": ("before", "during", "after"), "method": ("visit", "meeting", "phone", "letter", "online")},
    )
    data, at, row, own = e.kwargs["data"], e.kwargs["at"], _row(e), _own(e)
    assert row.id is not None and own is not None
    e.kwargs["session"].add(
        NaiveContact(
            item_id=row.id,
            unit=own.unit,
            stage=data["stage"],
            method=data["method"],
            contacted_on=data.get("contacted_on", at.date()),
            recorded_at=at,
        )
    )


def _check_reply(e: EventData) -> None:
    _require(e, "category", "text", "signer", choices={"category": ("A", "B", "C", "D")})
    data = e.kwargs["data"]
    waiting = [a.unit for a in _row(e).assignments if a.role == "co" and a.state != "opinion_given"]
    if waiting:
        raise ValueError(f"reply: waiting for the co-units' opinions: {', '.join(waiting)}")
    if data["category"] in ("B", "C") and not data.get("promises"):
        raise ValueError(f"reply: a category {data['category']} reply needs at least one promise")


def _reply(e: EventData) -> None:
    data = e.kwargs["data"]
    reply = {k: data[k] for k in ("category", "text", "signer")} | {"promises": _plain(data.get("promises", []))}
    _set_own(e, state="replied", reply=reply)
    _keep(e, "category")


def _check_evaluation(e: EventData) -> None:
    _require(e, "result", choices={"result": ("satisfied", "basically_satisfied", "unsatisfied")})


def _keep(e: EventData, *names: str) -> None:
    kept = {k: e.kwargs["data"][k] for k in names if k in e.kwargs["data"]}
    if kept:  # a new dict, so SQLAlchemy sees the JSON column change
        _row(e).data = {**_row(e).data, **kept}


STATES = ["submitted", "registered", "assigned", "handling", "replied", "evaluated", "closed"]
TRANSITIONS: list[dict[str, Any]] = [
    {
        "trigger": "register",
        "source": "submitted",
        "dest": "registered",
        "conditions": _may("office"),
        "after": lambda e: _keep(e, "number"),
    },
    {
        "trigger": "assign",
        "source": "registered",
        "dest": "assigned",
        "conditions": _may("office"),
        "before": _check_assign,
        "after": _open_assignments,
    },
    {"trigger": "accept", "source": "assigned", "dest": "handling", "conditions": _may("lead_unit"), "after": _accept},
    {
        "trigger": "accept",
        "source": ["assigned", "handling"],
        "dest": None,
        "conditions": _may("co_unit"),
        "after": _accept,
    },
    {
        "trigger": "submit_co_opinion",
        "source": "handling",
        "dest": None,
        "conditions": _may("co_unit"),
        "after": _co_opinion,
    },
    {
        "trigger": "record_contact",
        "source": ["assigned", "handling", "replied", "evaluated"],
        "dest": None,
        "conditions": _may("assigned_unit"),
        "after": _contact,
    },
    {
        "trigger": "reply",
        "source": "handling",
        "dest": "replied",
        "conditions": _may("lead_unit"),
        "before": _check_reply,
        "after": _reply,
    },
    {
        "trigger": "evaluate",
        "source": "replied",
        "dest": "evaluated",
        "conditions": _may("proposer", "office"),
        "before": _check_evaluation,
        "after": lambda e: _keep(e, "result"),
    },
    {"trigger": "close", "source": "evaluated", "dest": "closed", "conditions": _may("office")},
]


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


class NaiveContestant:
    def __init__(self, folder: Path, durability: str) -> None:
        self.engine = create_engine(f"sqlite:///{folder}/naive.db")
        synchronous = SYNCHRONOUS[durability]

        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:  # the same pragmas duban sets
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        SQLModel.metadata.create_all(self.engine, tables=TABLES)

    def submit(self, at: dt.datetime, fields: Mapping[str, Any]) -> int:
        if not fields.get("title") or not fields.get("proposers"):
            raise ValueError("submit: title and proposers are required")
        if fields.get("origin") not in ("session", "between_sessions"):
            raise ValueError("submit: origin must be session or between_sessions")
        when = at  # SQLModel stores aware datetimes as UTC and hands them back aware, as duban does
        data = _plain(dict(fields))
        with Session(self.engine) as session:
            row = NaiveItem(
                kind="suggestion", state="submitted", title=fields["title"], data=data, created_at=when, updated_at=when
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            item_id = row.id
            session.add(
                NaiveAudit(item_id=item_id, at=when, actor="office", trigger="submit", dest=row.state, data=data)
            )
            session.commit()
        return item_id

    def fire(
        self, item_id: int, trigger: str, actor: tuple[str, str | None], at: dt.datetime, data: Mapping[str, Any]
    ) -> str:
        when = at  # SQLModel stores aware datetimes as UTC and hands them back aware, as duban does
        with Session(self.engine) as session:
            row = session.get(NaiveItem, item_id)
            if row is None:
                raise LookupError(f"no item {item_id}")
            if when < row.updated_at:
                raise ValueError(f"{at} is before the item's last change")
            source = row.state
            model = ItemModel(row)
            Machine(
                model=model,
                states=STATES,
                transitions=TRANSITIONS,
                initial=source,
                send_event=True,
                auto_transitions=False,
            )
            if not model.trigger(trigger, session=session, actor=actor, at=when, data=data):
                raise PermissionError(f"{actor} may not {trigger} item {item_id} in state {source}")
            dest = row.state
            row.version += 1
            row.updated_at = when
            role, party = actor
            session.add(
                NaiveAudit(
                    item_id=item_id,
                    at=when,
                    actor=f"{role}:{party}" if party else role,
                    trigger=trigger,
                    source=source,
                    dest=dest,
                    data=_plain(dict(data)),
                )
            )
            session.commit()
        return dest

    def count(self, state: str) -> int:
        with Session(self.engine) as session:
            return session.exec(select(func.count()).select_from(NaiveItem).where(NaiveItem.state == state)).one()

    def close(self) -> None:
        self.engine.dispose()
