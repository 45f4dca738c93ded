"""workflow.testing: the fake clock and in-memory engine integrators use in their own tests."""

from __future__ import annotations

import datetime as dt

import pytest

from workflow.testing import FakeClock, memory_engine


def test_fake_clock_moves_only_when_told() -> None:
    """The fake clock returns the same instant until advanced or set."""
    clock = FakeClock("2026-03-20T09:00:00+08:00")
    assert clock() == clock() == dt.datetime(2026, 3, 20, 1, tzinfo=dt.UTC)
    assert clock.advance(days=1, hours=2) == dt.datetime(2026, 3, 21, 3, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock("2026-03-20T09:00:00")


def test_memory_engine_uses_the_injected_clock() -> None:
    """An in-memory engine is ready to use and stamps items with the fake clock."""
    clock = FakeClock("2026-03-20T09:00:00+08:00")
    eng = memory_engine(clock=clock)
    item = eng.submit("suggestion", title="t", origin="session", proposers=["王芳"])
    clock.advance(hours=1)
    assert eng.fire(item.id, "register").updated_at == clock()
    assert eng.get(item.id).created_at == dt.datetime(2026, 3, 20, 1, tzinfo=dt.UTC)
