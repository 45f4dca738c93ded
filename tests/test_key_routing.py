"""重点督办: a key item's 督办领导 and 包案领导 levels go to the leaders designated on the item."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import review_opinion, to_handling
from routing_helpers import addressed_engine, sent

from workflow import Actor, Engine
from workflow.testing import FakeClock

LEAD = "市交通运输局"
LEADER = Actor("leader")
# Level 3 of the reply ladder (15 working days after the 06-22 due date): 07:30 Beijing on 2026-07-14.
LATE = dt.datetime(2026, 7, 13, 23, 30, tzinfo=dt.UTC)


@pytest.fixture
def eng(db_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[Engine]:
    engine = addressed_engine(db_url, clock, tmp_path / "outbox")
    yield engine
    engine.close()


def letters(eng: Engine, item_id: int) -> set[tuple[str, str]]:
    return {(r, a) for r, a in sent(eng, item_id, "supervision_letter") if r in ("supervising_leader", "case_leader")}


def test_a_key_items_case_leader_is_the_one_named_on_the_item(eng: Engine) -> None:
    """designate_key names 刘副主任 (督办) and 陈主任 (包案): level 3 goes to them, not the unit's 包案领导."""
    item = to_handling(eng)
    eng.fire(item.id, "designate_key", actor=LEADER, supervising_leader="刘副主任", case_leader="陈主任")
    eng.sweep(now=LATE)
    assert letters(eng, item.id) == {
        ("supervising_leader", "刘副主任@rd.gov.cn"),
        ("case_leader", "陈主任@rd.gov.cn"),
    }


def test_a_key_item_naming_no_case_leader_falls_back_to_the_units(eng: Engine) -> None:
    """A key item with only a 督办领导: the 包案领导 level goes to the unit's own case leader."""
    item = to_handling(eng)
    eng.fire(item.id, "designate_key", actor=LEADER, supervising_leader="刘副主任")
    eng.sweep(now=LATE)
    assert letters(eng, item.id) == {
        ("supervising_leader", "刘副主任@rd.gov.cn"),
        ("case_leader", f"case_leader@{LEAD}"),
    }


def test_an_ordinary_item_goes_to_the_units_case_leader_and_the_office(eng: Engine) -> None:
    """Not designated: 包案领导 is the unit's, 督办领导 falls back to the office."""
    item = to_handling(eng)
    eng.sweep(now=LATE)
    routed = {(r, a) for r, a in sent(eng, item.id, "supervision_letter")}
    assert ("case_leader", f"case_leader@{LEAD}") in routed and ("office", "office@rd.gov.cn") in routed


def test_a_designated_leader_without_an_address_is_an_incident_and_the_office_is_told(eng: Engine) -> None:
    """A named 包案领导 with no address: the office receives it in the leader's name, nothing is lost."""
    item = to_handling(eng)
    eng.fire(item.id, "designate_key", actor=LEADER, supervising_leader="刘副主任", case_leader="赵主任")
    eng.sweep(now=LATE)
    assert ("case_leader", "office@rd.gov.cn") in letters(eng, item.id)


def test_review_opinions_can_be_key_items_routed_to_their_leaders(eng: Engine) -> None:
    """A review opinion designated key: its 督办领导 level goes to the leader named on it, and the
    report's key-item ledger shows both leaders."""
    item = review_opinion(eng)
    eng.fire(item.id, "designate_key", actor=LEADER, supervising_leader="刘副主任", case_leader="陈主任")
    assert eng.get(item.id).key_supervised
    eng.sweep(now=dt.datetime(2026, 5, 6, 23, 0, tzinfo=dt.UTC))  # plan due 04-20; level 2 five working days on
    assert ("supervising_leader", "刘副主任@rd.gov.cn") in letters(eng, item.id)
    ledger = eng.report(year=2026).data["key_items"]
    assert [(k["supervising_leader"], k["case_leader"]) for k in ledger] == [("刘副主任", "陈主任")]
