"""The version of a definition as people are told it: its kind's own number, 第 N 版.

Every definition a database has seen is a row of ``duban_definition``: an id shared by all kinds (what
items point to, ``definition_version`` in the API), a per-kind ``number`` (1, 2, … as each kind's YAML
changes) and the digest of its text. Documents and the CLI say 第 N 版 with the number; the digest is
the developer's check that two databases run the same text.
"""

from __future__ import annotations

import sqlalchemy as sa

from workflow import store

__all__ = ["NumberCache", "version_text"]

_DEFINITION = store.TABLES["duban_definition"]


class NumberCache:
    """Definition row id → its per-kind number, read once (a row never changes its number)."""

    def __init__(self, db: sa.Engine) -> None:
        self.db, self._numbers = db, dict[int, int]()

    def __call__(self, def_id: int, conn: sa.Connection | None = None) -> int:
        if def_id not in self._numbers:
            query = sa.select(_DEFINITION.c.number).where(_DEFINITION.c.id == def_id)
            if conn is None:
                with store.reading(self.db) as own:
                    found = own.execute(query).scalar_one()
            else:
                found = conn.execute(query).scalar_one()
            self._numbers[def_id] = int(found)
        return self._numbers[def_id]


def version_text(number: int) -> str:
    """第 2 版."""
    return f"第 {number} 版"
