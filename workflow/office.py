"""The name the office signs its notices with, kept in the database so that every process signs alike.

``duban init --office-name 宽城满族自治县人大常委会办公室`` (or :func:`store_name`) records it as the one party of
role ``office`` (no table of its own: it is a party, listed by ``duban party list``). Which name a notice is
signed with, first found:

1. ``office_name`` given in the settings (``DUBAN_OFFICE_NAME`` or the settings file), when it is not the
   built-in default: a deployment's explicit choice for its processes;
2. the name stored in the database;
3. the built-in default, 人大常委会办公室.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from workflow import names
from workflow.channels import Settings
from workflow.errors import ValidationError
from workflow.store import TABLES

__all__ = ["DEFAULT_NAME", "signed", "store_name", "stored_name"]

_PARTY = TABLES["duban_party"]
DEFAULT_NAME: str = next(f.default for f in dataclasses.fields(Settings) if f.name == "office_name")  # type: ignore[assignment]
_NAME_MAX = 59  # as a party's name (engine.PARTY_NAME_MAX)


def stored_name(conn: sa.Connection) -> str | None:
    """The office's name recorded in the database, if any."""
    query = sa.select(_PARTY.c.name).where(_PARTY.c.role == "office").order_by(_PARTY.c.id).limit(1)
    return conn.execute(query).scalar()


def signed(settings: Settings, conn: sa.Connection) -> Settings:
    """*settings* with the office name notices are signed with (see the module's order)."""
    if settings.office_name != DEFAULT_NAME:
        return settings
    name = stored_name(conn)
    return dataclasses.replace(settings, office_name=name) if name else settings


def store_name(db: sa.Engine, name: str, field: str = "office_name") -> str:
    """Record *name* (normalised, as party names are) as the office's, replacing an earlier one; returns it."""
    name = names.normal(name, field)
    if not name:
        raise ValidationError(field, "the office needs a name, e.g. 宽城满族自治县人大常委会办公室")
    if len(name) > _NAME_MAX:
        raise ValidationError(field, f"an office's name has at most {_NAME_MAX} characters, not {len(name)}")
    with db.begin() as conn:
        conn.execute(sa.delete(_PARTY).where(_PARTY.c.role == "office", _PARTY.c.name != name))
        if stored_name(conn) is None:
            conn.execute(sa.insert(_PARTY).values(role="office", name=name, contacts={}))
    return name
