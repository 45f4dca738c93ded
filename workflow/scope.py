"""Which items an actor may see: the SQL behind ``actor=`` on ``Engine.items``, ``get`` and ``deadlines``.

The office, leaders, the committee and the system see every item. A unit sees the items it has, or
once had, an assignment on (a unit reassigned away still sees the history it took part in, but can
no longer act on the item); a deputy sees the items whose proposers include them. The condition is a
SQL ``EXISTS`` on ``duban_item``, so a listing never reads a row the actor may not see.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from workflow.model import Actor
from workflow.store import TABLES

__all__ = ["OVERSIGHT", "can_see", "proposed_by", "restrict", "visible"]

#: Roles that see every item.
OVERSIGHT = ("office", "leader", "committee", "system")
_ITEM, _ASSIGNMENT = TABLES["duban_item"], TABLES["duban_assignment"]


def visible(actor: Actor | None, dialect: str) -> sa.ColumnElement[bool] | None:
    """The condition on ``duban_item`` that selects what *actor* may see; None when they see everything."""
    if actor is None or actor.role in OVERSIGHT:
        return None
    if actor.role == "unit":
        return sa.exists().where(_ASSIGNMENT.c.item_id == _ITEM.c.id, _ASSIGNMENT.c.unit == actor.party)
    return proposed_by(str(actor.party), dialect)


def proposed_by(name: str, dialect: str) -> sa.ColumnElement[bool]:
    """Items whose ``data.proposers`` list holds *name* exactly (not a substring, no wildcards)."""
    party = sa.cast(sa.literal(name), sa.Text)  # PostgreSQL infers no type for a bare parameter
    if dialect == "postgresql":
        # jsonb containment reads a missing list as NULL (not seen) and never fails on a non-list value.
        proposers = sa.cast(_ITEM.c.data, JSONB)["proposers"]
        return proposers.bool_op("@>")(sa.func.jsonb_build_array(party))
    elements = sa.func.json_each(_ITEM.c.data, "$.proposers").table_valued("value")
    return sa.exists().select_from(elements).where(elements.c.value == party)


def restrict(query: sa.Select[Any], actor: Actor | None, dialect: str) -> sa.Select[Any]:
    """*query* (which selects from ``duban_item``) narrowed to what *actor* may see."""
    condition = visible(actor, dialect)
    return query if condition is None else query.where(condition)


def can_see(conn: sa.Connection, actor: Actor | None, item_id: int) -> bool:
    """Whether *actor* may see item *item_id* (which exists)."""
    condition = visible(actor, conn.dialect.name)
    if condition is None:
        return True
    return conn.execute(sa.select(_ITEM.c.id).where(_ITEM.c.id == item_id, condition)).first() is not None
