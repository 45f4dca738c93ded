"""The values duban hands out: who acts, and what an item looks like when read back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACTOR_ROLES", "VOIDED", "Actor", "AuditEntry", "Item", "ItemDetail", "plain"]

#: Who may act. ``unit`` and ``deputy`` need a party (the unit's or deputy's name).
ACTOR_ROLES = ("office", "leader", "committee", "system", "unit", "deputy")
#: The state of an item voided (作废) as entered by mistake: final, kept in the audit, left out of every
#: figure and ledger of the reports and of ``Engine.items`` unless asked for (workflow.corrections).
VOIDED = "voided"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who fires a trigger: ``Actor("office")``, ``Actor("unit", "市民政局")``, ``Actor("deputy", "王芳")``."""

    role: str
    party: str | None = None

    def __post_init__(self) -> None:
        from workflow.errors import ValidationError
        from workflow.names import normal

        if self.role not in ACTOR_ROLES:
            raise ValidationError("actor", f"unknown role {self.role!r}; roles are {', '.join(ACTOR_ROLES)}")
        if self.party is not None:  # a name is matched as stored: normalised (workflow.names)
            object.__setattr__(self, "party", normal(self.party, "actor") or None)
        if self.role in ("unit", "deputy") and not self.party:
            raise ValidationError("actor", f"a {self.role} acts by name: write {self.role}:NAME")

    @classmethod
    def parse(cls, text: str) -> Actor:
        """Read the CLI form ``ROLE[:PARTY]``, e.g. ``unit:市民政局``."""
        role, _, party = text.partition(":")
        return cls(role.strip(), party.strip() or None)

    @classmethod
    def of(cls, actor: Actor | str) -> Actor:
        """*actor* itself, or read from ``ROLE[:PARTY]`` (``"office"``, ``"unit:市民政局"``); anything else is a
        ValidationError naming ``actor``."""
        if isinstance(actor, Actor):
            return actor
        if isinstance(actor, str):
            return cls.parse(actor)
        from workflow.errors import ValidationError

        raise ValidationError(
            "actor", f"an actor is an Actor or a 'ROLE[:PARTY]' string such as 'unit:市民政局', not {actor!r}"
        )

    def __str__(self) -> str:
        return f"{self.role}:{self.party}" if self.party else self.role


@dataclass(frozen=True, slots=True)
class Item:
    """An item as it stands after a submit or a fire."""

    id: int
    kind: str
    state: str
    state_label: str
    title: str
    year: int
    round: int
    key_supervised: bool
    version: int
    definition_version: int
    data: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    #: The definition's version as people are told it (第 N 版): its kind's own number.
    #: ``definition_version`` is the definition's row id, shared by all kinds.
    definition_number: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {name: plain(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One fired trigger in an item's history."""

    seq: int
    at: dt.datetime
    actor: str
    trigger: str
    source: str | None
    dest: str
    data: dict[str, Any]
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {name: plain(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class ItemDetail(Item):
    """An item with everything recorded about it: units, promises, problems, contacts, votes, history."""

    assignments: list[dict[str, Any]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    history: list[AuditEntry] = field(default_factory=list)
    allowed_triggers: list[str] = field(default_factory=list)


def plain(value: Any) -> Any:
    """JSON-ready form of API values (dates as ISO strings, nested values recursively)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value
