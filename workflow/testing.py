"""Helpers for integrators' tests: a clock you move by hand and an engine in memory.

from workflow.testing import FakeClock, memory_engine
clock = FakeClock("2026-03-20T09:00:00+08:00")
eng = memory_engine(clock=clock)
clock.advance(days=3)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workflow.engine import Engine

__all__ = ["FakeClock", "memory_engine"]


class FakeClock:
    """A clock that stands still until told to move. Call it to read the time."""

    def __init__(self, start: dt.datetime | str = "2026-01-01T09:00:00+08:00") -> None:
        now = dt.datetime.fromisoformat(start) if isinstance(start, str) else start
        if now.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by ``timedelta(**delta)`` and return the new time."""
        self.now += dt.timedelta(**delta)
        return self.now

    def set(self, when: dt.datetime | str) -> dt.datetime:
        self.now = dt.datetime.fromisoformat(when) if isinstance(when, str) else when
        return self.now


def memory_engine(**kwargs: Any) -> Engine:
    """An Engine on a private in-memory SQLite database, schema created, bundled definitions loaded."""
    return Engine("sqlite://", **kwargs)
