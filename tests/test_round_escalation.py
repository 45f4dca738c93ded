"""Each re-handling round climbs the chain: round 2's first notice goes to the department head,
round 3's to the principal leader, round 4's and later to the committee's leaders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import to_replied, unit
from routing_helpers import addressed_engine

from workflow import Actor, Engine
from workflow.clocks import climb
from workflow.testing import FakeClock

LEAD = "市交通运输局"
OFFICE = Actor("office")


def rounds(eng: Engine, n: int) -> int:
    """A suggestion evaluated unsatisfied *n* times (in round n of re-handling), the last at 04-30 23:30Z
    (05-01 07:30 Beijing): its re-handling reply is due 06-01, the 7-day reminder falls at 05-25 00:00."""
    item = to_replied(eng)
    base = dt.datetime(2026, 4, 1, 2, 0, tzinfo=dt.UTC)
    for r in range(n):
        at = base + dt.timedelta(days=r) if r < n - 1 else dt.datetime(2026, 4, 30, 23, 30, tzinfo=dt.UTC)
        eng.fire(item.id, "evaluate", actor=OFFICE, at=at, result="unsatisfied")
        if r < n - 1:
            reply = {"category": "A", "text": "再答复", "signer": "局长"}
            eng.fire(item.id, "reply", actor=unit(LEAD), at=at + dt.timedelta(hours=1), **reply)
    assert eng.get(item.id).round == n
    return item.id


def first_notice(eng: Engine, item_id: int) -> set[str]:
    eng.sweep(now=dt.datetime(2026, 5, 24, 16, 30, tzinfo=dt.UTC))  # 05-25 00:30 Beijing
    return {n["role"] for n in eng.outbox(item=item_id) if n["type"] == "reminder"}


@pytest.mark.parametrize(
    ("n", "roles"),
    [(1, {"handler"}), (2, {"department_head"}), (3, {"principal_leader"}), (5, {"office", "case_leader"})],
)
def test_each_round_starts_one_rung_higher(
    db_url: str, clock: FakeClock, tmp_path: Path, n: int, roles: set[str]
) -> None:
    """Round 1 reminds the handler; round 2 the department head; round 3 the principal leader; from
    round 4 the committee's 督办/包案 leaders (an ordinary item: the office and the unit's case leader)."""
    eng = addressed_engine(db_url, clock, tmp_path / "outbox")
    try:
        assert first_notice(eng, rounds(eng, n)) == roles
    finally:
        eng.close()


def test_the_parameter_turns_the_climb_off(db_url: str, clock: FakeClock, tmp_path: Path) -> None:
    """escalate_by_round: false keeps every round's first notice with the handler."""
    eng = addressed_engine(db_url, clock, tmp_path / "outbox", parameters={"suggestion": {"escalate_by_round": False}})
    try:
        assert first_notice(eng, rounds(eng, 3)) == {"handler"}
    finally:
        eng.close()


def test_climb_moves_each_recipient_up_and_stops_at_the_top() -> None:
    """The chain 承办人员 → 部门负责人 → 主要领导 → 督办/包案领导; office and deputies do not move."""
    assert climb(("handler",), 0) == ("handler",)
    assert climb(("department_head", "principal_leader"), 1) == (
        "principal_leader",
        "supervising_leader",
        "case_leader",
    )
    assert climb(("handler", "office"), 9) == ("supervising_leader", "case_leader", "office")
