"""申请调整承办单位 only inside the unit's own window (reassignment_window, 7 working days from 交办)."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import snapshot, suggestion, unit

from workflow import Actor, Engine, ValidationError
from workflow.cli import main

LEAD, CO = "市交通运输局", "市民政局"
ASSIGNED = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)  # 2026-03-20 18:00 Beijing; window closes 03-31


def assigned(eng: Engine) -> int:
    item = suggestion(eng)
    eng.fire(item.id, "register", at=ASSIGNED - dt.timedelta(minutes=30))
    eng.fire(item.id, "assign", at=ASSIGNED, lead_unit=LEAD, co_units=[CO])
    return item.id


def test_a_request_on_the_last_day_of_the_window_is_accepted(engine: Engine) -> None:
    """At 2026-03-31 23:30 Beijing (15:30Z), the window's last day, a unit may still ask for reassignment."""
    item_id = assigned(engine)
    at = dt.datetime(2026, 3, 31, 15, 30, tzinfo=dt.UTC)
    item = engine.fire(item_id, "request_reassignment", actor=unit(LEAD), at=at, reason="不属于本单位职责")
    assert item.state == "reassignment_requested"


def test_a_request_one_working_day_late_is_refused_naming_the_day_the_window_closed(engine: Engine) -> None:
    """At 2026-04-01 01:30 Beijing (03-31 17:30Z) the window has closed: the request is refused with a
    ValidationError on ``at`` naming 2026-03-31 and the office's own route; nothing is written."""
    item_id = assigned(engine)
    before = snapshot(engine)
    at = dt.datetime(2026, 3, 31, 17, 30, tzinfo=dt.UTC)
    with pytest.raises(ValidationError) as exc:
        engine.fire(item_id, "request_reassignment", actor=unit(LEAD), at=at, reason="不属于本单位职责")
    assert exc.value.field == "at"
    message = str(exc.value)
    assert "closed on 2026-03-31" in message and "交办 2026-03-20" in message and "reassign" in message
    assert "\n" not in message
    assert snapshot(engine) == before


def test_the_office_may_still_reassign_after_the_window(engine: Engine) -> None:
    """After the window the office reassigns on its own authority; the new unit gets a fresh window."""
    item_id = assigned(engine)
    at = dt.datetime(2026, 4, 10, 2, 0, tzinfo=dt.UTC)
    item = engine.fire(item_id, "reassign", actor=Actor("office"), at=at, lead_unit="市公安局交通警察支队")
    assert item.state == "assigned"
    windows = {d["subject"]: d["due"] for d in engine.deadlines(item=item_id) if d["clock"] == "reassignment_window"}
    assert windows == {"unit:市公安局交通警察支队": dt.date(2026, 4, 21)}  # 7 working days from 04-10


def test_the_cli_refuses_a_late_request_with_exit_2_and_one_line(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the command line a late request exits 2 with one line naming the field, and changes nothing."""
    item_id = assigned(engine)
    before = snapshot(engine)
    args = ["--db", db_url, "fire", str(item_id), "request_reassignment", "--actor", f"unit:{LEAD}"]
    code = main([*args, "--set", "reason=不属于本单位职责", "--at", "2026-04-01T01:30:00+08:00"])
    err = capsys.readouterr().err
    assert code == 2
    assert "at" in err and "2026-03-31" in err and len(err.strip().splitlines()) == 1
    assert snapshot(engine) == before
