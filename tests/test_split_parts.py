"""分办: a split item is graded part by part — each unit's part keeps its own category and promises,
is replied once per round, and the follow-up report counts parts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from conftest import snapshot, suggestion, unit

from workflow import Actor, Engine, ValidationError
from workflow.cli import main

M, W = "市民政局", "市卫生健康委员会"
DEPUTY = Actor("deputy", "王芳")


def at(day: str, hour: int = 1) -> dt.datetime:
    """*day* at *hour* Beijing time (early hours: the Shanghai date differs from the UTC one)."""
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:30:00+08:00")


def split_item(eng: Engine) -> int:
    """A suggestion split between M and W, both signed for, assigned 2026-03-21 (Beijing)."""
    item = suggestion(eng)
    eng.fire(item.id, "register", at=at("2026-03-21", 0))
    eng.fire(item.id, "assign", split_units=[M, W], at=at("2026-03-21", 2))
    eng.fire(item.id, "accept", actor=unit(M), at=at("2026-03-22"))
    eng.fire(item.id, "accept", actor=unit(W), at=at("2026-03-22", 3))
    return item.id


def reply_b(eng: Engine, item_id: int, who: str, day: str) -> Any:
    return eng.fire(
        item_id,
        "reply",
        actor=unit(who),
        category="B",
        text="列入明年计划",
        signer="局长",
        promises=[{"what": "建成站点", "by": "2026-12-31"}],
        at=at(day),
    )


def reply_a(eng: Engine, item_id: int, who: str, day: str) -> Any:
    return eng.fire(item_id, "reply", actor=unit(who), category="A", text="已解决", signer="主任", at=at(day))


def test_parts_keep_their_own_category_and_promise_clock(engine: Engine) -> None:
    """Parts B and A: the mix is {'A': 1, 'B': 1}, each part keeps its category, the B part's promise
    has its own running clock, and the item has no misleading single category."""
    item_id = split_item(engine)
    reply_b(engine, item_id, M, "2026-05-10")
    assert reply_a(engine, item_id, W, "2026-05-12").state == "replied"
    got = engine.get(item_id)
    parts = {a["unit"]: a["reply"]["category"] for a in got.assignments}
    assert parts == {M: "B", W: "A"}
    assert got.data["part_categories"] == {M: "B", W: "A"} and "category" not in got.data
    assert [(p["unit"], p["status"]) for p in got.promises] == [(M, "open")]
    promise_clocks = [d for d in got.deadlines if d["clock"] == "promise"]
    assert [(d["subject"], d["state"]) for d in promise_clocks] == [(f"promise:{got.promises[0]['id']}", "running")]
    report = engine.report("followup", now=at("2026-06-01")).data
    assert report["summary"]["grades"] == {"A": 1, "B": 1, "C": 0, "D": 0}
    row = next(r for r in report["items"] if r["item_id"] == item_id)
    assert row["category"] == "B、A"


def test_second_reply_to_a_replied_part_is_refused_and_changes_nothing(engine: Engine) -> None:
    """A part already replied in this round cannot be replied again: ValidationError on `actor`
    naming the unit, the round and when, and the database is unchanged."""
    item_id = split_item(engine)
    reply_b(engine, item_id, M, "2026-05-10")
    before = snapshot(engine)
    with pytest.raises(ValidationError) as caught:
        reply_a(engine, item_id, M, "2026-05-11")
    assert caught.value.field == "actor"
    message = str(caught.value)
    assert M in message and "round 0" in message and "2026-05-09T17:30:00" in message and "\n" not in message
    assert snapshot(engine) == before


def test_second_reply_on_the_cli_exits_2_and_changes_nothing(engine: Engine, db_url: str, capsys: Any) -> None:
    """The same refusal on the command line: one `error:` line naming the field, exit 2, nothing written."""
    item_id = split_item(engine)
    reply_a(engine, item_id, M, "2026-05-10")
    capsys.readouterr()
    before = snapshot(engine)
    args = ["--db", db_url, "fire", str(item_id), "reply", "--actor", f"unit:{M}", "--at", "2026-05-11T01:00+08:00"]
    code = main([*args, "--set", "category=A", "--set", "text=再答", "--set", "signer=s"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("error: actor: ") and M in err and err.count("\n") == 1
    assert snapshot(engine) == before


def test_timeliness_counts_each_part(engine: Engine) -> None:
    """按期答复率 counts one per part: M replies within the period, W after it ends (3 months from
    03-21 is 06-21, a Sunday, so 06-22 24:00) — one of two parts on time, not one figure for the item."""
    item_id = split_item(engine)
    reply_a(engine, item_id, M, "2026-05-10")
    partial = engine.report("followup", now=at("2026-06-30")).data["summary"]["rates"]["on_time"]
    assert (partial["numerator"], partial["denominator"]) == (1, 2)  # W not replied and past its period
    due = next(d for d in engine.get(item_id).deadlines if d["clock"] == "reply")["deadline_at"]
    assert due == at("2026-06-23", 0).replace(minute=0)  # 24:00 on 06-22, Beijing
    reply_a(engine, item_id, W, "2026-06-23")  # 01:30 Beijing on 06-23: 90 minutes late
    rates = engine.report("followup", now=at("2026-07-01")).data["summary"]["rates"]
    assert (rates["on_time"]["numerator"], rates["on_time"]["denominator"]) == (1, 2)


def test_rehandling_round_lets_the_parts_reply_again(engine: Engine) -> None:
    """After an unsatisfied rating the parts are reopened: each may reply again in the new round,
    once; 按期答复率 still reads each part's first reply."""
    item_id = split_item(engine)
    reply_a(engine, item_id, M, "2026-05-10")
    reply_a(engine, item_id, W, "2026-05-11")
    assert engine.fire(item_id, "evaluate", actor=DEPUTY, result="unsatisfied", at=at("2026-05-20")).state == (
        "rehandling"
    )
    reply_b(engine, item_id, M, "2026-06-10")
    with pytest.raises(ValidationError, match="round 1"):
        reply_a(engine, item_id, M, "2026-06-11")
    assert reply_b(engine, item_id, W, "2026-06-12").state == "replied"
    got = engine.get(item_id)
    assert {a["unit"]: (a["reply"]["category"], a["reply"]["round"]) for a in got.assignments} == {
        M: ("B", 1),
        W: ("B", 1),
    }
    assert {a["unit"]: a["reply"]["first_at"][:10] for a in got.assignments} == {M: "2026-05-09", W: "2026-05-10"}
    summary = engine.report("followup", now=at("2026-07-01")).data["summary"]
    assert summary["grades"] == {"A": 0, "B": 2, "C": 0, "D": 0}
    assert (summary["rates"]["on_time"]["numerator"], summary["rates"]["on_time"]["denominator"]) == (2, 2)


def test_ordinary_item_counts_once(engine: Engine) -> None:
    """An item with one lead unit counts once in the mix, from its own category."""
    item = suggestion(engine)
    engine.fire(item.id, "register", at=at("2026-03-21", 0))
    engine.fire(item.id, "assign", lead_unit=M, at=at("2026-03-21", 2))
    engine.fire(item.id, "accept", actor=unit(M), at=at("2026-03-22"))
    reply_a(engine, item.id, M, "2026-05-10")
    assert engine.get(item.id).data["category"] == "A"
    summary = engine.report("followup", now=at("2026-06-01")).data["summary"]
    assert summary["grades"] == {"A": 1, "B": 0, "C": 0, "D": 0}
    assert (summary["rates"]["on_time"]["numerator"], summary["rates"]["on_time"]["denominator"]) == (1, 1)
