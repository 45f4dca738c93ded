"""签收 is per unit: each unit handed the item has its own sign window and its own reminder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import suggestion, unit
from routing_helpers import addressed_engine, sent

from workflow import Engine
from workflow.testing import FakeClock

LEAD, CO = "市交通运输局", "市民政局"
# 2026-04-01 02:00 Beijing: the 7-working-day window (交办 03-20, last day 03-31) has just closed.
AFTER = dt.datetime(2026, 3, 31, 18, 0, tzinfo=dt.UTC)


@pytest.fixture
def eng(db_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[Engine]:
    engine = addressed_engine(db_url, clock, tmp_path / "outbox")
    yield engine
    engine.close()


def assigned(eng: Engine) -> int:
    item = suggestion(eng)
    eng.fire(item.id, "register")
    eng.fire(item.id, "assign", lead_unit=LEAD, co_units=[CO])
    return item.id


def windows(eng: Engine, item_id: int) -> set[str]:
    return {d["subject"] for d in eng.deadlines(item=item_id) if d["clock"] == "reassignment_window"}


def test_every_unit_gets_its_own_sign_deadline(eng: Engine) -> None:
    """交办 to a lead and a co-unit opens one sign window per unit, each named unit:NAME."""
    item_id = assigned(eng)
    assert windows(eng, item_id) == {f"unit:{LEAD}", f"unit:{CO}"}


def test_a_co_units_signing_does_not_stop_the_lead_units_clock(eng: Engine) -> None:
    """The co-unit signs; the lead unit has not: only the lead unit is reminded when the window closes."""
    item_id = assigned(eng)
    eng.fire(item_id, "accept", actor=unit(CO))
    assert windows(eng, item_id) == {f"unit:{LEAD}"}
    eng.sweep(now=AFTER)
    assert sent(eng, item_id, "sign_reminder") == [("handler", f"handler@{LEAD}")]


def test_each_unit_that_has_not_signed_gets_its_own_reminder(eng: Engine) -> None:
    """Neither unit signed: each one's handler gets a reminder; the lead signing later leaves the co-unit's."""
    item_id = assigned(eng)
    eng.sweep(now=AFTER)
    assert sorted(sent(eng, item_id, "sign_reminder")) == [("handler", f"handler@{LEAD}"), ("handler", f"handler@{CO}")]
    eng.fire(item_id, "accept", actor=unit(LEAD), at=AFTER + dt.timedelta(hours=1))
    assert windows(eng, item_id) == {f"unit:{CO}"}


def test_the_lead_reply_closes_every_units_window(eng: Engine) -> None:
    """Once the item is replied, no sign window stays open, even for a co-unit that never signed."""
    item_id = assigned(eng)
    eng.fire(item_id, "accept", actor=unit(LEAD))
    eng.fire(item_id, "submit_co_opinion", actor=unit(CO), opinion="同意")
    eng.fire(item_id, "reply", actor=unit(LEAD), category="A", text="答复", signer="局长")
    assert windows(eng, item_id) == set()
