"""The official calendar years a deployment loaded, kept in ``duban_calendar`` so every process
(daemon, CLI, library) counts with the same days. The newest version of a year wins; older ones stay
for history. Imported by :mod:`workflow.engine`."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from workflow import store
from workflow.calendar import Calendar
from workflow.yamlfile import read_text

_CAL = store.TABLES["duban_calendar"]
_VERSION = sa.select(sa.func.max(_CAL.c.id))


def version(conn: sa.Connection) -> int:
    """The stored calendar's version: its newest row id (0 when nothing was loaded); one indexed read."""
    return int(conn.execute(_VERSION).scalar() or 0)


def copy(calendar: Calendar) -> Calendar:
    return Calendar(dict(calendar.rest), dict(calendar.work), dict(calendar.sources), dict(calendar.files))


def build(base: Calendar, conn: sa.Connection) -> tuple[Calendar, int]:
    """*base* (bundled and given files) with the stored years on top, and the stored version."""
    calendar, seen = copy(base), 0
    for row in conn.execute(sa.select(_CAL).order_by(_CAL.c.id)).mappings():
        calendar.add_text(row["source"], f"{row['path']} (stored version {row['id']})")
        seen = row["id"]
    return calendar, seen


def store_folders(conn: sa.Connection, folders: Iterable[Path], now: dt.datetime) -> list[int]:
    """Store each year file of *folders* whose text differs from its year's newest stored version.
    The caller validated the files (``Calendar.load``) first. Returns the years stored."""
    stored = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.yaml")):
            text = read_text(path)
            one = Calendar()
            year = one.add_text(text, str(path))
            digest = hashlib.sha256(text.encode()).hexdigest()
            newest = conn.execute(
                sa.select(_CAL.c.digest).where(_CAL.c.year == year).order_by(_CAL.c.id.desc()).limit(1)
            ).scalar()
            if newest == digest:
                continue
            values = {"year": year, "digest": digest, "path": str(path), "source": text, "loaded_at": now}
            conn.execute(sa.insert(_CAL).values(notice=one.sources[year], **values))
            stored.append(year)
    return stored


def listing(conn: sa.Connection, base: Calendar) -> list[dict[str, Any]]:
    """Every year counted with: its notice, where it comes from (bundled or stored) and its version."""
    rows = {r["year"]: r for r in conn.execute(sa.select(_CAL).order_by(_CAL.c.id)).mappings()}
    years = sorted(set(base.sources) | set(rows))
    out = []
    for year in years:
        row = rows.get(year)
        if row:
            out.append(
                {
                    "year": year,
                    "notice": row["notice"],
                    "origin": "stored",
                    "version": row["id"],
                    "path": row["path"],
                    "loaded_at": row["loaded_at"].isoformat(),
                }
            )
        else:
            out.append(
                {
                    "year": year,
                    "notice": base.sources[year],
                    "origin": "bundled",
                    "version": None,
                    "path": base.files[year],
                    "loaded_at": None,
                }
            )
    return out
