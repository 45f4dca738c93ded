"""Beijing time: the one zone in which duban derives every date and shows every instant.

Instants are stored in UTC, but the law counts Asia/Shanghai calendar days: a fire at 00:30 on
03-10 in Beijing is 16:30 on 03-09 in UTC, and it happened on 03-10. Every date taken from an
instant goes through :func:`beijing_date`, every instant shown to a person through
:func:`beijing_text`, so no path can fall back to the UTC day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

__all__ = ["SHANGHAI", "beijing_date", "beijing_text"]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing_date(instant: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an aware *instant*."""
    return instant.astimezone(SHANGHAI).date()


def beijing_text(instant: dt.datetime, timespec: str = "seconds", *, label: bool = True) -> str:
    """*instant* as a person reads it: ``2026-01-20 00:00:00 (北京时间)``; *timespec* as for isoformat.
    Without *label* (a table whose heading names the zone): ``2026-01-20 00:00:00``."""
    local = instant.astimezone(SHANGHAI).replace(tzinfo=None).isoformat(sep=" ", timespec=timespec)
    return f"{local} (北京时间)" if label else local
