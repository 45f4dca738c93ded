"""The review-opinion lifecycle (审议意见): two lists, report, vote, second review, accountability."""

from __future__ import annotations

import pytest
from conftest import review_opinion, snapshot, unit

from workflow import Actor, Engine, PermissionDenied, ValidationError

GOV, COMMITTEE, LEADER = unit("市人民政府"), Actor("committee"), Actor("leader")


def plan(n: int) -> list[dict[str, object]]:
    return [
        {"problem": k, "measure": f"措施{k}", "owner": "市公安局交通警察支队", "due": "2026-10-31"}
        for k in range(1, n + 1)
    ]


def to_deliberated(eng: Engine) -> int:
    item = review_opinion(eng, problems=2)
    eng.fire(item.id, "submit_rectification_plan", actor=GOV, measures=plan(2))
    eng.fire(
        item.id,
        "submit_report",
        actor=GOV,
        text="报告",
        consulted_committee="监察和司法委员会",
        consulted_on="2026-03-15",
    )
    eng.fire(item.id, "deliberate", actor=COMMITTEE)
    return item.id


def test_approval_and_handover_with_the_problem_list(engine: Engine) -> None:
    """The 主任会议 approves; the office hands the opinion over with a numbered problem list."""
    item = engine.submit("review_opinion", title="关于食品安全工作的审议意见", basis="work_report")
    with pytest.raises(PermissionDenied):
        engine.fire(item.id, "approve")
    engine.fire(item.id, "approve", actor=LEADER)
    with pytest.raises(ValidationError) as caught:
        engine.fire(item.id, "assign", lead_unit="市人民政府", problems=[])
    assert caught.value.field == "problems"
    handed = engine.fire(
        item.id, "assign", lead_unit="市人民政府", problems=[{"title": "抽检覆盖不足"}, {"title": "执法力量薄弱"}]
    )
    assert handed.state == "assigned"
    assert [(p["number"], p["title"], p["status"]) for p in engine.get(item.id).problems] == [
        (1, "抽检覆盖不足", "open"),
        (2, "执法力量薄弱", "open"),
    ]


def test_rectification_plan_must_cover_every_problem_once(engine: Engine) -> None:
    """The rectification list (整改清单) gives each problem exactly one measure, owner and date."""
    item = review_opinion(engine, problems=3)
    before = snapshot(engine)
    for measures, field in (
        (plan(2), "measures"),
        ([*plan(3), plan(1)[0]], "measures[3].problem"),
        ([*plan(2), {**plan(1)[0], "problem": 7}], "measures[2].problem"),
    ):
        with pytest.raises(ValidationError) as caught:
            engine.fire(item.id, "submit_rectification_plan", actor=GOV, measures=measures)
        assert caught.value.field == field
    assert snapshot(engine) == before
    assert engine.fire(item.id, "submit_rectification_plan", actor=GOV, measures=plan(3)).state == "rectifying"
    assert {p["status"] for p in engine.get(item.id).problems} == {"planned"}


def test_each_problem_is_tracked_to_its_own_closure(engine: Engine) -> None:
    """Problems move to in progress, rectified and closed one by one, whatever the opinion's state."""
    item = review_opinion(engine, problems=2)
    engine.fire(item.id, "submit_rectification_plan", actor=GOV, measures=plan(2))
    engine.fire(item.id, "update_problem", actor=GOV, problem=1, status="rectified", note="已整改")
    with pytest.raises(ValidationError, match="has no problem 5"):
        engine.fire(item.id, "update_problem", actor=GOV, problem=5, status="rectified")
    with pytest.raises(PermissionDenied):
        engine.fire(item.id, "close_problem", actor=GOV, problem=1)
    engine.fire(item.id, "close_problem", actor=COMMITTEE, problem=1)
    assert [p["status"] for p in engine.get(item.id).problems] == ["closed", "planned"]


def test_report_requires_consulting_the_committee(engine: Engine) -> None:
    """The written report names the committee consulted on its draft (监督法 第17条) and when."""
    item = review_opinion(engine, problems=1)
    engine.fire(item.id, "submit_rectification_plan", actor=GOV, measures=plan(1))
    with pytest.raises(ValidationError) as caught:
        engine.fire(item.id, "submit_report", actor=GOV, text="报告")
    assert caught.value.field == "consulted_committee"


@pytest.mark.parametrize(
    ("votes", "state"),
    [
        ((10, 8, 21), "vote_failed"),
        ((10, 9, 19), "vote_passed"),
        ((30, 7, 2), "vote_passed"),
        ((0, 0, 1), "vote_failed"),
    ],
)
def test_vote_is_unsatisfactory_when_unsatisfied_exceed_half(
    engine: Engine, votes: tuple[int, int, int], state: str
) -> None:
    """不满意 more than half of the votes cast fails the vote; exactly half passes."""
    item_id = to_deliberated(engine)
    s, b, u = votes
    voted = engine.fire(item_id, "vote", actor=COMMITTEE, satisfied=s, basically_satisfied=b, unsatisfied=u)
    assert voted.state == state
    assert engine.get(item_id).votes[0]["result"] == ("unsatisfactory" if state == "vote_failed" else "satisfactory")


def test_vote_threshold_is_a_parameter(db_url: str, clock: object) -> None:
    """A jurisdiction may set the unsatisfactory share (e.g. 40%) without editing the lifecycle."""
    from workflow import Engine as E

    eng = E(db_url, parameters={"review_opinion": {"unsatisfactory_share": 0.4}})
    eng.add_party("unit", "市人民政府")
    item_id = to_deliberated(eng)
    assert (
        eng.fire(item_id, "vote", actor=COMMITTEE, satisfied=10, basically_satisfied=9, unsatisfied=19).state
        == "vote_failed"
    )
    eng.close()


def test_negative_or_empty_votes_are_refused(engine: Engine) -> None:
    """Counts must be whole numbers ≥ 0 and at least one vote must be cast."""
    item_id = to_deliberated(engine)
    before = snapshot(engine)
    with pytest.raises(ValidationError) as caught:
        engine.fire(item_id, "vote", actor=COMMITTEE, satisfied=10, basically_satisfied=-1, unsatisfied=2)
    assert caught.value.field == "basically_satisfied" and "at least 0" in str(caught.value)
    with pytest.raises(ValidationError, match="no votes were cast"):
        engine.fire(item_id, "vote", actor=COMMITTEE, satisfied=0, basically_satisfied=0, unsatisfied=0)
    with pytest.raises(ValidationError, match="whole number"):
        engine.fire(item_id, "vote", actor=COMMITTEE, satisfied="many", basically_satisfied=0, unsatisfied=0)
    assert snapshot(engine) == before


def test_failed_vote_leads_to_second_review_and_a_new_report(engine: Engine) -> None:
    """二次审议: a failed vote orders a second review; the body reports again and is voted again."""
    item_id = to_deliberated(engine)
    engine.fire(item_id, "vote", actor=COMMITTEE, satisfied=5, basically_satisfied=5, unsatisfied=20)
    second = engine.fire(item_id, "order_second_review", actor=LEADER, reason="整改不到位")
    assert (second.state, second.round) == ("second_review", 1)
    engine.fire(
        item_id,
        "submit_report",
        actor=GOV,
        text="再报告",
        consulted_committee="监察和司法委员会",
        consulted_on="2026-03-20",
    )
    engine.fire(item_id, "deliberate", actor=COMMITTEE)
    engine.fire(item_id, "vote", actor=COMMITTEE, satisfied=25, basically_satisfied=10, unsatisfied=3)
    assert engine.fire(item_id, "close").state == "closed"
    assert [(v["round"], v["result"]) for v in engine.get(item_id).votes] == [
        (0, "unsatisfactory"),
        (1, "satisfactory"),
    ]


def test_accountability_after_a_failed_vote_then_close_and_reopen(engine: Engine) -> None:
    """A failed vote may be referred for accountability (追责问效); closed opinions reopen for follow-up."""
    item_id = to_deliberated(engine)
    engine.fire(item_id, "vote", actor=COMMITTEE, satisfied=1, basically_satisfied=1, unsatisfied=30)
    referred = engine.fire(
        item_id, "refer_accountability", actor=LEADER, reason="连续不满意", referred_to="市监察委员会"
    )
    assert (referred.state, referred.data["referred_to"]) == ("accountability", "市监察委员会")
    engine.fire(item_id, "close")
    assert engine.fire(item_id, "reopen", reason="跟踪监督").state == "rectifying"
