"""How ``duban`` shows values to a person: no Python reprs. A list reads 张伟、王芳, a record ``key: value``
lines, nothing is blank, an instant is Beijing time; tables fold long text instead of cutting it, and
measure Chinese characters as two columns (rich does), so they fit the terminal.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table

from workflow.beijing import beijing_text

__all__ = ["program", "record_table", "shown"]

_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")


def shown(value: Any, inline: bool = False) -> str:
    """*value* as a person reads it: ``None`` blank, a list 、-joined, a mapping one ``key: value`` line per
    entry (``; ``-joined when *inline*), an instant (or its ISO text) in Beijing time, a bool yes or no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return beijing_text(value, "minutes", label=False)
    if isinstance(value, str):
        if _INSTANT.match(value):
            try:
                return beijing_text(dt.datetime.fromisoformat(value.replace("Z", "+00:00")), "minutes", label=False)
            except ValueError:
                return value
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        entries = [f"{k}: {shown(v, True)}" for k, v in value.items() if v not in (None, "", [], {})]
        return ("; " if inline else "\n").join(entries)
    if isinstance(value, Sequence):
        return "、".join(shown(v, True) for v in value)
    return str(value)


def record_table(title: str, rows: Sequence[Mapping[str, Any]]) -> Group:
    """*rows* (an item's assignments, promises, …) as a table: a column nobody has a value in is left out,
    a long cell folds onto more lines rather than being cut, and a record in a row (a unit's reply) is
    written beneath the table as ``key: value`` lines, headed by the row's id and the column."""
    keys = [k for k in rows[0] if any(r.get(k) not in (None, "", [], {}) for r in rows)]
    records = [k for k in keys if any(isinstance(r.get(k), Mapping) for r in rows)]
    table = Table(title=title, title_justify="left")
    for key in keys:
        if key not in records:
            table.add_column(key, overflow="fold")
    beneath: list[str] = []
    for r in rows:
        table.add_row(*(shown(r.get(k)) for k in keys if k not in records))
        for key in records:
            if text := shown(r.get(key)):
                beneath.append(f"#{r.get('id', '')} {key}:\n" + "\n".join(f"    {line}" for line in text.splitlines()))
    return Group(table, *beneath)


def program() -> str:
    """How to run duban again as it was run now: ``duban`` when that is on the PATH, else the script's path
    as typed (``.venv/bin/duban``), else ``python -m workflow``."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is None or script.name in ("__main__.py", "-c", "-m") or script.suffix == ".py":
        return f"{os.path.relpath(sys.executable)} -m workflow" if sys.executable else "python -m workflow"
    on_path = shutil.which(script.name)
    if on_path and script.exists() and Path(on_path).resolve() == script.resolve():
        return script.name
    try:
        typed = os.path.relpath(script) if script.is_absolute() else str(script)
    except ValueError:  # another drive
        typed = str(script)
    return typed if os.sep in typed else f".{os.sep}{typed}"
