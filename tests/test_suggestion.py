"""The suggestion lifecycle (代表建议), stage by stage, as DOMAIN.md describes it."""

from __future__ import annotations

import pytest
from conftest import snapshot, suggestion, to_handling, to_replied, unit

from workflow import Actor, Engine, InvalidTransition, NotFound, PermissionDenied, ValidationError

LEAD, CO = unit("市交通运输局"), unit("市民政局")


def test_joint_item_needs_a_lead_deputy_among_its_proposers(engine: Engine) -> None:
    """A jointly signed suggestion names its lead deputy (领衔代表), who must be one of the proposers."""
    with pytest.raises(ValidationError) as caught:
        suggestion(engine, proposers=["王芳", "李强"])
    assert caught.value.field == "lead_deputy"
    with pytest.raises(ValidationError, match="not among the proposers"):
        suggestion(engine, proposers=["王芳", "李强"], lead_deputy="张三")
    with pytest.raises(
        ValidationError, match=r"origin: must be one of 大会期间 \(session\), 闭会期间 \(between_sessions\)"
    ):
        suggestion(engine, origin="someday")
    assert suggestion(engine, proposers=["王芳", "李强"], lead_deputy="李强").data["lead_deputy"] == "李强"


def test_deputy_may_submit_only_as_a_proposer(engine: Engine) -> None:
    """A deputy submits their own suggestion; submitting in others' names is denied."""
    own = suggestion(engine, actor=Actor("deputy", "王芳"))
    assert own.state == "submitted"
    with pytest.raises(PermissionDenied):
        suggestion(engine, actor=Actor("deputy", "李强"))


def test_rejection_records_its_reason_and_is_final(engine: Engine) -> None:
    """不予立案 needs one of the three reasons, keeps it on the item, and nothing can follow but 作废."""
    item = suggestion(engine)
    with pytest.raises(
        ValidationError,
        match=r"个人事项 \(personal_matter\), 转交来信 \(forwarded_letter\), 无实质内容 \(no_substance\)",
    ):
        engine.fire(item.id, "reject", reason="boring")
    rejected = engine.fire(item.id, "reject", reason="forwarded_letter")
    assert (rejected.state, rejected.data["reason"]) == ("rejected", "forwarded_letter")
    # Only void (作废, an item entered by mistake) follows a final state, to another final one.
    with pytest.raises(InvalidTransition, match=r"triggers allowed there: void$"):
        engine.fire(item.id, "register")


def test_assignment_to_lead_and_co_units_and_signing(engine: Engine) -> None:
    """Handling starts when the lead unit signs (签收); co-units sign without moving the item."""
    item = suggestion(engine)
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", lead_unit="市交通运输局", co_units=["市民政局", "市住房和城乡建设局"])
    assert engine.fire(item.id, "accept", actor=CO).state == "assigned"
    assert engine.fire(item.id, "accept", actor=LEAD).state == "handling"
    assert engine.fire(item.id, "accept", actor=unit("市住房和城乡建设局")).state == "handling"
    roles = {a["unit"]: (a["role"], a["state"]) for a in engine.get(item.id).assignments}
    assert roles == {
        "市交通运输局": ("lead", "accepted"),
        "市民政局": ("co", "accepted"),
        "市住房和城乡建设局": ("co", "accepted"),
    }


def test_assignment_rejects_inconsistent_units(engine: Engine) -> None:
    """A unit cannot be lead and co at once; 分办 needs two units and excludes a single lead unit."""
    item = suggestion(engine)
    engine.fire(item.id, "register")
    before = snapshot(engine)
    cases = [
        ({"lead_unit": "市民政局", "co_units": ["市民政局"]}, "co_units[0]"),
        ({"lead_unit": "市民政局", "split_units": ["市交通运输局", "市住房和城乡建设局"]}, "lead_unit"),
        ({"split_units": ["市交通运输局"]}, "split_units"),
        ({"co_units": ["市交通运输局"]}, "lead_unit"),
        ({"lead_unit": "市民政局", "co_units": ["市交通运输局", "市交通运输局"]}, "co_units[1]"),
    ]
    for fields, field in cases:
        with pytest.raises(ValidationError) as caught:
            engine.fire(item.id, "assign", **fields)
        assert caught.value.field == field, fields
    assert snapshot(engine) == before


def test_reassignment_request_approved_moves_the_item_to_the_new_unit(engine: Engine) -> None:
    """A wrongly assigned unit asks for reassignment; on approval the old assignment is released."""
    item = suggestion(engine)
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", lead_unit="市交通运输局")
    engine.fire(item.id, "request_reassignment", actor=LEAD, reason="属交警职责")
    moved = engine.fire(item.id, "reassign", lead_unit="市公安局交通警察支队")
    assert moved.state == "assigned"
    active = [(a["unit"], a["active"], a["state"]) for a in engine.get(item.id).assignments]
    assert active == [("市交通运输局", False, "released"), ("市公安局交通警察支队", True, "assigned")]
    with pytest.raises(PermissionDenied):
        engine.fire(item.id, "accept", actor=LEAD)
    assert engine.fire(item.id, "accept", actor=unit("市公安局交通警察支队")).state == "handling"


def test_reassignment_refused_returns_the_item_to_the_unit(engine: Engine) -> None:
    """A refused request puts the unit's assignment back to assigned; it must then sign."""
    item = suggestion(engine)
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", lead_unit="市交通运输局")
    engine.fire(item.id, "request_reassignment", actor=LEAD, reason="不属于本单位")
    assert engine.get(item.id).assignments[0]["state"] == "reassignment_requested"
    assert engine.fire(item.id, "refuse_reassignment", reason="属本单位职责").state == "assigned"
    assert engine.get(item.id).assignments[0]["state"] == "assigned"


def test_contacts_keep_the_state_and_are_logged(engine: Engine) -> None:
    """record_contact (办前/办中/办后) does not change the state but is stored and audited."""
    item = to_handling(engine)
    after = engine.fire(
        item.id, "record_contact", actor=LEAD, stage="before", method="visit", contacted_on="2026-03-19", note="走访"
    )
    assert after.state == "handling"
    detail = engine.get(item.id)
    assert [(c["unit"], c["stage"], str(c["contacted_on"])) for c in detail.contacts] == [
        ("市交通运输局", "before", "2026-03-19")
    ]
    assert detail.history[-1].trigger == "record_contact" and detail.history[-1].source == detail.history[-1].dest


def test_lead_unit_replies_only_after_every_co_unit_opinion(engine: Engine) -> None:
    """The lead unit's reply waits for each co-unit's opinion (协办意见)."""
    item = to_handling(engine, co_units=("市民政局", "市住房和城乡建设局"))
    engine.fire(item.id, "submit_co_opinion", actor=CO, opinion="同意")
    with pytest.raises(ValidationError, match="市住房和城乡建设局"):
        engine.fire(item.id, "reply", actor=LEAD, category="A", text="t", signer="s")
    with pytest.raises(PermissionDenied):
        engine.fire(item.id, "submit_co_opinion", actor=LEAD, opinion="我是主办")
    engine.fire(item.id, "submit_co_opinion", actor=unit("市住房和城乡建设局"), opinion="同意")
    assert engine.fire(item.id, "reply", actor=LEAD, category="A", text="t", signer="s").state == "replied"


def test_extension_request_and_approval(engine: Engine) -> None:
    """A lead unit asks for more time; the office approves (period kept) or refuses."""
    item = to_handling(engine)
    with pytest.raises(ValidationError, match="cannot read the period"):
        engine.fire(item.id, "request_extension", actor=LEAD, reason="r", period="a while")
    assert (
        engine.fire(item.id, "request_extension", actor=LEAD, reason="需勘察", period="1个月").state
        == "extension_requested"
    )
    approved = engine.fire(item.id, "approve_extension", period="1 month")
    assert (approved.state, approved.data["period"]) == ("handling", "1 month")
    engine.fire(item.id, "request_extension", actor=LEAD, reason="again", period="2 months")
    assert engine.fire(item.id, "refuse_extension", reason="不予延期").state == "handling"


def test_b_and_c_replies_record_promises_with_dates(engine: Engine) -> None:
    """A B or C reply carries promises (承诺事项) into the promise ledger, dated and open."""
    item = to_replied(
        engine,
        category="B",
        promises=[{"what": "加密班次", "by": "2026-10-31"}, {"what": "新开线路", "by": "2027-03-31"}],
    )
    assert item.data["category"] == "B"
    promises = engine.get(item.id).promises
    assert [(p["what"], str(p["by"]), p["status"], p["unit"]) for p in promises] == [
        ("加密班次", "2026-10-31", "open", "市交通运输局"),
        ("新开线路", "2027-03-31", "open", "市交通运输局"),
    ]


def test_promise_dated_before_the_reply_is_refused(engine: Engine) -> None:
    """A promise cannot be due before the reply that makes it."""
    item = to_handling(engine)
    engine.fire(item.id, "submit_co_opinion", actor=CO, opinion="同意")
    with pytest.raises(ValidationError) as caught:
        engine.fire(
            item.id,
            "reply",
            actor=LEAD,
            category="C",
            text="t",
            signer="s",
            promises=[{"what": "x", "by": "2020-01-01"}],
        )
    assert caught.value.field == "promises[0].by"


def test_unsatisfied_rating_sends_the_item_back_for_another_round(engine: Engine) -> None:
    """不满意 → re-handling with the round counter up; the next reply can then be rated satisfied."""
    item = to_replied(engine)
    rehandled = engine.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="unsatisfied", comment="未解决")
    assert (rehandled.state, rehandled.round) == ("rehandling", 1)
    assert engine.get(item.id).assignments[0]["state"] == "accepted"
    engine.fire(item.id, "reply", actor=LEAD, category="A", text="已解决", signer="局长")
    rated = engine.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="satisfied")
    assert (rated.state, rated.round, rated.data["result"]) == ("evaluated", 1, "satisfied")
    assert engine.fire(item.id, "close").state == "closed"


def test_rehandling_can_move_to_another_unit(engine: Engine) -> None:
    """In re-handling the office may hand the item to another unit (e.g. the unit's superior)."""
    item = to_replied(engine)
    engine.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="unsatisfied")
    assert engine.fire(item.id, "reassign", lead_unit="市人民政府").state == "rehandling"
    assert (
        engine.fire(item.id, "reply", actor=unit("市人民政府"), category="A", text="t", signer="s").state == "replied"
    )


def test_follow_up_review_verifies_promises_and_reopens(engine: Engine) -> None:
    """After closing, a promise is checked (kept/broken); a broken one reopens the item for a new round."""
    item = to_replied(engine, category="B", promises=[{"what": "加密班次", "by": "2026-10-31"}])
    engine.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="basically_satisfied")
    engine.fire(item.id, "close")
    promise = engine.get(item.id).promises[0]["id"]
    with pytest.raises(ValidationError, match="has no promise 9999"):
        engine.fire(item.id, "verify_commitment", promise=9999, outcome="kept")
    assert engine.fire(item.id, "verify_commitment", promise=promise, outcome="broken").state == "closed"
    assert engine.get(item.id).promises[0]["status"] == "broken"
    reopened = engine.fire(item.id, "reopen", actor=Actor("leader"), reason="承诺未落实")
    assert (reopened.state, reopened.round) == ("rehandling", 1)


def test_withdrawal_by_the_lead_deputy(engine: Engine) -> None:
    """The lead deputy may withdraw the item before it is replied; another deputy may not (to them the
    item does not exist)."""
    item = to_handling(engine)
    with pytest.raises(NotFound):
        engine.fire(item.id, "withdraw", actor=Actor("deputy", "李强"))
    assert engine.fire(item.id, "withdraw", actor=Actor("deputy", "王芳"), reason="已解决").state == "withdrawn"


def test_key_supervised_designation(engine: Engine) -> None:
    """A leader designates a key supervised item (重点督办) with its supervising leader; the state stays."""
    item = to_handling(engine)
    with pytest.raises(PermissionDenied):
        engine.fire(item.id, "designate_key", supervising_leader="刘副主任")
    key = engine.fire(
        item.id, "designate_key", actor=Actor("leader"), supervising_leader="刘副主任", case_leader="张局长"
    )
    assert (key.state, key.key_supervised, key.data["supervising_leader"]) == ("handling", True, "刘副主任")
    assert [i.id for i in engine.items(key_supervised=True)] == [item.id]


def test_split_item_is_replied_when_every_part_is(engine: Engine) -> None:
    """分办: each unit replies its own part; the item is replied after the last part."""
    item = suggestion(engine)
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", split_units=["市民政局", "市卫生健康委员会"])
    assert engine.fire(item.id, "accept", actor=unit("市民政局")).state == "assigned"
    assert engine.fire(item.id, "accept", actor=unit("市卫生健康委员会")).state == "handling"
    first = engine.fire(item.id, "reply", actor=unit("市民政局"), category="A", text="民政部分", signer="s")
    assert first.state == "handling"
    with pytest.raises(InvalidTransition):
        engine.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="satisfied")
    assert (
        engine.fire(item.id, "reply", actor=unit("市卫生健康委员会"), category="A", text="卫健部分", signer="s").state
        == "replied"
    )
