"""Mistakes undone the office's way: an item voided (作废) leaves every figure, ledger, listing and clock
but stays in the audit; a wrongly recorded contact, promise, rating or vote is corrected by an event of
its own that keeps the original in the audit and changes the figures computed from it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from conftest import T0, review_opinion, snapshot, suggestion, to_handling, to_replied, unit

from workflow import Actor, Engine, InvalidTransition, PermissionDenied, ValidationError
from workflow.audit_export import export
from workflow.cli import main
from workflow.testing import FakeClock

LATER = T0 + dt.timedelta(days=400)  # past every clock's due date and escalation ladder


def _figures(eng: Engine) -> dict[str, Any]:
    d = eng.report("followup", now=LATER).data
    s = d["summary"]
    return {
        "items": s["items"],
        "stages": {(x["kind"], x["state"]): x["count"] for x in s["by_stage"]},
        "rates": {k: (v["numerator"], v["denominator"]) for k, v in s["rates"].items()},
        "grades": s["grades"],
        "ledgers": {k: sorted(r.get("item_id", 0) for r in v) for k, v in d.items() if isinstance(v, list)},
        "data": d,
    }


def _evaluated(eng: Engine, result: str = "satisfied", attitude: str = "satisfied") -> int:
    item = to_replied(eng)
    eng.fire(item.id, "evaluate", result=result, attitude=attitude)
    return item.id


def _item_ids(data: dict[str, Any]) -> set[int]:
    """Every item id anywhere in the report's data."""
    found: set[int] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if isinstance(v.get("item_id"), int):
                found.add(v["item_id"])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(data)
    return found


@pytest.mark.parametrize("state", ["submitted", "rejected", "handling", "replied", "closed", "withdrawn"])
def test_a_voided_item_leaves_every_figure_whatever_its_state(engine: Engine, state: str) -> None:
    """An item voided in any state, a final one included (a closed or withdrawn item's figures may already
    have been reported), drops out of the report by exactly itself: the item count, the stage counts, the
    rates, the A/B/C/D mix and every ledger are what they were without it."""
    keep = _evaluated(engine)
    engine.fire(keep, "close")
    before = _figures(engine)
    if state in ("submitted", "rejected", "withdrawn"):
        item = suggestion(engine, title="重复录入的建议")
        if state == "rejected":
            engine.fire(item.id, "reject", reason="no_substance")
        elif state == "withdrawn":
            engine.fire(item.id, "register")
            engine.fire(item.id, "withdraw", reason="代表撤回")
    elif state == "handling":
        item = to_handling(engine)
        engine.fire(item.id, "record_contact", actor=unit("市交通运输局"), stage="before", method="visit")
    else:
        item = to_replied(engine, category="B", promises=[{"what": "年内完成", "by": "2026-12-31"}])
        if state == "closed":
            engine.fire(item.id, "evaluate", result="basically_satisfied", attitude="unsatisfied")
            engine.fire(item.id, "close")
    with_it = _figures(engine)
    assert with_it["items"] == before["items"] + 1
    engine.fire(item.id, "void", reason="重复录入")
    after = _figures(engine)
    assert {k: v for k, v in after.items() if k != "data"} == {k: v for k, v in before.items() if k != "data"}
    assert item.id not in _item_ids(after["data"])
    assert engine.get(item.id).state == "voided"


def test_voiding_stops_every_clock_and_no_notice_follows(engine: Engine) -> None:
    """A voided item's open deadlines (reply, co-opinion, promises) are stopped at once; a sweep long after
    their due dates sends no reminder and no escalation about it and writes nothing to its history."""
    item = to_replied(engine, category="B", promises=[{"what": "年内完成", "by": "2026-06-30"}])
    open_item = to_handling(engine)
    assert engine.deadlines(item=item.id) and engine.deadlines(item=open_item.id)
    for target in (item.id, open_item.id):
        engine.fire(target, "void", reason="误录")
    assert engine.deadlines(item=item.id) == [] and engine.deadlines(item=open_item.id) == []
    stopped = engine.deadlines(item=open_item.id, state="stopped")
    assert {d["clock"] for d in stopped} >= {"reply", "co_opinion"}
    notices = {i: len(engine.outbox(item=i)) for i in (item.id, open_item.id)}
    history = {i: len(engine.get(i).history) for i in (item.id, open_item.id)}
    result = engine.sweep(LATER, dispatch=False)
    assert result.counts.get("reminders", 0) == 0 and result.counts.get("escalations", 0) == 0
    assert {i: len(engine.outbox(item=i)) for i in notices} == notices
    assert {i: len(engine.get(i).history) for i in history} == history


def test_voiding_twice_is_refused_and_writes_nothing(engine: Engine) -> None:
    """A voided item stays voided: voiding it again is an InvalidTransition that says it is already
    voided, and no row of any table changes."""
    item = suggestion(engine)
    engine.fire(item.id, "void", reason="重复录入")
    before = snapshot(engine)
    with pytest.raises(InvalidTransition, match="stays voided") as caught:
        engine.fire(item.id, "void", reason="再次作废")
    assert "voided" in str(caught.value)
    assert snapshot(engine) == before


def test_only_the_office_voids_and_a_reason_is_required(engine: Engine) -> None:
    """A unit, a deputy or a leader may not void an item (PermissionDenied naming the office); the
    office must give a reason. Neither refusal writes anything."""
    item = to_handling(engine)
    before = snapshot(engine)
    for actor in (unit("市交通运输局"), Actor("deputy", "王芳"), Actor("leader")):
        with pytest.raises(PermissionDenied, match="office"):
            engine.fire(item.id, "void", actor=actor, reason="误录")
    with pytest.raises(ValidationError) as missing:
        engine.fire(item.id, "void")
    assert missing.value.field == "reason"
    assert snapshot(engine) == before


def test_voided_items_are_listed_only_when_asked(engine: Engine) -> None:
    """``Engine.items`` (and ``duban list``) leave voided items out; ``voided=True`` or ``state="voided"``
    finds them, with the reason kept on the item. The report refuses ``state=voided``, naming the filter."""
    kept, voided = suggestion(engine), suggestion(engine, title="重复")
    engine.fire(voided.id, "void", reason="重复录入")
    assert [i.id for i in engine.items()] == [kept.id]
    assert [i.id for i in engine.items(voided=True)] == [kept.id, voided.id]
    found = engine.items(state="voided")
    assert [i.id for i in found] == [voided.id] and found[0].data["void_reason"] == "重复录入"
    assert found[0].state_label.startswith("已作废")
    with pytest.raises(ValidationError) as refused:
        engine.report("followup", state="voided")
    assert refused.value.field == "state" and "--voided" in refused.value.message


def test_audit_keeps_the_void_and_verify_passes(engine: Engine) -> None:
    """The void is one more audit row (who, when, from which state, the reason); the earlier rows are
    untouched, ``duban audit verify`` passes, and the audit export shows the void with its reason."""
    item = to_replied(engine)
    history = engine.get(item.id).history
    engine.fire(item.id, "void", reason="与第1号建议重复")
    after = engine.get(item.id).history
    assert after[: len(history)] == history
    last = after[-1]
    assert (last.trigger, last.source, last.dest, last.data["reason"]) == (
        "void",
        "replied",
        "voided",
        "与第1号建议重复",
    )
    assert engine.verify_audit() == []
    text = export(engine, item.id, "text")
    assert "作废 (误录事项)：已答复 → 已作废" in text and "与第1号建议重复" in text and "已作废" in text


def test_a_contact_correction_keeps_the_original_and_changes_the_contact_rate(engine: Engine) -> None:
    """A contact recorded as 办后 that was really 办前 is corrected by ``correct_contact``: the contact row
    changes (and with it 见面率), the original record_contact audit row is unchanged, the correction's own
    row holds the old and new values and the reason, and audit verify re-derives the row."""
    item = to_handling(engine)
    engine.fire(item.id, "record_contact", actor=unit("市交通运输局"), stage="after", method="phone")
    contact = engine.get(item.id).contacts[0]
    before = _figures(engine)["rates"]["contact"]
    original = engine.get(item.id).history[-1]
    engine.fire(item.id, "correct_contact", contact=contact["id"], stage="before", method="visit", reason="误录阶段")
    detail = engine.get(item.id)
    assert (detail.contacts[0]["stage"], detail.contacts[0]["method"]) == ("before", "visit")
    assert _figures(engine)["rates"]["contact"] == (before[0] + 1, before[1])
    assert original in detail.history
    row = detail.history[-1]
    assert row.trigger == "correct_contact" and row.data["was"] == {"stage": "after", "method": "phone"}
    assert (row.data["stage"], row.data["reason"]) == ("before", "误录阶段")
    assert engine.verify_audit() == []
    text = export(engine, item.id, "text")
    assert "更正联系记录：办理中 → 办理中" in text and "更正前：联系阶段：办后；联系方式：电话" in text


def test_a_rating_correction_changes_the_satisfaction_figure(engine: Engine) -> None:
    """A deputy's rating recorded wrong is corrected by ``correct_evaluation``: the 态度满意率 moves by that
    item, the original evaluate row stays, and audit verify passes. A correction that would change whether
    the item is re-handled (to or from 不满意) is refused, naming result."""
    first, second = _evaluated(engine), _evaluated(engine)
    assert _figures(engine)["rates"]["attitude"] == (2, 2)
    engine.fire(second, "correct_evaluation", attitude="unsatisfied", reason="征询意见表誊录错误")
    assert _figures(engine)["rates"]["attitude"] == (1, 2)
    assert engine.get(second).data["attitude"] == "unsatisfied"
    assert engine.get(second).history[-1].data["was"] == {"attitude": "satisfied"}
    before = snapshot(engine)
    with pytest.raises(ValidationError) as crossing:
        engine.fire(first, "correct_evaluation", result="unsatisfied", reason="误录")
    assert crossing.value.field == "result" and "reopen" in crossing.value.message
    assert snapshot(engine) == before
    assert engine.verify_audit() == []


def test_a_promise_correction_moves_its_deadline(engine: Engine) -> None:
    """``correct_promise`` corrects a promise's text or date; a corrected date moves the promise's open
    deadline with it, and the audit keeps the original date."""
    item = to_replied(engine, category="B", promises=[{"what": "年内完成", "by": "2026-12-31"}])
    promise = engine.get(item.id).promises[0]
    engine.fire(item.id, "correct_promise", promise=promise["id"], by="2026-10-30", reason="答复函日期誊录错误")
    detail = engine.get(item.id)
    assert detail.promises[0]["by"] == dt.date(2026, 10, 30)
    (deadline,) = [d for d in engine.deadlines(item=item.id) if d["clock"] == "promise"]
    assert deadline["due"] == dt.date(2026, 10, 30)  # a Friday: a working day, due on the day itself
    assert detail.history[-1].data["was"] == {"by": "2026-12-31"}
    assert engine.verify_audit() == []


def test_a_vote_correction_changes_the_ledger_and_keeps_the_result(engine: Engine) -> None:
    """A miscounted 满意度测评 is corrected by ``correct_vote``: the vote's counts in the review opinions'
    ledger change, the export shows the original counts and the correction; counts that would turn the
    result are refused naming the field, with nothing written."""
    item = review_opinion(engine, problems=1)
    lead = unit("市人民政府")
    engine.fire(
        item.id,
        "submit_rectification_plan",
        actor=lead,
        measures=[{"problem": 1, "measure": "整改", "owner": "市公安局", "due": "2026-06-30"}],
    )
    engine.fire(
        item.id, "submit_report", actor=lead, text="报告", consulted_committee="法制委", consulted_on="2026-03-25"
    )
    engine.fire(item.id, "deliberate", actor=Actor("committee"))
    engine.fire(item.id, "vote", actor=Actor("committee"), satisfied=30, basically_satisfied=5, unsatisfied=2)
    vote = engine.get(item.id).votes[0]
    engine.fire(item.id, "correct_vote", vote=vote["id"], satisfied=28, unsatisfied=4, reason="计票错误")
    (ledger,) = engine.report("followup", now=LATER).data["review_opinions"]
    assert [(v["satisfied"], v["basically_satisfied"], v["unsatisfied"]) for v in ledger["votes"]] == [(28, 5, 4)]
    before = snapshot(engine)
    with pytest.raises(ValidationError) as turned:
        engine.fire(item.id, "correct_vote", vote=vote["id"], unsatisfied=40, reason="计票错误")
    assert turned.value.field == "unsatisfied" and "void" in turned.value.message
    assert snapshot(engine) == before
    assert engine.verify_audit() == []
    text = export(engine, item.id, "text")
    assert "更正满意度测评票数：测评满意 → 测评满意" in text and "计票错误" in text
    assert "更正前：满意：30；不满意：2" in text


def test_a_correction_naming_no_row_of_the_item_is_refused(engine: Engine) -> None:
    """A correction whose id is not one of the item's rows (another item's, or none) is a ValidationError
    naming the field and listing the item's ids; one that corrects nothing names the field too; a
    non-office actor may not correct. Nothing is written."""
    item = to_handling(engine)
    other = to_handling(engine)
    engine.fire(other.id, "record_contact", actor=unit("市交通运输局"), stage="before", method="phone")
    engine.fire(item.id, "record_contact", actor=unit("市交通运输局"), stage="before", method="phone")
    mine, theirs = engine.get(item.id).contacts[0]["id"], engine.get(other.id).contacts[0]["id"]
    before = snapshot(engine)
    for bad in (theirs, 999):
        with pytest.raises(ValidationError) as caught:
            engine.fire(item.id, "correct_contact", contact=bad, stage="during", reason="误录")
        assert caught.value.field == "contact" and str(mine) in caught.value.message
    with pytest.raises(ValidationError) as nothing:
        engine.fire(item.id, "correct_contact", contact=mine, stage="before", reason="误录")
    assert nothing.value.field == "stage"
    with pytest.raises(PermissionDenied):
        engine.fire(item.id, "correct_contact", actor=unit("市交通运输局"), contact=mine, stage="during", reason="误录")
    assert snapshot(engine) == before


def test_cli_voids_with_a_reason_and_lists_voided_items_on_request(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``duban fire N void --set reason=重复录入`` voids the item; ``duban list`` then leaves it out and
    ``duban list --voided`` shows it; voiding it again exits 2 with one line saying it stays voided."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", db_url, *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    with Engine(db_url, clock=FakeClock(T0)) as eng:
        item = suggestion(eng)
    code, out, err = run("fire", str(item.id), "void", "--set", "reason=重复录入")
    assert code == 0, err
    assert "已作废" in out
    code, out, _ = run("list", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run("list", "--voided", "--json")
    assert [i["id"] for i in json.loads(out)] == [item.id]
    code, out, err = run("fire", str(item.id), "void", "--set", "reason=再次")
    assert code == 2 and "stays voided" in err and len(err.strip().splitlines()) == 1
