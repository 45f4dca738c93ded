"""Statutory clocks on items: started, stopped, paused, extended and escalated as the definitions say."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
from pathlib import Path

import pytest
from conftest import in_processes, review_opinion, snapshot, suggestion, to_replied, unit

from workflow import Actor, DefinitionError, Engine, ValidationError
from workflow.calendar import SHANGHAI
from workflow.testing import FakeClock

LEAD, CO = unit("市交通运输局"), unit("市民政局")
D = dt.date.fromisoformat


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), SHANGHAI)


def clocks(eng: Engine, item_id: int) -> dict[str, dict[str, object]]:
    return {f"{d['clock']}{'/' + str(d['subject']) if d['subject'] else ''}": d for d in eng.get(item_id).deadlines}


def assigned(eng: Engine, day: str = "2026-03-20", **extra: object) -> int:
    item = suggestion(eng, at=at(day, 9))
    eng.fire(item.id, "register", at=at(day, 9))
    eng.fire(item.id, "assign", at=at(day), lead_unit="市交通运输局", co_units=["市民政局"], **extra)
    return item.id


def test_assignment_starts_the_reply_window_and_co_opinion_clocks(engine: Engine) -> None:
    """交办 on 2026-03-20 starts the 3-month reply clock (due 06-22 past the Dragon Boat holiday), the
    7-working-day objection window, and one co-opinion clock per co-unit, each with its explanation."""
    item_id = assigned(engine)
    open_clocks = clocks(engine, item_id)
    windows = {"reassignment_window/unit:市交通运输局", "reassignment_window/unit:市民政局"}
    assert set(open_clocks) == {"reply", "co_opinion/unit:市民政局", *windows}
    reply = open_clocks["reply"]
    assert (reply["due"], reply["provisional"], reply["state"], reply["label"]) == (
        D("2026-06-22"),
        False,
        "running",
        "答复期限 (reply)",
    )
    assert "交办 2026-03-20 + 3个月 = 2026-06-20 (星期六, 端午节假期) → 顺延至 2026-06-22" in str(reply["explanation"])
    assert reply["deadline_at"] == dt.datetime(2026, 6, 23, tzinfo=SHANGHAI)
    assert {open_clocks[w]["due"] for w in windows} == {D("2026-03-31")}
    assert open_clocks["co_opinion/unit:市民政局"]["due"] == D("2026-04-20")


def test_wide_ranging_items_get_the_long_period(engine: Engine) -> None:
    """An item marked wide-ranging and difficult (涉及面广、办理难度大) has 6 months to reply."""
    item_id = assigned(engine, wide_ranging=True)
    assert clocks(engine, item_id)["reply"]["due"] == D("2026-09-20")  # a Sunday, but a make-up working day


def test_signing_and_opinions_and_reply_stop_their_clocks(engine: Engine) -> None:
    """签收 closes the objection window, the co-unit's opinion stops its clock, the reply stops the reply
    clock and starts the deputy's feedback clock."""
    item_id = assigned(engine)
    engine.fire(item_id, "accept", actor=CO, at=at("2026-03-21"))
    engine.fire(item_id, "accept", actor=LEAD, at=at("2026-03-21"))
    assert "reassignment_window" not in clocks(engine, item_id)
    engine.fire(item_id, "submit_co_opinion", actor=CO, at=at("2026-04-01"), opinion="同意")
    assert set(clocks(engine, item_id)) == {"reply"}
    engine.fire(item_id, "reply", actor=LEAD, at=at("2026-05-06"), category="A", text="t", signer="s")
    assert set(clocks(engine, item_id)) == {"feedback"}
    assert clocks(engine, item_id)["feedback"]["due"] == D("2026-06-08")  # 06-06 is a Saturday
    stopped = engine.deadlines(item=item_id, state="stopped")
    assert {d["clock"] for d in stopped} == {"reassignment_window", "co_opinion", "reply"}


def test_reassignment_request_pauses_the_reply_clock(engine: Engine) -> None:
    """While a reassignment request is pending the reply clock stands still; refused, it resumes later
    by the days it stood; approved, a new 3-month period starts from the new assignment."""
    item_id = assigned(engine)
    engine.fire(item_id, "request_reassignment", actor=LEAD, at=at("2026-03-23"), reason="不属本单位")
    paused = clocks(engine, item_id)["reply"]
    assert (paused["state"], paused["next_at"]) == ("paused", None)
    engine.fire(item_id, "refuse_reassignment", at=at("2026-03-30"), reason="属本单位")
    resumed = clocks(engine, item_id)["reply"]
    assert resumed["state"] == "running"
    assert resumed["due"] == D("2026-06-29")  # 06-20 + 7 days paused = 06-27 (Saturday) → 06-29
    assert "暂停 + 7日" in str(resumed["explanation"])

    engine.fire(item_id, "request_reassignment", actor=LEAD, at=at("2026-03-31"), reason="再次申请")
    engine.fire(item_id, "reassign", at=at("2026-04-02"), lead_unit="市公安局交通警察支队")
    restarted = clocks(engine, item_id)["reply"]
    assert (restarted["start_date"], restarted["due"]) == (D("2026-04-02"), D("2026-07-02"))
    assert [d["state"] for d in engine.deadlines(item=item_id, clock="reply", state=None)] == ["replaced", "running"]


def test_pausing_is_a_parameter(db_url: str) -> None:
    """A jurisdiction that keeps the clock running during a reassignment request says so in a parameter."""
    eng = Engine(db_url, parameters={"suggestion": {"pause_on_reassignment": False}})
    for name in ("市交通运输局", "市民政局"):
        eng.add_party("unit", name)
    item_id = assigned(eng)
    eng.fire(item_id, "request_reassignment", actor=LEAD, at=at("2026-03-23"), reason="r")
    assert clocks(eng, item_id)["reply"]["state"] == "running"
    eng.close()


def test_extension_moves_the_due_date_up_to_the_ceiling(engine: Engine) -> None:
    """An approved extension adds its period to the reply period; together extensions may not pass the
    ceiling (3 more months by default), and a refused one changes nothing."""
    item_id = assigned(engine)
    engine.fire(item_id, "accept", actor=LEAD, at=at("2026-03-21"))
    engine.fire(item_id, "request_extension", actor=LEAD, at=at("2026-06-01"), reason="r", period="2 months")
    engine.fire(item_id, "approve_extension", at=at("2026-06-02"), period="2 months")
    extended = clocks(engine, item_id)["reply"]
    assert extended["due"] == D("2026-08-20") and "延期 + 2个月" in str(extended["explanation"])
    engine.fire(item_id, "request_extension", actor=LEAD, at=at("2026-08-01"), reason="r", period="2 months")
    before = snapshot(engine)
    with pytest.raises(ValidationError, match="ceiling of 3 months"):
        engine.fire(item_id, "approve_extension", at=at("2026-08-02"), period="2 months")
    assert snapshot(engine) == before
    engine.fire(item_id, "approve_extension", at=at("2026-08-02"), period="1 month")
    assert clocks(engine, item_id)["reply"]["due"] == D("2026-09-20")  # a make-up working Sunday stands


def test_rehandling_starts_its_own_clock(engine: Engine) -> None:
    """An unsatisfied rating starts the 1-month re-handling reply clock, stopped by the next reply."""
    item = to_replied(engine)
    engine.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="unsatisfied")
    open_clocks = clocks(engine, item.id)
    assert set(open_clocks) == {"rehandle_reply"}
    assert open_clocks["rehandle_reply"]["due"] == D("2026-04-20") and open_clocks["rehandle_reply"]["round"] == 1
    engine.fire(item.id, "reply", actor=LEAD, category="A", text="t", signer="s")
    assert set(clocks(engine, item.id)) == {"feedback"}


def test_each_promise_runs_to_its_own_date(engine: Engine) -> None:
    """Each B/C promise gets a clock due on its own date; verifying the promise stops that one only."""
    item = to_replied(
        engine, category="B", promises=[{"what": "甲", "by": "2026-10-01"}, {"what": "乙", "by": "2026-12-31"}]
    )
    promises = engine.get(item.id).promises
    open_clocks = clocks(engine, item.id)
    first, second = (open_clocks[f"promise/promise:{p['id']}"] for p in promises)
    assert first["due"] == D("2026-10-08")  # 10-01 falls in the National Day holiday
    assert second["due"] == D("2026-12-31")
    engine.fire(item.id, "verify_commitment", promise=promises[0]["id"], outcome="kept")
    assert f"promise/promise:{promises[0]['id']}" not in clocks(engine, item.id)
    assert f"promise/promise:{promises[1]['id']}" in clocks(engine, item.id)


def test_review_opinion_clocks_and_each_problem(engine: Engine) -> None:
    """Hand-over starts the rectification-plan and report clocks; the plan starts one clock per problem,
    stopped when that problem is rectified (not merely in progress) or closed."""
    item = review_opinion(engine, problems=2)
    assert set(clocks(engine, item.id)) == {"rectification_plan", "report"}
    assert clocks(engine, item.id)["report"]["due"] == D("2026-09-20")  # 6 months; a make-up working Sunday
    engine.fire(
        item.id,
        "submit_rectification_plan",
        actor=unit("市人民政府"),
        measures=[
            {"problem": 1, "measure": "m", "owner": "o", "due": "2026-06-30"},
            {"problem": 2, "measure": "m", "owner": "o", "due": "2026-10-31"},
        ],
    )
    assert set(clocks(engine, item.id)) == {"report", "problem/problem:1", "problem/problem:2"}
    assert clocks(engine, item.id)["problem/problem:2"]["due"] == D("2026-11-02")  # 10-31 is a Saturday
    engine.fire(item.id, "update_problem", actor=unit("市人民政府"), problem=1, status="in_progress")
    assert "problem/problem:1" in clocks(engine, item.id)
    engine.fire(item.id, "update_problem", actor=unit("市人民政府"), problem=1, status="rectified")
    engine.fire(item.id, "close_problem", problem=2)
    assert set(clocks(engine, item.id)) == {"report"}


def test_reminders_and_escalations_fall_due_once_each(engine: Engine) -> None:
    """Reminders come 15 and 3 days before the due date; level 1 when the period ends, level 2 five working
    days later, level 3 after fifteen; each is produced once however often due() is asked."""
    item_id = assigned(engine)
    for name in ("市民政局", "市交通运输局"):
        engine.fire(item_id, "accept", actor=unit(name), at=at("2026-03-21"))
    engine.fire(item_id, "submit_co_opinion", actor=CO, at=at("2026-03-22"), opinion="同意")
    assert engine.due(at("2026-06-06")) == []
    first = engine.due(at("2026-06-07"))
    assert [(s.clock, s.kind, s.level, s.template) for s in first] == [("reply", "reminder", 0, "reminder")]
    assert first[0].scheduled_at == dt.datetime(2026, 6, 7, tzinfo=SHANGHAI)
    assert engine.due(at("2026-06-07", 23)) == []
    # A sweep that comes back only after a while produces every step earned since, in order, once.
    late = engine.due(at("2026-07-01"))
    assert [(s.kind, s.level) for s in late] == [("reminder", 0), ("escalation", 1), ("escalation", 2)]
    assert late[1].scheduled_at == dt.datetime(2026, 6, 23, tzinfo=SHANGHAI)
    assert late[2].scheduled_at == dt.datetime(2026, 6, 30, tzinfo=SHANGHAI)  # 5 working days after 06-22
    assert late[2].notify == ("department_head", "principal_leader")
    assert engine.due(at("2026-07-01")) == [] and engine.due(at("2026-07-13", 23)) == []
    third = engine.due(at("2026-07-14"))  # 15 working days after 06-22 end on 07-13
    assert [(s.level, s.notify) for s in third] == [(3, ("supervising_leader", "case_leader"))]
    assert clocks(engine, item_id)["reply"]["level"] == 3


def _sweep(url: str, when: dt.datetime, out: mp.Queue) -> None:
    try:
        eng = Engine(url, migrate=False)
        out.put([(s.deadline_id, s.step) for s in eng.due(when)])
        eng.close()
    except Exception as exc:  # report, so that the test fails with the reason instead of waiting
        out.put(repr(exc))


def test_concurrent_processes_produce_each_step_once(engine: Engine) -> None:
    """Three processes asking at the same time together produce each (deadline, step) exactly once."""
    for day in ("2026-03-02", "2026-03-03", "2026-03-04"):
        assigned(engine, day)
    results = in_processes(_sweep, [(engine.url, at("2026-12-31"))] * 3)
    assert all(isinstance(r, list) for r in results), results
    produced = [step for r in results for step in r]
    assert len(produced) == len(set(produced)) > 0
    assert engine.due(at("2026-12-31")) == []


def test_calendar_reload_recomputes_provisional_deadlines(engine: Engine, clock: FakeClock, tmp_path: Path) -> None:
    """A deadline in an unloaded year is provisional; loading that year's notice recomputes it and
    records old and new dates in the item's audit log, leaving other deadlines alone."""
    clock.set(at("2026-11-30"))
    late = assigned(engine, "2026-11-30")
    early = assigned(engine, "2026-03-20")
    reply = clocks(engine, late)["reply"]
    assert (reply["due"], reply["provisional"]) == (D("2027-03-01"), True)
    assert [(d["item_id"], d["clock"]) for d in engine.deadlines(provisional=True)] == [(late, "reply")]
    year = tmp_path / "calendars"
    year.mkdir()
    (year / "2027.yaml").write_text(
        "year: 2027\nsource: 测试用 (假设的2027年放假安排)\nholidays:\n  春节:\n    rest: [2027-03-01, 2027-03-02]\n",
        encoding="utf-8",
    )
    changes = engine.reload_calendar([year])
    assert {(c["item"], c["clock"], c["old_due"], c["new_due"]) for c in changes} >= {
        (late, "reply", "2027-03-01", "2027-03-03")
    }
    assert all(c["item"] == late for c in changes)
    reply = clocks(engine, late)["reply"]
    assert (reply["due"], reply["provisional"]) == (D("2027-03-03"), False)
    last = engine.get(late).history[-1]
    assert (last.trigger, last.actor, last.data["old_due"]) == ("recompute_deadline", "system", changes[-1]["old_due"])
    assert engine.verify_audit() == []
    assert clocks(engine, early)["reply"]["due"] == D("2026-06-22")


def test_deadlines_are_listed_with_filters(engine: Engine) -> None:
    """deadlines() filters by item, clock, unit and overdue instant, soonest first."""
    a, b = assigned(engine, "2026-03-02"), assigned(engine, "2026-03-20")
    assert [d["item_id"] for d in engine.deadlines(clock="reply")] == [a, b]
    assert [d["item_id"] for d in engine.deadlines(clock="reply", overdue_at=at("2026-06-05"))] == [a]
    assert engine.deadlines(unit="市卫生健康委员会") == []
    assert {d["clock"] for d in engine.deadlines(item=b)} == {"reply", "reassignment_window", "co_opinion"}


def test_parameter_file_overrides_with_located_errors(db_url: str, tmp_path: Path) -> None:
    """A jurisdiction's own small YAML file sets parameters; a wrong name or value is reported at its line."""
    good = tmp_path / "county.yaml"
    good.write_text("suggestion:\n  rehandle_period: 2 months\n", encoding="utf-8")
    eng = Engine(db_url, parameters=good)
    assert eng._version(eng._current["suggestion"])[2]["rehandle_period"] == "2 months"
    eng.close()
    bad = tmp_path / "bad.yaml"
    bad.write_text("suggestion:\n  rehandle_period: 2 fortnights\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        Engine(db_url, parameters=bad)
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(bad), 2, 20)
    bad.write_text("suggestion:\n  reply_perod: 2 months\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="no parameter 'reply_perod'") as caught:
        Engine(db_url, parameters=bad)
    assert caught.value.line == 2


def test_bad_calendar_on_reload_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    """Reloading a calendar folder with a bad file raises a located DefinitionError and leaves every
    deadline, item and audit row as it was."""
    assigned(engine, "2026-11-30")
    folder = tmp_path / "calendars"
    folder.mkdir()
    (folder / "2027.yaml").write_text(
        "year: 2027\nsource: 测试用通知\nholidays:\n  元旦:\n    rest: [2026-12-31]\n", encoding="utf-8"
    )
    before = snapshot(engine)
    with pytest.raises(DefinitionError, match="outside 2027") as caught:
        engine.reload_calendar([folder])
    assert (caught.value.line, caught.value.column) == (5, 12)
    assert snapshot(engine) == before
